/**
 * `scanFrom: "fence"`: a replay that starts at the segment holding the fence + 1 hands out what a walk from the
 * oldest segment does, fails with the same fence errors (naming the same usable fence), and never reads the records
 * of the segments before it.
 */

import { fc, test } from "@fast-check/vitest";
import { isWalError, jsonCodec, type PayloadCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { countingFileSystem, SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { replayDir } from "./replay.js";
import type { ReplayOptions } from "./replay-types.js";
import { buildSegments, txArb, txOps } from "./test-support/random-log.js";
import { evenLog, logDamagedBeforeSegment6, writeSimLog } from "./test-support/sim-log.js";

const DIR = "/wal";
/**
 * Logs of 8 to 40 transactions (some interleaved), rotated often, also inside transactions: seeks skip segments
 * that hold the begins of transactions the fence may cut.
 */
const manySegments = fc
  .tuple(
    fc.array(
      txArb.map((t) => ({ ...t, rotate: t.skip === 0 ? !t.rotate : t.rotate })),
      { minLength: 8, maxLength: 40 },
    ),
    fc.array(fc.nat(), { maxLength: 8 }),
  )
  .map(([txs, rotations]) => {
    const ops = txOps(txs);
    for (const at of rotations) ops.splice(at % (ops.length + 1), 0, { op: "rotate" });
    return ops;
  });
const codec = jsonCodec as PayloadCodec<unknown>;

/** The transactions a replay hands out, or the code and usable fence of the error it fails with. */
async function result(options: ReplayOptions<unknown>): Promise<unknown> {
  const replay = replayDir(DIR, options);
  const txs: unknown[] = [];
  try {
    for await (const t of replay) txs.push([t.beginLsn, t.commitLsn, t.events]);
    const o = await replay.outcome();
    return { txs, maxLsn: o.maxLsn, tornTail: o.tornTail, checkpointLsnObserved: o.checkpointLsnObserved };
  } catch (error) {
    if (!isWalError(error)) throw error;
    return { code: error.code, usableFence: error.details?.usableFence };
  }
}

describe("replayDir with scanFrom: fence", () => {
  test.prop([manySegments, fc.nat(), fc.nat(2), fc.boolean(), fc.constantFrom(64, 4096)], { numRuns: 300 })(
    "hands out what a walk from the oldest segment does, or fails with the same fence error",
    async (ops, fencePick, truncated, allowTruncatedHistory, chunkBytes) => {
      const segments = buildSegments(ops, "json", false).filter((x) => x.length > 0);
      const fs = new SimFS();
      await writeSimLog(fs, DIR, segments);
      // Truncation removed the oldest segments (never the newest).
      for (let id = 1; id <= Math.min(truncated, segments.length - 1); id++) await fs.unlink(segmentPath(DIR, id));
      const maxLsn = segments.flat().at(-1)?.lsn ?? 0;
      // Any LSN, so inside transactions as often as the log has them, and one past the end.
      const checkpointLsn = fencePick % (maxLsn + 2);
      const options = { codec, fs, checkpointLsn, allowTruncatedHistory, chunkBytes };
      const fromOldest = await result(options);
      expect(await result({ ...options, scanFrom: "fence" })).toEqual(fromOldest);
    },
  );

  it("never reads the records of the segments before the one holding the fence + 1", async () => {
    const sim = new SimFS();
    await logDamagedBeforeSegment6(sim, DIR);
    await expect(result({ codec, fs: sim, checkpointLsn: 165 })).resolves.toMatchObject({ code: "WAL_CORRUPT" });
    const { fs, counts } = countingFileSystem(sim);
    // Segment 6 holds lsns 151..180; the fence 165 is a transaction boundary in it.
    const got = (await result({ codec, fs, checkpointLsn: 165, scanFrom: "fence" })) as { txs: number[][] };
    expect(got.txs.map((t) => t[0])).toEqual(Array.from({ length: 25 }, (_, i) => 166 + 3 * i));
    for (let id = 1; id <= 5; id++) expect(counts.bytesRead.get(segmentPath(DIR, id)) ?? 0).toBeLessThanOrEqual(32);
  });

  it("a transaction begun in a segment it skips and ending above the fence is WAL_FENCE_IN_TRANSACTION", async () => {
    const fs = new SimFS();
    // Transaction 1 begins in segment 1 and commits in segment 2, above the fence 4.
    await writeSimLog(fs, DIR, [
      [
        { kind: "txBegin", lsn: 1 },
        { kind: "mutation", lsn: 2, txBeginLsn: 1, event: "a" },
      ],
      [
        { kind: "txBegin", lsn: 3 },
        { kind: "txCommit", lsn: 4, txBeginLsn: 3 },
        { kind: "txCommit", lsn: 5, txBeginLsn: 1 },
        { kind: "txBegin", lsn: 6 },
        { kind: "txCommit", lsn: 7, txBeginLsn: 6 },
      ],
    ]);
    for (const allowTruncatedHistory of [false, true]) {
      // The highest usable fence at or below 4 lies before transaction 1 began: 0.
      const options = { codec, fs, checkpointLsn: 4, allowTruncatedHistory, scanFrom: "fence" as const };
      expect(await result(options)).toEqual({ code: "WAL_FENCE_IN_TRANSACTION", usableFence: 0 });
      expect(await result({ ...options, checkpointLsn: 5 })).toMatchObject({ txs: [[6, 7, []]] });
    }
  });

  it("a fence below the oldest segment is WAL_FENCE_TOO_LOW, and an unknown scanFrom is refused", async () => {
    const fs = new SimFS();
    await writeSimLog(fs, DIR, evenLog(3, 10));
    await fs.unlink(segmentPath(DIR, 1));
    expect(await result({ codec, fs, checkpointLsn: 12, scanFrom: "fence" })).toEqual({
      code: "WAL_FENCE_TOO_LOW",
      usableFence: 30,
    });
    expect(() => replayDir(DIR, { codec, fs, scanFrom: "newest" as "fence" })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
  });
});
