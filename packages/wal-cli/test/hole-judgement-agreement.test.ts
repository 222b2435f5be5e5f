/**
 * Segment ids missing mid-log are judged once, by `judgeSegmentIdHoles` of `@lora/wal-replay`, and `verify`, `dump`,
 * `stat` and `replayDir` give the same verdict of the same directory:
 *
 * - verify used to look for the covering marker with the caller's codec, so a payload that does not decode before
 *   the marker hid it: verify called the hole lost segments where the others called it covered;
 * - a marker whose snapshot lies inside a transaction still covers the hole, and the fence a reader opens the log
 *   with is the lowest transaction boundary at or above the LSN before the segment after the hole (after the
 *   transaction's commit when it began in the hole): verify used to read with the snapshot and call such a hole
 *   damage when replay, dump and stat called it covered, and replay's refusal named the snapshot as a fence that
 *   works when it is not.
 */

import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { bytesCodec, type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import { createNodeFileSystem, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { verifyDir } from "../src/commands/verify.js";
import { runCli, type TempDir, useJsonWal } from "./helpers.js";

type Rec = WalRecord<JsonValue>;
/** A record written with the bytes codec: its payload is not JSON, so the json codec cannot decode it. */
type Raw = { readonly raw: WalRecord<Uint8Array> };

const fs = createNodeFileSystem();

async function writeSegment(
  dir: string,
  id: number,
  baseLsn: number,
  records: readonly (Rec | Raw)[],
  sealed: boolean,
) {
  const w = await SegmentWriter.create(fs, segmentPath(dir, id), baseLsn);
  for (const r of records) {
    if ("raw" in r) w.append(r.raw, bytesCodec);
    else w.append(r, jsonCodec);
  }
  if (sealed) await w.seal();
  else await w.flush();
  await w.close();
}

function tx(begin: number, event: JsonValue): Rec[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [event] },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

/** Segments 1 (LSNs 1..6) and 2 (7..12), sealed, then segment 3 from LSN 13 holding `third`; segment 2 removed. */
async function logWithHole(dir: string, third: readonly (Rec | Raw)[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSegment(dir, 1, 1, [...tx(1, "a"), ...tx(4, "b")], true);
  await writeSegment(dir, 2, 7, [...tx(7, "c"), ...tx(10, "d")], true);
  await writeSegment(dir, 3, 13, third, false);
  await rm(segmentPath(dir, 2));
}

/** The failure of a replay of `dir` with the json codec, or `undefined`. */
async function replayFailure(dir: string, options: { checkpointLsn?: number } = {}): Promise<unknown> {
  try {
    for await (const _ of replayDir<JsonValue>(dir, { codec: jsonCodec, ...options })) {
      // Only the failure matters.
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

describe("one judgement of segment ids missing mid-log", () => {
  let tmp: TempDir;
  useJsonWal("lora-wal-hole-judgement", {}, (wal) => {
    tmp = wal.tmp;
  });

  it("a payload the codec cannot decode before the covering marker: verify finds the marker too", async () => {
    const dir = join(tmp.path, "undecodable");
    // A transaction that decodes, one whose mutation does not (LSN 17), then the marker (snapshot 18) after it.
    await logWithHole(dir, [
      ...tx(13, "e"),
      { kind: "txBegin", lsn: 16 },
      { raw: { kind: "mutation", lsn: 17, txBeginLsn: 16, event: new Uint8Array([0xff, 0xfe]) } },
      { kind: "txCommit", lsn: 18, txBeginLsn: 16 },
      { kind: "checkpoint", lsn: 19, snapshotLsn: 18 },
      ...tx(20, "f"),
    ]);
    // Replay (framing-only look for the marker) calls the hole covered: the damage it meets is the payload's.
    expect(await replayFailure(dir, { checkpointLsn: 12 })).toMatchObject({
      code: "WAL_CORRUPT",
      details: { segment: segmentPath(dir, 3) },
    });
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.replay?.truncationGap).toEqual({ missing: "segment 2", baseLsn: 13, checkpointLsn: 18 });
    expect(report.verdict).toMatchObject({ status: "corruption", code: "WAL_DECODE", segment: "0000000003.wal" });
    expect(report.verdict.message).not.toContain("missing");
    // dump and stat, which look framing only, say the same hole is covered.
    const dump = await runCli(["dump", dir, "--codec", "json"]);
    expect(dump.stderr).toContain("segment 2 missing below the checkpoint at LSN 18");
    const stat = await runCli(["stat", dir, "--codec", "json"]);
    expect(stat.stdout).toContain("segment 2 missing below the checkpoint at LSN 18");
  });

  it("a covering marker inside a transaction begun after the hole: covered through the usable fence, everywhere", async () => {
    const dir = join(tmp.path, "inside-after");
    // Transaction 13..17 with the marker (snapshot 14) inside it; 12, the LSN before segment 3, is a boundary.
    await logWithHole(dir, [
      { kind: "txBegin", lsn: 13 },
      { kind: "mutation", lsn: 14, txBeginLsn: 13, event: "e" },
      { kind: "checkpoint", lsn: 15, snapshotLsn: 14 },
      { kind: "mutation", lsn: 16, txBeginLsn: 13, event: "f" },
      { kind: "txCommit", lsn: 17, txBeginLsn: 13 },
      ...tx(18, "g"),
    ]);
    const refused = await replayFailure(dir);
    expect(refused).toMatchObject({ code: "WAL_FENCE_TOO_LOW", details: { usableFence: 12 } });
    const message = (refused as Error).message;
    expect(message).toContain("segment 2 is missing between 0000000001.wal and 0000000003.wal");
    // The snapshot is no fence a replay accepts: the message names the one that is.
    expect(message).not.toContain("(its snapshot 14 is one)");
    expect(message).toContain("at or above 12 outside a transaction (the lowest is 12), or with allowTruncatedHistory");
    expect(await replayFailure(dir, { checkpointLsn: 14 })).toMatchObject({ code: "WAL_FENCE_IN_TRANSACTION" });
    expect(await replayFailure(dir, { checkpointLsn: 12 })).toBeUndefined();
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    expect(report.replay).toMatchObject({
      truncationGap: { missing: "segment 2", baseLsn: 13, checkpointLsn: 14 },
      lowestFence: 12,
      checkpointInTransaction: { snapshotLsn: 14, usableFence: 12 },
    });
    for (const command of ["verify", "dump", "stat"]) {
      const run = await runCli([command, dir, "--codec", "json"]);
      expect(run.code, `${command}: ${run.stdout}${run.stderr}`).toBe(0);
    }
    // Wal.open, which replays the same way, refuses and opens alike (last: the open writes).
    await expect(Wal.open<JsonValue>(dir, { codec: jsonCodec })).rejects.toMatchObject({
      code: "WAL_FENCE_TOO_LOW",
      details: { usableFence: 12 },
    });
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, checkpointLsn: 12 });
    await wal.close();
  });

  it("a covering marker inside a transaction begun in the hole: covered, opened after that transaction's commit, everywhere", async () => {
    const dir = join(tmp.path, "inside-across");
    await mkdir(dir, { recursive: true });
    await writeSegment(dir, 1, 1, [...tx(1, "a"), ...tx(4, "b")], true);
    // Transaction 7..15 runs from segment 2 into segment 3; the marker in segment 3 names 13, inside it.
    await writeSegment(
      dir,
      2,
      7,
      [
        { kind: "txBegin", lsn: 7 },
        { kind: "mutation", lsn: 8, txBeginLsn: 7, event: "c" },
      ],
      true,
    );
    await writeSegment(
      dir,
      3,
      13,
      [
        { kind: "mutation", lsn: 13, txBeginLsn: 7, event: "d" },
        { kind: "checkpoint", lsn: 14, snapshotLsn: 13 },
        { kind: "txCommit", lsn: 15, txBeginLsn: 7 },
        ...tx(16, "e"),
      ],
      false,
    );
    await rm(segmentPath(dir, 2));
    // The hole held nothing above the snapshot: covered, and no fence at or below the snapshot opens the log (as once
    // the truncation finishes); the lowest that does is 15, the transaction's commit. Refused, never cut.
    const refused = await replayFailure(dir);
    expect(refused).toMatchObject({ code: "WAL_FENCE_TOO_LOW", details: { usableFence: 15 } });
    expect((refused as Error).message).toContain(
      "(the lowest is 15, after the commit of a transaction that began in the hole (the checkpoint's snapshot 13 lies inside it, so no fence at or below the snapshot opens the log))",
    );
    expect(await replayFailure(dir, { checkpointLsn: 13 })).toMatchObject({ code: "WAL_MALFORMED" });
    expect(await replayFailure(dir, { checkpointLsn: 15 })).toBeUndefined();
    for (const recovery of ["tolerate-torn-tail", "absolute", "point-in-time"] as const) {
      await expect(Wal.open<JsonValue>(dir, { codec: jsonCodec, recovery })).rejects.toMatchObject({
        code: "WAL_FENCE_TOO_LOW",
        details: { usableFence: 15 },
      });
      // The application's own fence, inside that transaction, is refused too, changing nothing: WAL_MALFORMED,
      // where the log the finished truncation leaves says WAL_FENCE_IN_TRANSACTION (a fence past the hole reads the
      // segments before it as well, and the transaction's begin, in the hole, reads as missing from them).
      await expect(Wal.open<JsonValue>(dir, { codec: jsonCodec, recovery, checkpointLsn: 13 })).rejects.toMatchObject({
        code: "WAL_MALFORMED",
      });
    }
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    expect(report.replay).toMatchObject({
      truncationGap: { missing: "segment 2", baseLsn: 13, checkpointLsn: 13 },
      lowestFence: 15,
      checkpointInTransaction: { snapshotLsn: 13, usableFence: null },
    });
    for (const command of ["verify", "dump", "stat"]) {
      const run = await runCli([command, dir, "--codec", "json"]);
      expect(run.code, `${command}: ${run.stdout}${run.stderr}`).toBe(0);
    }
    // Nothing was cut or moved aside by the refused opens; the open with the fence that works replays from there.
    const { wal, events } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, checkpointLsn: 15 });
    expect(events).toEqual(["e"]);
    await wal.close();
  });
});
