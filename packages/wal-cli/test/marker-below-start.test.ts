/**
 * A checkpoint marker explains a log that starts late only when its snapshot reaches the start. A marker at a low
 * snapshot LSN that a later `truncateUpTo` with a higher fence left behind explains nothing: `Wal.open` and
 * `replayDir` without a fence refuse the log (`WAL_FENCE_TOO_LOW`), and so do `verify` and `inspect` (exit 2). A
 * marker whose snapshot is exactly the last LSN before the start explains it (exit 0).
 */

import { cp, rm } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import { describe, expect, it } from "vitest";
import { verifyDir } from "../src/commands/verify.js";
import { bundleCli, runCliProcess } from "./cli-process.js";
import { fingerprint, runCli, type TempDir, useJsonWal } from "./helpers.js";

describe("a checkpoint marker and a late start", () => {
  let tmp: TempDir;
  let dir: string;
  useJsonWal("lora-wal-marker-start", {}, (wal) => {
    ({ tmp, dir } = wal);
  });

  /** What `Wal.open` does with the log (on a copy: open writes): "clean" or the error's code and fences. */
  async function openCopy(checkpointLsn?: number): Promise<{ code: string; oldestFence?: number }> {
    const copy = join(tmp.path, `copy-${checkpointLsn ?? "none"}`);
    await cp(dir, copy, { recursive: true });
    try {
      const { wal } = await Wal.open(copy, {
        codec: jsonCodec,
        ...(checkpointLsn === undefined ? {} : { checkpointLsn }),
      });
      await wal.close();
      return { code: "clean" };
    } catch (error) {
      const e = error as { code: string; details: { oldestFence?: number } };
      return { code: e.code, ...(e.details.oldestFence === undefined ? {} : { oldestFence: e.details.oldestFence }) };
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }

  it("an old marker below a start a later truncation cut: malformed, exit 2, as Wal.open and replayDir refuse it", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    for (let i = 0; i < 3; i++) await wal.commitTx([{ i }]);
    const snapshot = wal.safeCheckpointLsn();
    while (wal.activeSegmentId() < 3) await wal.commitTx([{ pad: "x".repeat(100) }]);
    // The marker says a snapshot covers LSN 1..snapshot; it lands in segment 3, far above it.
    await wal.checkpointMarker(snapshot);
    const markerSegment = wal.activeSegmentId();
    while (wal.activeSegmentId() < markerSegment + 3) await wal.commitTx([{ pad: "y".repeat(100) }]);
    const base = (await wal.segments()).find((s) => s.id === markerSegment)?.baseLsn ?? -1;
    // A fence above the snapshot, just below the marker's segment: the segments before it go, the marker stays.
    expect(await wal.truncateUpTo(base - 1)).toBe(markerSegment - 1);
    await wal.close();
    expect(base - 1).toBeGreaterThan(snapshot);

    expect(await openCopy()).toEqual({ code: "WAL_FENCE_TOO_LOW", oldestFence: base - 1 });
    expect((await openCopy(snapshot)).code).toBe("WAL_FENCE_TOO_LOW");
    expect((await openCopy(base - 1)).code).toBe("clean");
    const replayed = await (async () => {
      for await (const _ of replayDir(dir, { codec: jsonCodec })) {
        // nothing: the walk must refuse before the first record
      }
    })().then(
      () => "clean",
      (error: { code: string }) => error.code,
    );
    expect(replayed).toBe("WAL_FENCE_TOO_LOW");

    const before = await fingerprint(dir);
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.replay).toMatchObject({ checkpointLsnObserved: snapshot, oldestFence: base - 1 });
    expect(report.verdict).toMatchObject({ status: "malformed", exitCode: 2, code: "WAL_FENCE_TOO_LOW" });
    const bin = await bundleCli();
    for (const command of ["verify", "inspect"]) {
      const run = await runCliProcess(bin, [command, dir, "--codec", "json"]);
      expect(run.code, `${command}: ${run.stdout}${run.stderr}`).toBe(2);
      expect(run.stdout).toContain("no checkpoint marker covers the records before it");
      expect(run.stdout).not.toContain("history");
    }
    expect(await fingerprint(dir)).toBe(before);
  });

  it("a marker whose snapshot is the last LSN before the start: clean, exit 0, with the history line", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    while (wal.activeSegmentId() < 3) await wal.commitTx([{ pad: "x".repeat(100) }]);
    // The snapshot ends exactly where segment 3 starts: the checkpoint deletes segments 1 and 2.
    const base = (await wal.segments()).find((s) => s.id === 3)?.baseLsn ?? -1;
    while (wal.activeSegmentId() < 6) await wal.commitTx([{ pad: "y".repeat(100) }]);
    expect((await wal.checkpoint(base - 1)).removedSegments).toBe(2);
    await wal.close();

    expect(await openCopy()).toEqual({ code: "WAL_FENCE_TOO_LOW", oldestFence: base - 1 });
    expect((await openCopy(base - 1)).code).toBe("clean");
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.replay).toMatchObject({ checkpointLsnObserved: base - 1, oldestFence: base - 1 });
    expect(report.verdict.status).toBe("clean");
    for (const command of ["verify", "inspect"]) {
      const run = await runCli([command, dir, "--codec", "json"]);
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toContain(`starts after LSN ${base - 1} (older segments truncated at a checkpoint)`);
    }
  });
});
