/**
 * Replay of an LSN range (`after`, `upto`): the same transactions as filtering a full replay, read from the segment
 * holding `after + 1` without reading the segments before it, and never past `upto`.
 */

import { fc, test } from "@fast-check/vitest";
import { jsonCodec, type PayloadCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { countingFileSystem, SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { readCommitted } from "./read-committed.js";
import { replayDir } from "./replay.js";
import type { ReplayedTransaction, ReplayOptions } from "./replay-types.js";
import { buildSegments, opsArb } from "./test-support/random-log.js";
import { evenLog, logDamagedBeforeSegment6, writeSimLog } from "./test-support/sim-log.js";

const DIR = "/wal";
const codec = jsonCodec as PayloadCodec<unknown>;

async function collect(
  replay: AsyncIterable<ReplayedTransaction<unknown>>,
): Promise<{ beginLsn: number; commitLsn: number; events: unknown[] }[]> {
  const out: { beginLsn: number; commitLsn: number; events: unknown[] }[] = [];
  for await (const t of replay) out.push({ beginLsn: t.beginLsn, commitLsn: t.commitLsn, events: t.events });
  return out;
}

describe("replayDir over an LSN range", () => {
  test.prop(
    [
      opsArb,
      fc.double({ min: 0, max: 1.05, noNaN: true }),
      fc.option(fc.double({ min: 0, max: 1.05, noNaN: true }), { nil: undefined }),
      fc.constantFrom(64, 333, 4096, undefined),
    ],
    { numRuns: 300 },
  )(
    "hands out exactly the full replay's transactions with beginLsn > after and commitLsn <= upto, as readCommitted",
    async (ops, afterFrac, uptoFrac, chunkBytes) => {
      // Valid logs only: an empty segment would share its base LSN with the next one (WAL_MALFORMED).
      const segments = buildSegments(ops, "json", false).filter((x) => x.length > 0);
      const fs = new SimFS();
      await writeSimLog(fs, DIR, segments);
      const maxLsn = segments.flat().at(-1)?.lsn ?? 0;
      const after = Math.floor(afterFrac * maxLsn);
      const upto = uptoFrac === undefined ? undefined : Math.floor(uptoFrac * maxLsn);
      const options: ReplayOptions<unknown> = { codec, fs, ...(chunkBytes === undefined ? {} : { chunkBytes }) };

      const full = await collect(replayDir(DIR, options));
      const want = full.filter((t) => t.beginLsn > after && (upto === undefined || t.commitLsn <= upto));
      const range = replayDir(DIR, { ...options, after, ...(upto === undefined ? {} : { upto }) });
      expect(await collect(range)).toEqual(want);
      const outcome = await range.outcome();
      expect(outcome.complete).toBe(true);
      expect(outcome.committedTransactions).toBe(want.length);
      expect(outcome.tornTail).toBeNull();
      if (upto !== undefined) expect(outcome.maxLsn).toBeLessThanOrEqual(upto);
      expect(await collect(readCommitted(DIR, { codec, fs, after, ...(upto === undefined ? {} : { upto }) }))).toEqual(
        upto !== undefined && upto <= after ? [] : want,
      );
    },
  );

  it("reads only the headers of the segments before the one holding after + 1, and never their records", async () => {
    const sim = new SimFS();
    await logDamagedBeforeSegment6(sim, DIR);
    await expect(collect(replayDir(DIR, { codec, fs: sim }))).rejects.toMatchObject({ code: "WAL_CORRUPT" });

    const { fs, counts } = countingFileSystem(sim);
    const bytesRead = counts.bytesRead;
    // Segment 6 holds lsns 151..180; after 160 starts there.
    const range = replayDir(DIR, { codec, fs, after: 160 });
    const got = await collect(range);
    expect(got.map((t) => t.beginLsn)).toEqual(Array.from({ length: 26 }, (_, i) => 163 + 3 * i));
    for (let id = 1; id <= 5; id++) expect(bytesRead.get(segmentPath(DIR, id)) ?? 0).toBeLessThanOrEqual(32);
    // Segment 6 is read whole (its header perhaps once more by the search).
    expect(bytesRead.get(segmentPath(DIR, 6))).toBeGreaterThanOrEqual(sim.readFileSync(segmentPath(DIR, 6)).byteLength);
    const outcome = await range.outcome();
    expect(outcome.segments.map((s) => s.id)).toEqual([6, 7, 8]);
    // The whole retained log's lowest fence, not the first segment read's.
    expect(outcome.oldestFence).toBe(0);
  });

  it("never reads a record above upto: damage after it, even in a later segment, is not seen", async () => {
    const sim = new SimFS();
    await writeSimLog(sim, DIR, evenLog(4, 10));
    const path = segmentPath(DIR, 3);
    const bytes = sim.readFileSync(path);
    bytes[bytes.byteLength - 5] = (bytes[bytes.byteLength - 5] as number) ^ 0xff;
    sim.writeFileSync(path, bytes);
    const { fs, counts } = countingFileSystem(sim);
    const bytesRead = counts.bytesRead;
    // Segment 2 holds lsns 31..60; upto 45 ends inside it.
    const range = replayDir(DIR, { codec, fs, after: 30, upto: 45, recovery: "absolute" });
    expect((await collect(range)).map((t) => t.commitLsn)).toEqual([33, 36, 39, 42, 45]);
    expect(await range.outcome()).toMatchObject({ complete: true, maxLsn: 45, tornTail: null, corruption: null });
    expect(bytesRead.get(segmentPath(DIR, 3)) ?? 0).toBeLessThanOrEqual(32);
    expect(bytesRead.get(segmentPath(DIR, 4)) ?? 0).toBeLessThanOrEqual(32);
  });

  it("after + 1 truncated away is WAL_TRUNCATED, or the retained records with allowTruncatedHistory", async () => {
    const fs = new SimFS();
    await writeSimLog(fs, DIR, evenLog(3, 10));
    await fs.unlink(segmentPath(DIR, 1));
    await expect(collect(replayDir(DIR, { codec, fs, after: 10 }))).rejects.toMatchObject({
      code: "WAL_TRUNCATED",
      details: { oldestRetainedLsn: 31, lsn: 10 },
    });
    const got = await collect(replayDir(DIR, { codec, fs, after: 10, allowTruncatedHistory: true }));
    expect(got.map((t) => t.beginLsn)[0]).toBe(31);
    // A resume point the log still holds needs no opt-in.
    expect((await collect(replayDir(DIR, { codec, fs, after: 30 }))).length).toBe(20);
  });

  it("a transaction begun before the segment read first is skipped, never an error", async () => {
    const fs = new SimFS();
    // Transaction 1 begins in segment 1 and commits in segment 2; transaction 4 lies wholly in segment 2.
    await writeSimLog(fs, DIR, [
      [
        { kind: "txBegin", lsn: 1 },
        { kind: "mutation", lsn: 2, txBeginLsn: 1, event: "a" },
      ],
      [
        { kind: "txCommit", lsn: 3, txBeginLsn: 1 },
        { kind: "txBegin", lsn: 4 },
        { kind: "mutation", lsn: 5, txBeginLsn: 4, event: "b" },
        { kind: "txCommit", lsn: 6, txBeginLsn: 4 },
      ],
    ]);
    expect(await collect(replayDir(DIR, { codec, fs, after: 2 }))).toEqual([
      { beginLsn: 4, commitLsn: 6, events: ["b"] },
    ]);
  });

  it("refuses bad bounds with WAL_INVALID_OPTION, and upto and its former name uptoLsn must agree", () => {
    const fs = new SimFS();
    expect(() => replayDir(DIR, { codec, fs, after: -1 })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    expect(() => replayDir(DIR, { codec, fs, upto: 1.5 })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    expect(() => replayDir(DIR, { codec, fs, upto: 3, uptoLsn: 4 })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    expect(() => replayDir(DIR, { codec, fs, upto: 3, uptoLsn: 3 })).not.toThrow();
  });
});
