/**
 * What lies between segments at open: a segment missing from the middle of the log, or an unsealed segment with a
 * newer one after it (a stale copy put back: rotation seals a segment before it creates the next). No crash leaves
 * either. The default and `absolute` modes refuse the log with `WAL_CORRUPT` and change nothing; only
 * `point-in-time` cuts there, keeping the segments before the gap and moving the rest aside.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { decodeSegmentHeader, encodeSegmentHeader, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { dirImage } from "../test/support.js";
import { Wal } from "./wal.js";

const DIR = "/w";

/** A log of four or more small segments; returns how many. */
async function writeLog(fs: SimFS): Promise<number> {
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 1024 });
  for (let i = 0; i < 50; i++) await wal.commitTx([`event ${i} ${"x".repeat(40)}`]);
  await wal.close();
  const segments = fs.listSync(DIR).filter((n) => n.endsWith(".wal")).length;
  expect(segments).toBeGreaterThanOrEqual(4);
  return segments;
}

const BREAKS: readonly [string, (fs: SimFS) => Promise<void>][] = [
  ["segment 2 missing", (fs) => fs.unlink(segmentPath(DIR, 2))],
  [
    "segment 2 unsealed, with segment 3 after it",
    (fs) => {
      const path = segmentPath(DIR, 2);
      const bytes = fs.readFileSync(path);
      const { baseLsn } = decodeSegmentHeader(bytes);
      bytes.set(encodeSegmentHeader({ baseLsn, sealed: false }), 0);
      fs.writeFileSync(path, bytes);
      return Promise.resolve();
    },
  ],
];

describe("a break between segments at open", () => {
  for (const [what, breakLog] of BREAKS) {
    for (const recovery of ["tolerate-torn-tail", "absolute"] as const) {
      it(`${what}, ${recovery}: WAL_CORRUPT, and nothing changes`, async () => {
        const fs = SimFS.withDir(DIR);
        await writeLog(fs);
        await breakLog(fs);
        const before = dirImage(fs, DIR);
        await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery })).rejects.toMatchObject({
          code: "WAL_CORRUPT",
        });
        expect(dirImage(fs, DIR)).toEqual(before);
      });
    }

    it(`${what}, point-in-time: the segments before the break are kept, the rest moved aside`, async () => {
      const fs = SimFS.withDir(DIR);
      await writeLog(fs);
      await breakLog(fs);
      const { wal, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, recovery: "point-in-time" });
      await wal.close();
      expect(healed[0]).toMatchObject({ kind: "corruptionCut", droppedBytes: 0, brokenCopy: null });
      const kept = what.includes("missing") ? 1 : 2;
      expect(healed[0]).toMatchObject({ segment: segmentPath(DIR, kept) });
      const again = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
      expect(again.healed).toEqual([]);
      await again.wal.close();
    });
  }
});
