/**
 * A log whose oldest segments a checkpoint truncated is no damage: `verify` and `inspect` read what it retains and
 * say which fence a reader needs, where they used to stop on `WAL_FENCE_TOO_LOW` (exit 2, no report).
 */

import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inspectDir } from "../src/commands/inspect.js";
import { verifyDir } from "../src/commands/verify.js";
import { fingerprint, runCli, segmentFiles } from "./helpers.js";

describe("verify and inspect of a checkpointed, truncated log", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let dir: string;
  let oldestFence: number;
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
      (error: { code: string; details: { oldestFence: number } }) => error,
    );
    expect(refused?.code).toBe("WAL_FENCE_TOO_LOW");
    oldestFence = refused?.details.oldestFence ?? -1;
    expect(oldestFence).toBeGreaterThan(0);
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("verifyDir: clean, every retained transaction counted, the lowest fence reported", async () => {
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    expect(report.replay?.oldestFence).toBe(oldestFence);
    // What Wal.open with that fence replays is what verify counted.
    const { wal, replay } = await Wal.open(dir, { codec: jsonCodec, checkpointLsn: oldestFence });
    await wal.close();
    expect(report.replay?.maxLsn).toBe(replay?.maxLsn);
    expect(report.replay?.checkpointLsnObserved).not.toBeNull();
  });

  it("inspectDir: every segment listed, clean, the lowest fence reported", async () => {
    const report = await inspectDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    expect(report.oldestFence).toBe(oldestFence);
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
        `history    ${command === "verify" ? "   " : ""}starts after LSN ${oldestFence} (older segments truncated): open it with a checkpointLsn of at least ${oldestFence}`,
      );
      const json = await runCli([command, dir, "--json"]);
      expect(json.code).toBe(0);
      const parsed = JSON.parse(json.stdout) as { oldestFence?: number; replay?: { oldestFence: number } };
      expect(parsed.oldestFence ?? parsed.replay?.oldestFence).toBe(oldestFence);
    }
    expect(await fingerprint(dir)).toBe(before);
  });
});
