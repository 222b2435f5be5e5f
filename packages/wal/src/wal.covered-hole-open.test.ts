/**
 * A segment missing from the middle of the log below a checkpoint marker after it (a truncation a crash
 * interrupted): an open whose fence lies below the hole is refused with `WAL_FENCE_TOO_LOW` naming the fence that
 * works, in every recovery mode, and changes nothing. It used to be `WAL_CORRUPT`, whose remedy (`point-in-time`)
 * kept the segments before the hole and moved every segment after it aside: the whole log after the checkpoint.
 * `allowTruncatedHistory` opens the log from the segment after the hole. A hole no marker covers is still
 * corruption (wal.segment-gap-open.test.ts).
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { dirImage } from "../test/support.js";
import { Wal } from "./wal.js";

const DIR = "/w";

/** 50 transactions, a checkpoint marker at the snapshot of all of them, 20 more; then segment 2 removed. */
async function logWithCoveredHole(fs: SimFS): Promise<{ snapshot: number; maxLsn: number }> {
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 1024 });
  for (let i = 0; i < 50; i++) await wal.commitTx([`event ${i} ${"x".repeat(40)}`]);
  const snapshot = wal.safeCheckpointLsn();
  await wal.checkpointMarker(snapshot);
  for (let i = 50; i < 70; i++) await wal.commitTx([`event ${i} ${"x".repeat(40)}`]);
  const maxLsn = wal.nextLsn() - 1;
  await wal.close();
  // Segment 3 starts below the snapshot: the marker covers everything segment 2 held.
  expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal")).length).toBeGreaterThan(6);
  await fs.unlink(segmentPath(DIR, 2));
  return { snapshot, maxLsn };
}

describe("Wal.open over a hole a checkpoint covers", () => {
  for (const recovery of ["tolerate-torn-tail", "absolute", "point-in-time"] as const) {
    it(`a fence below the hole, ${recovery}: WAL_FENCE_TOO_LOW naming a usable fence, nothing changed`, async () => {
      const fs = SimFS.withDir(DIR);
      const { snapshot } = await logWithCoveredHole(fs);
      const before = dirImage(fs, DIR);
      const refused = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toMatchObject({ code: "WAL_FENCE_TOO_LOW" });
      const { usableFence, oldestFence } = (refused as { details: { usableFence: number; oldestFence: number } })
        .details;
      expect(usableFence).toBeGreaterThanOrEqual(oldestFence);
      expect(usableFence).toBeLessThanOrEqual(snapshot);
      expect((refused as Error).message).toContain(
        `segment 2 is missing between 0000000001.wal and 0000000003.wal, below the checkpoint at lsn ${snapshot}`,
      );
      expect(dirImage(fs, DIR)).toEqual(before);
      // The fence it names opens the log.
      const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery, checkpointLsn: usableFence });
      await wal.close();
    });
  }

  it("allowTruncatedHistory: opens the log from the segment after the hole, and appends go on", async () => {
    const fs = SimFS.withDir(DIR);
    const { snapshot, maxLsn } = await logWithCoveredHole(fs);
    const opened = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, allowTruncatedHistory: true });
    expect(opened.healed).toEqual([]);
    expect(opened.replay).toMatchObject({ maxLsn, corruption: null });
    const { oldestFence } = opened.replay as { oldestFence: number };
    expect(oldestFence).toBeGreaterThan(0);
    expect(oldestFence).toBeLessThanOrEqual(snapshot);
    // What lies in the hole cannot be a fence any more.
    await expect(opened.wal.checkpointMarker(oldestFence - 1)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    const info = await opened.wal.commitTx(["after"]);
    await opened.wal.close();
    const again = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: snapshot });
    expect(again.events).toContain("after");
    expect(again.wal.nextLsn()).toBe((info?.commitLsn as number) + 1);
    await again.wal.close();
  });
});
