/**
 * The end of the LSN space. Recovery resumes at the newest record's LSN + 1, which must be a safe integer: a record
 * at `Number.MAX_SAFE_INTEGER` made the log unopenable (`WAL_MALFORMED`, "LSN space is exhausted"), acknowledged
 * commits and all. The handle allocates LSNs only up to one below it; past that every append is refused with
 * `WAL_ENCODE`, nothing written, and the log reopens with everything it acknowledged.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { RECOVERY_MODES } from "@lora/wal-replay";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const LAST = Number.MAX_SAFE_INTEGER;

async function open(fs: SimFS, checkpointLsn: number, recovery?: (typeof RECOVERY_MODES)[number]) {
  return await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn, ...(recovery ? { recovery } : {}) });
}

describe("the end of the LSN space", () => {
  it("a commit whose TxCommit would take the last safe integer is refused, and the log reopens", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await open(fs, LAST - 6);
    expect(await wal.commitTx(["fits"])).toEqual({ beginLsn: LAST - 5, commitLsn: LAST - 3 });
    await expect(wal.commitTx(["past"])).rejects.toMatchObject({ code: "WAL_ENCODE" });
    expect(wal.nextLsn()).toBe(LAST - 2);
    await wal.close();
    const again = await open(fs, LAST - 6);
    expect(again.events).toEqual(["fits"]);
    await again.wal.close();
  });

  it("a low-level record at the last safe integer is refused; one below it is written and reopens", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await open(fs, LAST - 3);
    const begin = await wal.begin();
    expect(begin).toBe(LAST - 2);
    await wal.append(begin, "e");
    await expect(wal.commit(begin)).rejects.toMatchObject({ code: "WAL_ENCODE" });
    await expect(wal.checkpointMarker(LAST - 3)).rejects.toMatchObject({ code: "WAL_ENCODE" });
    expect(wal.nextLsn()).toBe(LAST);
    await wal.close();
    const again = await open(fs, LAST - 3);
    expect(again.events).toEqual([]);
    expect(again.wal.nextLsn()).toBe(LAST);
    await again.wal.close();
  });

  it("a checkpoint marker just below the end is written and the log reopens", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await open(fs, LAST - 2);
    expect(await wal.checkpointMarker(LAST - 2)).toBe(LAST - 1);
    await wal.close();
    const again = await open(fs, LAST - 2);
    expect(again.checkpointLsnObserved).toBe(LAST - 2);
    expect(again.wal.nextLsn()).toBe(LAST);
    await again.wal.close();
  });

  it("at the end, begin() and checkpointMarker() are refused before a rotation: no segment sealed or created", async () => {
    const fs = SimFS.withDir(DIR);
    const first = await open(fs, 0);
    await first.wal.commitTx(["kept"]);
    await first.wal.close();
    const before = await fs.readdir(DIR);
    // A fence above the log's end makes the next record start a new segment: the refusal must come first.
    const { wal } = await open(fs, LAST - 1);
    await expect(wal.begin()).rejects.toMatchObject({ code: "WAL_ENCODE" });
    await expect(wal.checkpointMarker(LAST - 1)).rejects.toMatchObject({ code: "WAL_ENCODE" });
    expect(await fs.readdir(DIR)).toEqual(before);
    await wal.close();
  });

  it("a fence at the last safe integer is refused as an option, and nothing is created", async () => {
    const fs = new SimFS();
    await expect(open(fs, LAST)).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    expect(await fs.stat(DIR)).toBeNull();
  });

  it("a log another writer ended at the last safe integer is refused WAL_MALFORMED in every mode, nothing changed", async () => {
    const fs = SimFS.withDir(DIR);
    const path = segmentPath(DIR, 1);
    const writer = await SegmentWriter.create(fs, path, LAST - 2);
    writer.append({ kind: "txBegin", lsn: LAST - 2 }, jsonCodec);
    writer.append({ kind: "mutation", lsn: LAST - 1, txBeginLsn: LAST - 2, event: "e" }, jsonCodec);
    writer.append({ kind: "txCommit", lsn: LAST, txBeginLsn: LAST - 2 }, jsonCodec);
    await writer.close();
    // A preallocating writer's zeros after the records: an open that refuses must not cut them off either.
    const written = fs.readFileSync(path);
    const image = new Uint8Array(written.byteLength + 8192);
    image.set(written);
    fs.writeFileSync(path, image);
    const before = await fs.readdir(DIR);

    for (const recovery of RECOVERY_MODES) {
      await expect(open(fs, LAST - 3, recovery), recovery).rejects.toMatchObject({
        code: "WAL_MALFORMED",
        message: expect.stringMatching(/LSN space is exhausted/),
      });
      expect(await fs.readdir(DIR)).toEqual(before);
      expect(fs.readFileSync(path)).toEqual(image);
    }
  });
});
