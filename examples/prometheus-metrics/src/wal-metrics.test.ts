import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jsonCodec, Wal } from "@lora/wal";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { walMetrics } from "./index.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** The value of one series in Prometheus's text format, by metric name (and optional suffix such as `_count`). */
function value(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`));
  if (line === undefined) throw new Error(`no series ${name} in:\n${text}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("the Prometheus example", () => {
  it("turns the handle's diagnostics and ioStats into metrics that agree with what it did", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wal-metrics-"));
    dirs.push(dir);
    const registry = new Registry();
    const metrics = walMetrics(dir, registry);
    const { wal } = await Wal.open(dir, { codec: jsonCodec, segmentTargetBytes: 4096 });
    metrics.observe(wal);
    for (let i = 0; i < 50; i++) await wal.commitTx([{ i, pad: "x".repeat(100) }, { i }]);
    const removed = await wal.truncateUpTo(wal.safeCheckpointLsn());
    const text = await registry.metrics();
    if (process.env.SHOW_METRICS === "1") console.log(text);
    expect(value(text, "lora_wal_commits_total")).toBe(50);
    expect(value(text, "lora_wal_events_total")).toBe(100);
    expect(value(text, "lora_wal_fdatasync_seconds_count")).toBe(wal.ioStats().syncs);
    expect(value(text, "lora_wal_rotations_total")).toBe(wal.activeSegmentId() - 1);
    expect(value(text, "lora_wal_segments_removed_total")).toBe(removed);
    expect(value(text, "lora_wal_bytes_written")).toBe(wal.ioStats().bytesWritten);
    expect(value(text, "lora_wal_poisoned")).toBe(0);
    expect(value(text, "lora_wal_recovery_seconds")).toBeGreaterThan(0);
    metrics.close();
    expect((await registry.metrics()).trim()).toBe("");
    await wal.close();
  });
});
