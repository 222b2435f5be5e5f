/**
 * A log whose oldest segments a checkpoint truncated is no damage: `verify` and `inspect` read what it retains and
 * say which fence a reader needs, where they used to stop on `WAL_FENCE_TOO_LOW` (exit 2, no report).
 */

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inspectDir } from "../src/commands/inspect.js";
import { verifyDir } from "../src/commands/verify.js";
import { fingerprint, runCli, segmentFiles, writeJsonWal } from "./helpers.js";

describe("verify and inspect of a checkpointed, truncated log", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let dir: string;
  let oldestFence: number;
  let usableFence: number;
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-truncated");
    dir = join(tmp.path, "wal");
    const { wal } = await Wal.open(dir, { codec: jsonCodec, segmentTargetBytes: 4096 });
    for (let i = 0; i < 120; i++) await wal.commitTx([{ i }]);
    const done = await wal.checkpoint(wal.safeCheckpointLsn());
    expect(done.removedSegments).toBeGreaterThan(0);
    await wal.close();
    // The lowest fence a reader can open it with: Wal.open without one refuses it.
    const refused = await Wal.open(dir, { codec: jsonCodec }).then(
      () => null,
      (error: { code: string; details: { oldestFence: number; usableFence: number } }) => error,
    );
    expect(refused?.code).toBe("WAL_FENCE_TOO_LOW");
    oldestFence = refused?.details.oldestFence ?? -1;
    usableFence = refused?.details.usableFence ?? -1;
    expect(oldestFence).toBeGreaterThan(0);
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("verifyDir: clean, every retained transaction counted, the lowest fence reported", async () => {
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    expect(report.replay?.oldestFence).toBe(oldestFence);
    expect(report.replay?.lowestFence).toBe(usableFence);
    // What Wal.open with that fence replays is what verify counted.
    const { wal, replay } = await Wal.open(dir, { codec: jsonCodec, checkpointLsn: usableFence });
    await wal.close();
    expect(report.replay?.maxLsn).toBe(replay?.maxLsn);
    expect(report.replay?.checkpointLsnObserved).not.toBeNull();
  });

  it("inspectDir: every segment listed, clean, the lowest fence reported", async () => {
    const report = await inspectDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    expect(report.replay?.oldestFence).toBe(oldestFence);
    expect(report.replay?.lowestFence).toBe(usableFence);
    expect(report.segments.map((s) => s.name)).toEqual(await segmentFiles(dir));
    expect(report.segments[0]?.baseLsn).toBe(oldestFence + 1);
  });

  it("the commands exit 0, print the history line, and change nothing", async () => {
    const before = await fingerprint(dir);
    for (const command of ["verify", "inspect"]) {
      const run = await runCli([command, dir]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        `history    ${command === "verify" ? "   " : ""}starts after LSN ${oldestFence} (older segments truncated at a checkpoint): open it with a checkpointLsn of at least ${usableFence}`,
      );
      const json = await runCli([command, dir, "--json"]);
      expect(json.code).toBe(0);
      const parsed = JSON.parse(json.stdout) as { replay: { lowestFence: number } };
      expect(parsed.replay.lowestFence).toBe(usableFence);
    }
    expect(await fingerprint(dir)).toBe(before);
  });
});

describe("verify of a log that starts late", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-late-start");
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("names the first boundary above the oldest segment's base when a transaction spans into it", async () => {
    const dir = join(tmp.path, "wal");
    const { wal } = await Wal.open(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    // A low-level transaction left open across a rotation: the segment after it starts inside the transaction.
    const tx = await wal.begin();
    await wal.appendBatch(tx, [{ open: true }]);
    const startId = wal.activeSegmentId();
    while (wal.activeSegmentId() === startId) await wal.commitTx([{ pad: "x".repeat(100) }]);
    await wal.commit(tx);
    const second = wal.activeSegmentId();
    while (wal.activeSegmentId() < second + 1) await wal.commitTx([{ pad: "y".repeat(100) }]);
    await wal.checkpoint(wal.safeCheckpointLsn());
    await wal.close();

    const refused = await Wal.open(dir, { codec: jsonCodec }).then(
      () => null,
      (error: { code: string; details: { oldestFence: number; usableFence: number } }) => error,
    );
    expect(refused?.code).toBe("WAL_FENCE_TOO_LOW");
    // The case itself: the oldest retained segment starts inside the transaction, so the two fences differ.
    expect(refused?.details.usableFence).toBeGreaterThan(refused?.details.oldestFence ?? Number.POSITIVE_INFINITY);
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    expect(report.replay?.lowestFence).toBe(refused?.details.usableFence);
    // The fence verify names opens the log.
    const opened = await Wal.open(dir, { codec: jsonCodec, checkpointLsn: report.replay?.lowestFence ?? -1 });
    await opened.wal.close();
  });

  it("is malformed (WAL_FENCE_TOO_LOW, exit 2) when no checkpoint marker explains a missing start", async () => {
    const dir = join(tmp.path, "wal");
    await writeJsonWal(dir, 30, 1024);
    const first = (await segmentFiles(dir))[0] as string;
    await rm(join(dir, first));
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "malformed", exitCode: 2, code: "WAL_FENCE_TOO_LOW" });
    expect(report.verdict.message).toContain("no checkpoint marker covers the records before it");
    const run = await runCli(["verify", dir, "--codec", "json"]);
    expect(run.code).toBe(2);
    expect(run.stdout).not.toContain("history");
    expect((await runCli(["inspect", dir, "--codec", "json"])).code).toBe(2);
  });
});
