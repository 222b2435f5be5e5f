/**
 * Damage at the end of a segment that is not the newest is corruption, never a torn tail, even when that segment is
 * unsealed (a stale copy put back, as rotation seals a segment before it creates the next). A torn-tail cut there
 * would move every later segment aside in the default mode: acknowledged commits lost without a word. The default
 * and `absolute` modes refuse it with `WAL_CORRUPT` and change nothing; `point-in-time` reports a corruption cut. The
 * log has no durable mark here, whose record would vouch for the older segments' bytes on its own.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { encodeSegmentHeader, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { dirImage } from "../test/support.js";
import { Wal } from "./wal.js";

const DIR = "/w";

/** A log of three or more segments whose first one is unsealed again and ends in 300 bytes of garbage. */
async function damagedStaleFirstSegment(fs: SimFS): Promise<{ segments: number; recordBytes: number }> {
  // No durable mark (a log LoraDB wrote, or `publishDurableLsn: false`): the rule alone must tell.
  const { wal } = await Wal.open<JsonValue>(DIR, {
    fs,
    codec: jsonCodec,
    segmentTargetBytes: 1024,
    publishDurableLsn: false,
  });
  for (let i = 0; i < 40; i++) await wal.commitTx([`event ${i} ${"x".repeat(40)}`]);
  await wal.close();
  const segments = fs.listSync(DIR).filter((n) => n.endsWith(".wal")).length;
  const path = segmentPath(DIR, 1);
  const bytes = fs.readFileSync(path);
  const stale = new Uint8Array(bytes.byteLength + 300);
  stale.set(bytes);
  stale.set(encodeSegmentHeader({ baseLsn: 1, sealed: false }), 0);
  stale.fill(0xab, bytes.byteLength);
  fs.writeFileSync(path, stale);
  return { segments, recordBytes: bytes.byteLength };
}

describe("damage at the end of an unsealed segment that is not the newest", () => {
  for (const recovery of ["tolerate-torn-tail", "absolute"] as const) {
    it(`${recovery}: WAL_CORRUPT, and nothing changes`, async () => {
      const fs = SimFS.withDir(DIR);
      const { segments } = await damagedStaleFirstSegment(fs);
      expect(segments).toBeGreaterThanOrEqual(3);
      const before = dirImage(fs, DIR);
      await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery })).rejects.toMatchObject({
        code: "WAL_CORRUPT",
        details: { segment: segmentPath(DIR, 1) },
      });
      expect(dirImage(fs, DIR)).toEqual(before);
    });
  }

  it("point-in-time: a corruption cut there, with every later segment moved aside", async () => {
    const fs = SimFS.withDir(DIR);
    const { segments, recordBytes } = await damagedStaleFirstSegment(fs);
    const { wal, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery: "point-in-time" });
    await wal.close();
    expect(healed[0]).toMatchObject({ kind: "corruptionCut", segment: segmentPath(DIR, 1), offset: recordBytes });
    expect(healed[0]?.kind === "corruptionCut" && healed[0].laterSegmentsMoved.length).toBe(segments - 1);
  });
});
