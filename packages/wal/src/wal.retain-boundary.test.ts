/**
 * An in-process hold (`wal.retain`) at `position` keeps every segment holding a record above it, exactly: the
 * segment whose last record is `position + 1` stays, and with the hold one LSN further on it goes.
 */

import { bytesCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const event = new Uint8Array(1000).fill(7);

it("keeps the segment whose last record lies one LSN above the hold's position, and only while it does", async () => {
  for (const [offset, kept] of [
    [2, true], // the hold still needs the segment's last record
    [1, false], // the hold has everything in the segment
  ] as const) {
    const fs = new SimFS();
    fs.mkdirpSync(DIR);
    const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 4096 });
    while (wal.activeSegmentId() < 5) await wal.commitTx([event]);
    const second = (await wal.segments())[1];
    if (second === undefined) throw new Error("no second segment");
    // Segment 1's last record is at second.baseLsn - 1.
    const release = wal.retain("h", () => second.baseLsn - offset);
    await wal.truncateUpTo(wal.durableLsn());
    expect((await wal.segments()).map((s) => s.id).includes(1), `offset ${offset}`).toBe(kept);
    release();
    await wal.close();
  }
});
