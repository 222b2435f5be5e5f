/**
 * `verify` reports the replay's own progress (`onProgress` of replay: at most one call per MiB read and one at the
 * end): programmatically through `ReadOptions.onProgress`, and on a terminal as the frames of its progress bar.
 */

import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { jsonCodec } from "@lora/wal-codec";
import type { ReplayProgress } from "@lora/wal-replay";
import { createNodeFileSystem, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { verifyDir } from "../src/index.js";
import { runCli } from "./helpers.js";

const MIB = 1 << 20;

let tmp: { path: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-verify-progress");
});
afterEach(async () => {
  vi.restoreAllMocks();
  await tmp.cleanup();
});

/** Two segments of about 1.6 MiB of one-event transactions; returns their total size. */
async function buildLog(dir: string): Promise<number> {
  const fs = createNodeFileSystem();
  await fs.mkdirp(dir);
  let lsn = 1;
  let bytes = 0;
  for (const id of [1, 2]) {
    const w = await SegmentWriter.create(fs, segmentPath(dir, id), lsn);
    for (let t = 0; t < 1600; t++) {
      w.append({ kind: "txBegin", lsn }, jsonCodec);
      w.append({ kind: "mutation", lsn: lsn + 1, txBeginLsn: lsn, event: "v".repeat(1000) }, jsonCodec);
      w.append({ kind: "txCommit", lsn: lsn + 2, txBeginLsn: lsn }, jsonCodec);
      lsn += 3;
    }
    if (id === 1) await w.seal();
    else await w.flush();
    bytes += w.size;
    await w.close();
  }
  return bytes;
}

describe("verify's progress", () => {
  it("comes from the replay: onProgress instead of onRead, ending at the log's size", async () => {
    const dir = join(tmp.path, "wal");
    const bytes = await buildLog(dir);
    const calls: ReplayProgress[] = [];
    let reads = 0;
    const report = await verifyDir(dir, {
      codec: "json",
      onProgress: (p) => void calls.push(p),
      onRead: () => void reads++,
    });
    expect(report.verdict.status).toBe("clean");
    expect(reads).toBe(0);
    expect(calls.at(-1)).toEqual({ bytes, totalBytes: bytes, records: 9600, done: true });
    expect(calls.length).toBeLessThanOrEqual(Math.floor(bytes / MIB) + 1);
    expect(calls.length).toBeGreaterThan(1);
  });

  it("draws one bar frame per progress call on a terminal, the last at 100%", async () => {
    const dir = join(tmp.path, "wal");
    const bytes = await buildLog(dir);
    let clock = 0;
    vi.spyOn(Date, "now").mockImplementation(() => {
      clock += 1000;
      return clock;
    });
    const run = await runCli(["verify", dir, "--codec", "json"], { tty: true, env: { NO_COLOR: "1" } });
    expect(run.code, run.stderr).toBe(0);
    const frames = run.stderr.split("\r").filter((f) => f.startsWith("verify ["));
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.length).toBeLessThanOrEqual(Math.floor(bytes / MIB) + 1);
    expect(frames.at(-1)).toMatch(/\] 100%$/);
  });
});
