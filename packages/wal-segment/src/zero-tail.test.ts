import { describe, expect, it } from "vitest";
import { SimFS } from "./testing/sim-fs.js";
import { dataEndOf, firstNonZero, isZeroRange, lastNonZero } from "./zero-tail.js";

describe("zero tails", () => {
  it("firstNonZero finds the first non-zero byte at every alignment and length", () => {
    const backing = new Uint8Array(64);
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length <= 40; length++) {
        const view = backing.subarray(start, start + length);
        expect(firstNonZero(view, length)).toBe(-1);
        for (let at = 0; at < length; at++) {
          view[at] = 0x80;
          if (at + 1 < length) view[length - 1] = 1;
          expect(firstNonZero(view, length), `start ${start}, length ${length}, at ${at}`).toBe(at);
          backing.fill(0);
        }
      }
    }
  });

  it("lastNonZero finds the last non-zero byte at every alignment and length", () => {
    const backing = new Uint8Array(64);
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length <= 40; length++) {
        const view = backing.subarray(start, start + length);
        expect(lastNonZero(view, length)).toBe(-1);
        for (let at = 0; at < length; at++) {
          view[at] = 0x80;
          if (at > 0) view[0] = 1;
          // Bytes past `length` are not looked at.
          if (start + length < backing.byteLength) backing[start + length] = 2;
          expect(lastNonZero(view, length), `start ${start}, length ${length}, at ${at}`).toBe(at);
          backing.fill(0);
        }
      }
    }
  });

  it("isZeroRange and dataEndOf read a file in chunks, holes reading as zeros", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const file = await fs.open("/w/f", "createExclusive");
    await file.write(Uint8Array.of(7, 0, 9), 100_000);
    await file.write(new Uint8Array(200_000), 100_003);
    const size = await file.size();
    expect(size).toBe(300_003);
    expect(await dataEndOf(file, size)).toBe(100_003);
    expect(await isZeroRange(file, 0, 100_000)).toBe(true);
    expect(await isZeroRange(file, 0, 100_001)).toBe(false);
    expect(await isZeroRange(file, 100_003, size)).toBe(true);
    expect(await isZeroRange(file, 100_003, size + 50)).toBe(true); // past the end: what there is was zeros
    expect(await dataEndOf(file, 100_002)).toBe(100_001);
    await file.close();
  });

  it("isZeroRange finds a lone non-zero byte anywhere in a range of several chunks", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const file = await fs.open("/w/f", "createExclusive");
    const from = 100;
    const to = from + 200_000;
    await file.write(new Uint8Array(to), 0);
    expect(await isZeroRange(file, from, to)).toBe(true);
    // Around every 4 KiB step from `from`, which includes the edges of any power-of-two chunk from 4 KiB up.
    let checked = 0;
    for (let step = 0; from + step < to; step += 4096) {
      for (const at of [from + step - 1, from + step, from + step + 1]) {
        if (at < from || at >= to) continue;
        await file.write(Uint8Array.of(1), at);
        expect(await isZeroRange(file, from, to), `non-zero byte at ${at}`).toBe(false);
        await file.write(Uint8Array.of(0), at);
        checked++;
      }
    }
    expect(checked).toBe(146);
    await file.close();
  });

  it("refuses an offset or size that is not a non-negative safe integer, before reading", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const file = await fs.open("/w/f", "createExclusive");
    await file.write(new Uint8Array([0, 0, 1]), 0);
    let reads = 0;
    const counted = new Proxy(file, {
      get(f, k) {
        if (k === "read") {
          return (...args: Parameters<typeof file.read>) => {
            reads++;
            return f.read(...args);
          };
        }
        const v = Reflect.get(f, k, f);
        return typeof v === "function" ? v.bind(f) : v;
      },
    });
    for (const bad of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY]) {
      await expect(isZeroRange(counted, bad, 3)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
      await expect(isZeroRange(counted, 0, bad)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
      await expect(dataEndOf(counted, bad)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    }
    expect(reads).toBe(0);
    expect(await isZeroRange(counted, 0, 3)).toBe(false);
    expect(reads).toBeGreaterThan(0);
    await file.close();
  });

  it("dataEndOf looks at the file down to its first byte", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const file = await fs.open("/w/f", "createExclusive");
    await file.write(new Uint8Array(70_000), 0);
    // Reads are counted and bounded: a scan that never reaches byte 0 fails here instead of running on.
    let reads = 0;
    const bounded = Object.assign(Object.create(file) as typeof file, {
      read: (...args: Parameters<typeof file.read>) => {
        if (++reads > 10) throw new Error("dataEndOf read more than 10 times");
        return file.read(...args);
      },
    });
    const dataEnd = async (size: number) => {
      reads = 0;
      return await dataEndOf(bounded, size);
    };
    expect(await dataEnd(70_000)).toBe(0);
    await file.write(Uint8Array.of(5), 0);
    expect(await dataEnd(70_000)).toBe(1);
    expect(await dataEnd(1)).toBe(1);
    expect(await dataEnd(0)).toBe(0);
    await file.close();
  });
});
