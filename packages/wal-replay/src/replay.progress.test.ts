/**
 * `onProgress`: bytes and records read of the range's size at the start, reported at most once per MiB read and
 * once at the end.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { replayDir } from "./replay.js";
import type { ReplayOptions, ReplayProgress } from "./replay-types.js";
import { evenLog, writeSimLog } from "./test-support/sim-log.js";

const DIR = "/wal";
const MIB = 1 << 20;
const EVENT = "x".repeat(1000);

async function run(fs: SimFS, options: Partial<ReplayOptions<JsonValue>> = {}) {
  const calls: ReplayProgress[] = [];
  const replay = replayDir<JsonValue>(DIR, { codec: jsonCodec, fs, ...options, onProgress: (p) => calls.push(p) });
  let transactions = 0;
  for await (const _ of replay) transactions++;
  return { calls, transactions, outcome: await replay.outcome() };
}

/** The law every sequence of calls obeys: non-decreasing, one per MiB at most, a single last call. */
function expectWellFormed(calls: readonly ReplayProgress[]): void {
  const last = calls.at(-1) as ReplayProgress;
  expect(last.done).toBe(true);
  expect(calls.filter((c) => c.done)).toHaveLength(1);
  const during = calls.slice(0, -1);
  for (const [i, c] of during.entries()) {
    expect(c.totalBytes).toBe(last.totalBytes);
    expect(c.bytes).toBeLessThanOrEqual(c.totalBytes);
    // Each call in a MiB of its own: at most one call per MiB read.
    expect(Math.floor(c.bytes / MIB)).toBe(i + 1);
    if (i > 0) expect(c.records).toBeGreaterThan((during[i - 1] as ReplayProgress).records);
  }
}

describe("onProgress", () => {
  it("reports each MiB of a whole replay and the end, of the sum of the segment sizes", async () => {
    const fs = new SimFS();
    const sizes = await writeSimLog(
      fs,
      DIR,
      evenLog(3, 1800, () => EVENT),
    ); // about 1.8 MiB each
    const total = sizes.reduce((a, b) => a + b, 0);
    const { calls, outcome } = await run(fs);
    expectWellFormed(calls);
    expect(calls.at(-1)).toEqual({ bytes: total, totalBytes: total, records: outcome.records, done: true });
    // A call for every whole MiB before the last record's end, none more.
    expect(calls.length - 1).toBe(Math.floor((total - 1) / MIB));
  });

  it("counts only the range's segments and ends at their total, though the last one is read only to upto", async () => {
    const fs = new SimFS();
    const sizes = await writeSimLog(
      fs,
      DIR,
      evenLog(5, 1200, () => EVENT),
    ); // segment s holds lsns 3600 (s - 1) + 1 .. 3600 s
    // From segment 2 (holding lsn 4001) to segment 4 (holding 12000), whose end is above upto.
    const { calls, transactions } = await run(fs, { after: 4000, upto: 12_000 });
    expectWellFormed(calls);
    const total = (sizes[1] as number) + (sizes[2] as number) + (sizes[3] as number);
    expect(calls.at(-1)).toMatchObject({ bytes: total, totalBytes: total, done: true });
    expect(transactions).toBe((12_000 - 4002) / 3);
  });

  it("ends at the damage that ended the walk, below the total", async () => {
    const fs = new SimFS();
    const sizes = await writeSimLog(
      fs,
      DIR,
      evenLog(1, 3000, () => EVENT),
    );
    const path = segmentPath(DIR, 1);
    const bytes = fs.readFileSync(path);
    fs.writeFileSync(path, bytes.subarray(0, bytes.byteLength - 500)); // a torn tail
    const { calls, outcome } = await run(fs);
    expectWellFormed(calls);
    const last = calls.at(-1) as ReplayProgress;
    expect(last.totalBytes).toBe((sizes[0] as number) - 500);
    expect(last.bytes).toBe(outcome.tornTail?.offset);
    expect(last.bytes).toBeLessThan(last.totalBytes);
  });

  it("is not called at the end of a replay stopped early", async () => {
    const fs = new SimFS();
    await writeSimLog(
      fs,
      DIR,
      evenLog(1, 3000, () => EVENT),
    );
    const calls: ReplayProgress[] = [];
    const replay = replayDir<JsonValue>(DIR, { codec: jsonCodec, fs, onProgress: (p) => calls.push(p) });
    let seen = 0;
    for await (const _ of replay) if (++seen === 2000) break;
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.some((c) => c.done)).toBe(false);
  });

  it("a callback that throws fails the replay with its error", async () => {
    const fs = new SimFS();
    await writeSimLog(
      fs,
      DIR,
      evenLog(1, 3000, () => EVENT),
    );
    const boom = new Error("progress broke");
    const replay = replayDir<JsonValue>(DIR, {
      codec: jsonCodec,
      fs,
      onProgress: () => {
        throw boom;
      },
    });
    await expect(replay.outcome()).rejects.toBe(boom);
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });
});
