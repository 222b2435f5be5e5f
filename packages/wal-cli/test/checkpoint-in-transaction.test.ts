/**
 * A checkpoint marker written inside a transaction (begin, mutation, checkpoint naming the mutation's LSN, mutation,
 * commit) is accepted by replay, so the log opens and `verify` is clean; but `Wal.open` with that marker's snapshot
 * as its fence is refused (`WAL_FENCE_IN_TRANSACTION`). `verify` and `inspect` read it as clean with nothing said;
 * they now note it (`replay.checkpointInTransaction`), the verdict and exit status unchanged: the log is fine, the
 * fence is not (docs/format.md, "Replay rules").
 */

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { createNodeFileSystem, SegmentWriter } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { runCli, type TempDir, useJsonWal } from "./helpers.js";

async function writeLog(dir: string, records: readonly WalRecord<JsonValue>[]): Promise<void> {
  const fs = createNodeFileSystem();
  await mkdir(dir, { recursive: true });
  const w = await SegmentWriter.create(fs, join(dir, "0000000001.wal"), 1);
  for (const r of records) w.append(r, jsonCodec);
  await w.flush();
  await w.close();
}

/** Begin 1, mutation 2, a checkpoint at 3 whose snapshot is `snapshotLsn`, mutation 4, commit 5. */
function markerInTransaction(snapshotLsn: number): WalRecord<JsonValue>[] {
  return [
    { kind: "txBegin", lsn: 1 },
    { kind: "mutation", lsn: 2, txBeginLsn: 1, event: { a: 1 } },
    { kind: "checkpoint", lsn: 3, snapshotLsn },
    { kind: "mutation", lsn: 4, txBeginLsn: 1, event: { a: 2 } },
    { kind: "txCommit", lsn: 5, txBeginLsn: 1 },
  ];
}

describe("a checkpoint marker whose snapshot lies inside a transaction", () => {
  let tmp: TempDir;
  useJsonWal("lora-wal-checkpoint-in-tx", {}, (wal) => {
    tmp = wal.tmp;
  });

  it("is noted by verify and inspect, clean and exit 0, with the fence that works as open names it", async () => {
    const dir = join(tmp.path, "inside");
    await writeLog(dir, markerInTransaction(2));
    for (const command of ["verify", "inspect"]) {
      const json = await runCli([command, dir, "--codec", "json", "--json"]);
      expect(json.code, json.stderr).toBe(0);
      const report = JSON.parse(json.stdout);
      expect(report.verdict.status).toBe("clean");
      expect(report.replay.checkpointLsnObserved).toBe(2);
      expect(report.replay.checkpointInTransaction, command).toEqual({ snapshotLsn: 2, usableFence: 0 });
      const text = await runCli([command, dir, "--codec", "json"]);
      expect(text.code).toBe(0);
      expect(text.stdout, command).toMatch(
        /note +the checkpoint marker's snapshot LSN 2 lies inside a transaction: the log opens, but Wal\.open\(\{ checkpointLsn: 2 \}\) is refused \(WAL_FENCE_IN_TRANSACTION\).*the highest fence at or below it that opens the log is 0/,
      );
    }
    // What the note says is what Wal.open does: refused at the marker's snapshot, open at the fence named.
    await expect(Wal.open(dir, { codec: jsonCodec, checkpointLsn: 2 })).rejects.toMatchObject({
      code: "WAL_FENCE_IN_TRANSACTION",
      details: { usableFence: 0 },
    });
    const { wal } = await Wal.open(dir, { codec: jsonCodec, checkpointLsn: 0 });
    await wal.close();
  });

  it("is not noted when the marker sits inside a transaction but names a boundary", async () => {
    const dir = join(tmp.path, "boundary");
    await writeLog(dir, markerInTransaction(0));
    const run = await runCli(["verify", dir, "--codec", "json", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).replay.checkpointInTransaction).toBeNull();
    expect((await runCli(["verify", dir, "--codec", "json"])).stdout).not.toContain("inside a transaction");
  });
});
