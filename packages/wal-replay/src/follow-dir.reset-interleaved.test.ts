/**
 * Where a follower reads again from when a writer restart drops what it read ahead, with interleaved transactions
 * open across segments: below the begin of a committed transaction it read ahead but did not deliver, below the
 * lowest (not the newest) begin still open, and at the LSN right after the last delivered commit (not one past it).
 * Each restart point is in an earlier segment than the wrong one would be, so a wrong point loses a transaction.
 * Every token delivered is then resumed from by a fresh follower, which must see each later transaction once. The
 * point is kept when reopening there has to wait (the segment read as gone), also through a second restart meanwhile.
 *
 * The follower does nothing between calls of `next()`: everything a step writes is in the files before the follower
 * looks, so which records it read before the restart is fixed by the test, not by timing.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import {
  createNodeFileSystem,
  DurableMarkWriter,
  SegmentWriter,
  segmentPath,
  type WalFile,
  type WalFileSystem,
} from "@lora/wal-segment";
import { boundProperty, wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import type { CommittedTransaction } from "./replay-types.js";

const fs = createNodeFileSystem();
let dir: string;
let stop: AbortController;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-follow-reset-"));
  stop = new AbortController();
});
afterEach(async () => {
  stop.abort();
  await rm(dir, { recursive: true, force: true });
});

type Tx = CommittedTransaction<JsonValue>;
type Seen = [beginLsn: number, commitLsn: number, events: JsonValue[]];

const begin = (lsn: number): WalRecord<JsonValue> => ({ kind: "txBegin", lsn });
const event = (lsn: number, txBeginLsn: number, e: JsonValue): WalRecord<JsonValue> => ({
  kind: "mutation",
  lsn,
  txBeginLsn,
  event: e,
});
const commit = (lsn: number, txBeginLsn: number): WalRecord<JsonValue> => ({ kind: "txCommit", lsn, txBeginLsn });

/** Take the next transactions one at a time (a skipped one shows as a mismatch, not a hang); bounded by count. */
async function expectNext(it: AsyncIterator<Tx>, expected: Seen[]): Promise<Tx[]> {
  const got: Tx[] = [];
  for (const one of expected) {
    const step = await it.next();
    if (step.done === true) throw new Error("follower ended");
    expect([step.value.beginLsn, step.value.commitLsn, step.value.events]).toEqual(one);
    got.push(step.value);
  }
  return got;
}

/** A hand-driven writer: segments written record by record, and each session's durable mark. */
function handWriter() {
  let segment: SegmentWriter | undefined;
  let id = 0;
  const marks: DurableMarkWriter[] = [];
  return {
    /** Append `records` to the open segment (a new one based at the first record's LSN if none), then seal or flush. */
    async write(records: WalRecord<JsonValue>[], then: "seal" | "flush"): Promise<void> {
      if (segment === undefined) {
        const first = records[0] as WalRecord<JsonValue>;
        segment = await SegmentWriter.create(fs, segmentPath(dir, ++id), first.lsn);
      }
      for (const r of records) segment.append(r, jsonCodec);
      if (then === "flush") {
        await segment.flush();
        return;
      }
      await segment.seal();
      await segment.close();
      segment = undefined;
    },
    /** A new writer session that started at `startLsn` publishes `durableLsn`. */
    async session(startLsn: number, durableLsn: number): Promise<void> {
      const mark = await DurableMarkWriter.open(fs, dir, startLsn);
      mark.publish(durableLsn);
      marks.push(mark);
    },
    async close(finalLsn: number): Promise<void> {
      await segment?.close();
      for (const mark of marks) await mark.close(finalLsn);
    },
  };
}

/**
 * Session 1: Q begins in segment 1, A in segment 2, B in segment 3, where C commits (durable) and then Q (written,
 * not durable). A follower (through `seam`) delivers C and holds Q read ahead, A and B open. Then session 1 commits A
 * and B and dies. The follower has not looked since C.
 */
async function readAheadAcrossSegments(w: ReturnType<typeof handWriter>, seam: WalFileSystem = fs) {
  await w.write([begin(1), event(2, 1, "q")], "seal");
  await w.write([begin(3), event(4, 3, "a1")], "seal");
  await w.write([begin(5), event(6, 5, "b"), ...tx(7, ["c"]), commit(10, 1)], "flush");
  await w.session(1, 9);
  const follower = followDir<JsonValue>(dir, {
    codec: jsonCodec,
    fs: seam,
    signal: stop.signal,
    pollIntervalMs: 20,
    selfSyncAfterMs: 600_000,
  });
  const delivered = await expectNext(follower, [[7, 9, ["c"]]]);
  await w.write([event(11, 3, "a2"), commit(12, 3), commit(13, 5)], "flush");
  return { follower, delivered };
}

/** What follows C once the follower reads again from Q's begin in segment 1. */
const AFTER_C: Seen[] = [
  [1, 10, ["q"]],
  [3, 12, ["a1", "a2"]],
  [5, 13, ["b"]],
];

describe("followDir reading again after a writer restart, interleaved transactions open", () => {
  it("restarts below every undelivered and open transaction, and its tokens resume exactly", async () => {
    const w = handWriter();
    const { follower, delivered } = await readAheadAcrossSegments(w);

    // Session 2 publishes before the follower read A's and B's commits. Reading again must start in segment 1
    // (Q's begin), not at the lowest open begin (A, segment 2): Q is read ahead, not delivered. Session 2 begins E
    // (segment 3), then G and F (segment 4), and commits G: F, the newest begin, is open, and E below it.
    await w.write([begin(14), event(15, 14, "e")], "seal");
    await w.write([begin(16), event(17, 16, "g"), begin(18), event(19, 18, "f"), commit(20, 16)], "flush");
    await w.session(14, 20);
    delivered.push(...(await expectNext(follower, [...AFTER_C, [16, 20, ["g"]]])));

    // Session 2 commits E and F and dies; session 3 publishes before the follower read them. Reading again must
    // start at E's begin (segment 3), the lowest open one, not at F's, the newest (segment 4).
    await w.write([commit(21, 14), commit(22, 18)], "flush");
    await w.session(23, 22);
    delivered.push(
      ...(await expectNext(follower, [
        [14, 21, ["e"]],
        [18, 22, ["f"]],
      ])),
    );

    // Session 3 begins H at 23 (the last record of segment 4, right after the last commit delivered), commits it in
    // segment 5 and dies; session 4 publishes before the follower read any of it: nothing is queued or open, and
    // reading again starts at 23 (segment 4), not at 24 (segment 5).
    await w.write([begin(23)], "seal");
    await w.write([event(24, 23, "h"), commit(25, 23)], "flush");
    await w.session(26, 25);
    delivered.push(...(await expectNext(follower, [[23, 25, ["h"]]])));
    await follower.return();

    // Every token delivered (across the restarts) resumes at exactly the transactions delivered after it.
    const all: Seen[] = delivered.map((t) => [t.beginLsn, t.commitLsn, t.events]);
    expect(delivered.map((t) => [t.commitLsn, t.restartLsn])).toEqual([
      [9, 1],
      [10, 3],
      [12, 5],
      [13, 14],
      [20, 14],
      [21, 18],
      [22, 23],
      [25, 26],
    ]);
    for (const [i, token] of delivered.entries()) {
      if (i === delivered.length - 1) break;
      const resumed = followDir<JsonValue>(dir, {
        codec: jsonCodec,
        after: token.commitLsn,
        restartLsn: token.restartLsn,
        signal: stop.signal,
        pollIntervalMs: 20,
      });
      await expectNext(resumed, all.slice(i + 1));
      await resumed.return();
    }
    await w.close(25);
  });

  it("keeps the restart point when reopening has to wait, also across a second restart meanwhile", async () => {
    const w = handWriter();
    // Armed, the reads of segment 1 that open a reader (the only ones that measure its size) fail as for a file
    // removed meanwhile (a truncation or a recovery replacing it): twice, and session 3 publishes at the second.
    let failures = 0;
    const seam = wrapFileSystem(fs, (file: WalFile) => {
      if (failures === 0 || !file.path.endsWith(segmentPath("", 1))) return file;
      return new Proxy(file, {
        get(target, key) {
          if (key !== "size" && key !== "sizeSync") return boundProperty(target, key);
          if (key === "sizeSync") return undefined;
          return async () => {
            if (failures === 0) return await target.size();
            failures--;
            if (failures === 0) await w.session(15, 13);
            throw Object.assign(new Error("ENOENT: gone meanwhile"), { code: "ENOENT" });
          };
        },
      });
    });
    const { follower } = await readAheadAcrossSegments(w, seam);
    await w.session(14, 13);
    failures = 2;
    await expectNext(follower, AFTER_C);
    expect(failures).toBe(0);
    await follower.return();
    await w.close(13);
  });

  it("reads again from the one LSN truncation removed while the transaction begun there may be open", async () => {
    const w = handWriter();
    // Segment 1 (LSNs 1 and 2) is gone; the token {after 1, restart 2} may start without LSN 2 alone, and a record
    // of a transaction begun there must fail WAL_TRUNCATED rather than be skipped as begun before reading.
    const second = await SegmentWriter.create(fs, segmentPath(dir, 2), 3);
    for (const r of tx(3, ["c"])) second.append(r, jsonCodec);
    await second.flush();
    await w.session(1, 5);
    const follower = followDir<JsonValue>(dir, {
      codec: jsonCodec,
      after: 1,
      restartLsn: 2,
      signal: stop.signal,
      pollIntervalMs: 20,
    });
    const [c] = await expectNext(follower, [[3, 5, ["c"]]]);
    expect(c?.restartLsn).toBe(2);
    // The transaction begun at 2 goes on and commits, then D; session 2 publishes before the follower read any of
    // it. Reading again from after the last delivered commit (6) would skip 6 and 7 and deliver D.
    for (const r of [event(6, 2, "t"), commit(7, 2), ...tx(8, ["d"])]) second.append(r, jsonCodec);
    await second.flush();
    await w.session(11, 10);
    await expect(follower.next()).rejects.toMatchObject({ code: "WAL_TRUNCATED" });
    await second.close();
    await w.close(10);
  });
});
