/**
 * `cutFile`'s edges, each one step from the other answer: data ending exactly `CUT_STEP_BYTES` past the cut (one step)
 * or one byte further (two), told or found by reading; the first step durable before the second truncate starts (a
 * power loss that drops both unsynced size changes while the second one's zeroed block reaches the disk would leave
 * the zeroed damage with data far past it, which SimFS's crash images do not model, so only the durable length at the
 * second truncate shows it); a data end past the file's end (allowed: "a larger value than the truth is safe") never
 * lengthens the file; zero offsets and data ends are lengths like any other; and `durable: false` leaves the fsync to
 * the caller.
 */

import { describe, expect, it } from "vitest";
import { CUT_STEP_BYTES, cutFile } from "./cut-file.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/f";
const CUT = 10_000;
const STEP = CUT + CUT_STEP_BYTES;

/** A durable `size`-byte file, non-zero before `dataEnd` and zeros from there, cut as told. */
async function cut(size: number, dataEnd: number, offset: number, options: { durable: boolean; dataEnd?: number }) {
  const sim = SimFS.withDir("/w");
  const bytes = new Uint8Array(size);
  for (let i = 0; i < dataEnd; i++) bytes[i] = (i % 251) + 1;
  sim.writeFileSync(PATH, bytes);
  const lengths: number[] = [];
  const durableAtTruncate: number[] = [];
  let syncs = 0;
  sim.onOperation((e) => {
    if (e.path !== PATH) return;
    if (e.op === "truncate") {
      lengths.push(sim.readFileSync(PATH).byteLength);
      durableAtTruncate.push(sim.durableImage().readFileSync(PATH).byteLength);
    }
    if (e.op === "sync" || e.op === "datasync") syncs++;
  });
  const file = await sim.open(PATH, "readWrite");
  await cutFile(file, offset, options);
  await file.close();
  return { lengths, durableAtTruncate, syncs, after: sim.readFileSync(PATH).byteLength };
}

describe("cutFile at its edges", () => {
  it("data ending exactly CUT_STEP_BYTES past the cut is cut in one step, one byte more in two: read or told", async () => {
    for (const told of [false, true]) {
      const at = (dataEnd: number) =>
        cut(64 * 1024, dataEnd, CUT, { durable: true, ...(told ? { dataEnd } : {}) }).then((r) => r.lengths);
      expect(await at(STEP), `told: ${told}`).toEqual([CUT]);
      expect(await at(STEP + 1), `told: ${told}`).toEqual([STEP, CUT]);
    }
  });

  it("a lone non-zero byte exactly CUT_STEP_BYTES past the cut, found by reading, makes two steps", async () => {
    const sim = SimFS.withDir("/w");
    const bytes = new Uint8Array(64 * 1024);
    bytes.fill(1, 0, CUT + 10);
    bytes[STEP] = 1;
    sim.writeFileSync(PATH, bytes);
    let truncates = 0;
    sim.onOperation((e) => {
      if (e.op === "truncate" && e.path === PATH) truncates++;
    });
    const file = await sim.open(PATH, "readWrite");
    await cutFile(file, CUT, { durable: true });
    await file.close();
    expect(truncates).toBe(2);
  });

  it("the first step's length is durable before the second truncate", async () => {
    const { durableAtTruncate } = await cut(64 * 1024, 64 * 1024, CUT, { durable: true });
    expect(durableAtTruncate).toEqual([64 * 1024, STEP]);
  });

  it("a data end past the file's end cuts a short file in one step, never lengthening it", async () => {
    const { lengths, after } = await cut(CUT + 3000, CUT + 3000, CUT, { durable: true, dataEnd: 1 << 20 });
    expect(lengths).toEqual([CUT]);
    expect(after).toBe(CUT);
  });

  it("an offset of 0 and a data end of 0 are accepted", async () => {
    expect((await cut(5000, 5000, 0, { durable: true })).after).toBe(0);
    expect((await cut(64 * 1024, 0, CUT, { durable: true, dataEnd: 0 })).lengths).toEqual([CUT]);
  });

  it("without durable, a one-step cut syncs nothing (the caller's next fsync makes it durable)", async () => {
    const quiet = await cut(64 * 1024, CUT + 100, CUT, { durable: false });
    expect([quiet.lengths, quiet.syncs]).toEqual([[CUT], 0]);
    const durable = await cut(64 * 1024, CUT + 100, CUT, { durable: true });
    expect(durable.syncs).toBe(1);
  });
});
