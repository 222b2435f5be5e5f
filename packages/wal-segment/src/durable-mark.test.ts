import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import zlib from "node:zlib";
import { WalError } from "@lora/wal-codec";
import { afterEach, describe, expect, it } from "vitest";
import {
  DURABLE_MARK_FILE,
  DurableMarkReader,
  DurableMarkWriter,
  decodeDurableMark,
  encodeDurableMark,
  readDurableMark,
} from "./durable-mark.js";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SimFS } from "./testing/sim-fs.js";
import { interceptOpen } from "./testing/wrapped-fs.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("durable mark", () => {
  it("round-trips and rejects every torn or foreign variant", () => {
    const mark = { session: 2 ** 52 + 3, durableLsn: 2 ** 40 + 7, closed: true, sessionStartLsn: 2 ** 40 + 1 };
    const bytes = encodeDurableMark(mark);
    expect(bytes.byteLength).toBe(40);
    expect(decodeDurableMark(bytes)).toEqual(mark);
    for (let i = 0; i < bytes.byteLength; i++) {
      const bad = bytes.slice();
      bad[i] = (bad[i] as number) ^ 0x10;
      expect(decodeDurableMark(bad), `byte ${i} flipped`).toBeNull();
    }
    expect(decodeDurableMark(bytes.subarray(0, 39))).toBeNull();
    expect(decodeDurableMark(new Uint8Array(40))).toBeNull();
  });

  it("reads a version 1 mark (32 bytes, no session start: 0, unknown)", () => {
    const v1 = new Uint8Array(32);
    const view = new DataView(v1.buffer);
    v1.set([0x4c, 0x57, 0x44, 0x55, 0x52, 0x42, 0x4c, 0x01], 0);
    view.setUint32(8, 77, true);
    view.setUint32(16, 12, true);
    view.setUint32(24, 1, true);
    view.setUint32(28, zlib.crc32(v1.subarray(0, 28)), true);
    expect(decodeDurableMark(v1)).toEqual({ session: 77, durableLsn: 12, closed: true, sessionStartLsn: 0 });
    v1[20] = 1;
    expect(decodeDurableMark(v1)).toBeNull();
  });

  it("refuses values that are not safe integers", () => {
    expect(() => encodeDurableMark({ session: -1, durableLsn: 0, closed: false, sessionStartLsn: 0 })).toThrow(
      expect.objectContaining({ code: "WAL_ENCODE" }),
    );
    expect(() => encodeDurableMark({ session: 1, durableLsn: 2 ** 53, closed: false, sessionStartLsn: 0 })).toThrow(
      expect.objectContaining({ code: "WAL_ENCODE" }),
    );
  });

  it("a writer publishes only rising LSNs; a reader sees the last one, null with no file or a garbage file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lora-wal-mark-"));
    dirs.push(dir);
    const fs = createNodeFileSystem();
    expect(await readDurableMark(fs, dir)).toBeNull();
    const writer = await DurableMarkWriter.open(fs, dir, 4);
    writer.publish(5);
    writer.publish(3);
    expect(await readDurableMark(fs, dir)).toEqual({
      session: writer.session,
      durableLsn: 5,
      closed: false,
      sessionStartLsn: 4,
    });
    await writer.close(9);
    expect(await readDurableMark(fs, dir)).toEqual({
      session: writer.session,
      durableLsn: 9,
      closed: true,
      sessionStartLsn: 4,
    });
    const again = await DurableMarkWriter.open(fs, dir);
    expect(again.session).not.toBe(writer.session);
    await again.close(9);
    writeFileSync(join(dir, DURABLE_MARK_FILE), "garbage that is longer than thirty-two bytes of mark");
    expect(await readDurableMark(fs, dir)).toBeNull();
  });

  it("a reader answers null for a mark removed under it, and throws an open that fails for another reason", async () => {
    const sim = new SimFS();
    await sim.mkdirp("/log");
    const writer = await DurableMarkWriter.open(sim, "/log");
    writer.publish(5);
    await writer.close(5);
    let errno = "ENOENT";
    const fs = interceptOpen(sim, (path, mode, next) => {
      if (!path.endsWith(DURABLE_MARK_FILE)) return next(path, mode);
      return Promise.reject(new WalError("WAL_IO", `open ${path}: ${errno}`, { details: { errno, path } }));
    });
    const reader = new DurableMarkReader(fs, "/log");
    expect(await reader.read()).toBeNull(); // as if removed between its stat and its open
    errno = "EACCES";
    reader.reopen();
    await expect(reader.read()).rejects.toMatchObject({ code: "WAL_IO", details: { errno: "EACCES" } });
    await reader.close();
  });

  it("works through the seam on SimFS too", async () => {
    const fs = new SimFS();
    await fs.mkdirp("/log");
    const writer = await DurableMarkWriter.open(fs, "/log");
    writer.publish(11);
    await new Promise((r) => setTimeout(r, 0));
    expect((await readDurableMark(fs, "/log"))?.durableLsn).toBe(11);
    await writer.close(11);
  });

  it("refuses an LSN that is not a non-negative safe integer with nothing changed, and keeps publishing", async () => {
    const fs = new SimFS();
    await fs.mkdirp("/log");
    const writer = await DurableMarkWriter.open(fs, "/log");
    writer.publish(4);
    // NaN used to become the last published LSN: every later publish, and close, then failed to encode.
    for (const bad of [Number.NaN, -3, 1.5, 2 ** 53, "7" as never]) {
      expect(() => writer.publish(bad), String(bad)).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
    }
    await expect(writer.close(Number.NaN)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    writer.publish(9);
    await writer.close(10);
    expect(await readDurableMark(fs, "/log")).toMatchObject({ durableLsn: 10, closed: true });
  });

  for (const kind of ["node", "sim"] as const) {
    it(`a kept-open reader (${kind}) follows rewrites in place, knows no mark before there is one, and reopens a replaced file`, async () => {
      const dir = kind === "node" ? mkdtempSync(join(tmpdir(), "mark-reader-")) : "/d";
      if (kind === "node") dirs.push(dir);
      const fs = kind === "node" ? createNodeFileSystem() : new SimFS();
      if (kind === "sim") await fs.mkdirp(dir);
      const reader = new DurableMarkReader(fs, dir);
      expect(await reader.read()).toBeNull(); // no file yet
      const writer = await DurableMarkWriter.open(fs, dir);
      writer.publish(5);
      expect(await reader.read()).toBeNull(); // not looked for again until told (a watch event, a quiet interval)
      reader.reopen();
      expect(await reader.read()).toEqual({
        session: writer.session,
        durableLsn: 5,
        closed: false,
        sessionStartLsn: 0,
      });
      writer.publish(9);
      expect((await reader.read())?.durableLsn).toBe(9); // the same open file shows the rewrite
      await writer.close(12);
      expect(await reader.read()).toEqual({
        session: writer.session,
        durableLsn: 12,
        closed: true,
        sessionStartLsn: 0,
      });
      // Replaced: removed and created again by a new writer. The open file still shows the old inode until reopen().
      await fs.unlink(join(dir, DURABLE_MARK_FILE));
      const next = await DurableMarkWriter.open(fs, dir, 13);
      next.publish(20);
      expect((await reader.read())?.session).toBe(writer.session);
      reader.reopen();
      expect(await reader.read()).toEqual({
        session: next.session,
        durableLsn: 20,
        closed: false,
        sessionStartLsn: 13,
      });
      await next.close(20);
      await reader.close();
      expect(await reader.read()).toBeNull();
    });
  }
});
