/**
 * A headerless newest segment proves the segment before it existed (a rotation was creating it), so an id missing
 * in between is a lost segment: refused as corruption, never healed by recreating the missing id over it.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

/** Segments 1 and 2 sealed, 3 lost, 4 created by a rotation but without its header yet. */
async function logWithLostSegment(): Promise<{ fs: SimFS; all: JsonValue[]; beforeLost: JsonValue[] }> {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 4096 });
  const all: JsonValue[] = [];
  const beforeLost: JsonValue[] = [];
  for (let i = 0; wal.activeSegmentId() < 4; i++) {
    const event = `event ${i} ${"x".repeat(40)}`;
    await wal.commitTx([event]); // a full segment is rotated first: the commit lands in the active one after it
    if (wal.activeSegmentId() < 3) beforeLost.push(event);
    all.push(event);
  }
  await wal.close();
  await fs.unlink(segmentPath(DIR, 3));
  fs.writeFileSync(segmentPath(DIR, 4), new Uint8Array(0));
  return { fs, all, beforeLost };
}

describe("a segment missing before a headerless newest one", () => {
  it("is refused with WAL_CORRUPT in the default mode, and nothing changes", async () => {
    const { fs } = await logWithLostSegment();
    const before = fs.listSync(DIR);
    await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      message: expect.stringContaining("segment 3 is missing"),
    });
    expect(fs.listSync(DIR)).toEqual(before);
  });

  it("point-in-time keeps segments 1 and 2, moves the headerless one aside, and opens again the same", async () => {
    const { fs, beforeLost } = await logWithLostSegment();
    const first = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery: "point-in-time" });
    expect(first.events).toEqual(beforeLost);
    // The cut lies at segment 2's end: nothing of it is cut, so no (empty) copy of it is kept.
    expect(first.healed).toContainEqual({
      kind: "corruptionCut",
      segment: segmentPath(DIR, 2),
      offset: fs.readFileSync(segmentPath(DIR, 2)).byteLength,
      droppedBytes: 0,
      brokenCopy: null,
      laterSegmentsMoved: [`${segmentPath(DIR, 4)}.broken`],
    });
    expect(fs.listSync(DIR).filter((name) => name.endsWith(".broken"))).toEqual(["0000000004.wal.broken"]);
    await first.wal.close();
    const again = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(again.events).toEqual(beforeLost);
    await again.wal.close();
  });
});
