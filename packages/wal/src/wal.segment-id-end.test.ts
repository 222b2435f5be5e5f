/**
 * The end of the segment id space. Listing takes ids up to `Number.MAX_SAFE_INTEGER`; a handle whose active segment
 * had that id sealed it at its first rotation and then failed to name the next one (`WAL_INVALID_ARGUMENT`, the
 * handle poisoned), and every later open failed the same way: the log's acknowledged commits could no longer be
 * opened. The last id now takes every later record past its target, and a log that would need a segment after it
 * (its newest sealed, or opened with a fence above it) is refused `WAL_MALFORMED`, nothing changed.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { sealInPlace } from "../test/support.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const LAST_ID = Number.MAX_SAFE_INTEGER;

async function open(fs: SimFS, options: Parameters<typeof Wal.open<JsonValue>>[1] = {}) {
  return await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, preallocateBytes: 0, ...options });
}

/** The directory's segment files and their bytes. */
function segmentFiles(fs: SimFS): [string, number[]][] {
  return fs
    .listSync(DIR)
    .filter((n) => n.endsWith(".wal"))
    .sort()
    .map((n) => [n, Array.from(fs.readFileSync(`${DIR}/${n}`))]);
}

/** A log of one segment holding `events`, renamed to have id `id`. */
async function logWithId(fs: SimFS, id: number, events: JsonValue[]): Promise<void> {
  const { wal } = await open(fs);
  for (const e of events) await wal.commitTx([e]);
  await wal.close();
  await fs.rename(`${DIR}/0000000001.wal`, `${DIR}/${id}.wal`);
  await fs.syncDir(DIR);
}

describe("the end of the segment id space", () => {
  it("a handle rotates up to the last id, which then takes every later commit; the log reopens whole", async () => {
    const fs = SimFS.withDir(DIR);
    await logWithId(fs, LAST_ID - 1, ["a"]);
    const { wal } = await open(fs, { segmentTargetBytes: 64 });
    const committed: JsonValue[] = ["a"];
    for (let i = 0; i < 4; i++) {
      await wal.commitTx([i]);
      committed.push(i);
    }
    expect(wal.activeSegmentId()).toBe(LAST_ID);
    await wal.close();
    const again = await open(fs, { segmentTargetBytes: 64 });
    expect(again.events).toEqual(committed);
    await again.wal.close();
  });

  it("a sealed newest segment with the last id is refused WAL_MALFORMED, nothing changed", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await open(fs, { segmentTargetBytes: 64 });
    await wal.commitTx(["a"]);
    await wal.commitTx(["b"]); // rotates: segment 1 sealed, "b" in segment 2
    await wal.close();
    await fs.unlink(`${DIR}/0000000002.wal`);
    await fs.rename(`${DIR}/0000000001.wal`, `${DIR}/${LAST_ID}.wal`);
    await fs.syncDir(DIR);
    const before = segmentFiles(fs);
    await expect(open(fs)).rejects.toMatchObject({ code: "WAL_MALFORMED" });
    expect(segmentFiles(fs)).toEqual(before);
  });

  it("opening the last id with a fence above its records is refused WAL_MALFORMED, nothing changed", async () => {
    const fs = SimFS.withDir(DIR);
    await logWithId(fs, LAST_ID, ["a"]);
    const before = segmentFiles(fs);
    await expect(open(fs, { checkpointLsn: 100 })).rejects.toMatchObject({ code: "WAL_MALFORMED" });
    expect(segmentFiles(fs)).toEqual(before);
    const { wal, events } = await open(fs);
    expect(events).toEqual(["a"]);
    await wal.close();
  });

  it("a sealed newest segment one below the last id, opened with a fence above its records, heals into the last id", async () => {
    const fs = SimFS.withDir(DIR);
    await logWithId(fs, LAST_ID - 1, ["a"]);
    await sealInPlace(fs, `${DIR}/${LAST_ID - 1}.wal`);
    const { wal, healed } = await open(fs, { checkpointLsn: 100 });
    expect(healed.map((h) => h.kind)).toEqual(["sealedSegmentSucceeded"]);
    expect((await wal.commitTx(["b"]))?.beginLsn).toBe(101);
    expect(wal.activeSegmentId()).toBe(LAST_ID);
    await wal.close();
    const again = await open(fs, { checkpointLsn: 100 });
    expect(again.events).toEqual(["b"]);
    await again.wal.close();
  });
});
