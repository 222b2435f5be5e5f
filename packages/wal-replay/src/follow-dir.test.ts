import { appendFile, mkdtemp, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import {
  createNodeFileSystem,
  DURABLE_MARK_FILE,
  DurableMarkWriter,
  SegmentWriter,
  segmentPath,
  type WalFileSystem,
} from "@lora/wal-segment";
import { blankFile, boundProperty, countingFileSystem, interceptOpen, wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { type FollowDirOptions, followDir } from "./follow-dir.js";
import type { ReplayedTransaction } from "./replay-types.js";

// A follower beside a hand-driven writer (segment writer + durable mark), so every step of the writer is explicit:
// what is written, what is durable, a rotation, a crash that leaves a torn tail, a restart that cuts it.

const fs = createNodeFileSystem();
let dir: string;
let stop: AbortController;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-follow-"));
  stop = new AbortController();
});
afterEach(async () => {
  stop.abort();
  await rm(dir, { recursive: true, force: true });
});

type Tx = ReplayedTransaction<JsonValue>;

/**
 * Pull `n` transactions. No deadline: a wall-clock bound fails a follower that is only slow on a loaded machine; one
 * that never delivers is a hang, which the test timeout catches.
 */
async function take(it: AsyncIterator<Tx>, n: number): Promise<Tx[]> {
  const out: Tx[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) throw new Error("follower ended");
    out.push(r.value);
  }
  return out;
}

/**
 * Commit 8..10 (event "c") through `w`, publish it as durable in the mark of a session that started at
 * `sessionStart`, and check that the follower delivers exactly that commit next. Returns the new session's mark.
 */
async function commitInNewSession(w: SegmentWriter, follower: AsyncIterator<Tx>, sessionStart: number) {
  for (const r of tx(8, ["c"])) w.append(r, jsonCodec);
  await w.flush();
  const mark = await DurableMarkWriter.open(fs, dir, sessionStart);
  mark.publish(10);
  expect((await take(follower, 1)).map((t) => [t.commitLsn, t.events])).toEqual([[10, ["c"]]]);
  return mark;
}

/**
 * Segment 1 holds a begin at 1 that stays open and a transaction 2..4 and is sealed; segment 2 holds 5..7; a mark of
 * the session that started at `sessionStart` says 7 is durable; a follower has delivered 4 and 7.
 */
async function openTxAcrossRotation(sessionStart: number) {
  const w1 = await SegmentWriter.create(fs, segmentPath(dir, 1), 1);
  for (const r of [{ kind: "txBegin" as const, lsn: 1 }, ...tx(2, ["a"])]) w1.append(r, jsonCodec);
  await w1.seal();
  await w1.close();
  const w2 = await SegmentWriter.create(fs, segmentPath(dir, 2), 5);
  for (const r of tx(5, ["b"])) w2.append(r, jsonCodec);
  await w2.flush();
  const mark = await DurableMarkWriter.open(fs, dir, sessionStart);
  mark.publish(7);
  const follower = followDir<JsonValue>(dir, { codec: jsonCodec, signal: stop.signal, pollIntervalMs: 20 });
  expect((await take(follower, 2)).map((t) => t.commitLsn)).toEqual([4, 7]);
  return { w2, mark, follower };
}

/** Append the batch (at `at`) and the commit (at `at + 1`) of the open transaction begun at `begin`. */
function finishTx(w: SegmentWriter, begin: number, at: number, events: JsonValue[]): void {
  w.append({ kind: "mutationBatch", lsn: at, txBeginLsn: begin, events }, jsonCodec);
  w.append({ kind: "txCommit", lsn: at + 1, txBeginLsn: begin }, jsonCodec);
}

/**
 * Take `[beginLsn, commitLsn, events]` one transaction at a time: a follower that skipped one delivers the next in
 * its place, a plain mismatch rather than a time-out.
 */
async function expectOneByOne(it: AsyncIterator<Tx>, expected: [number, number, JsonValue[]][]): Promise<void> {
  for (const one of expected) {
    expect((await take(it, 1)).map((t) => [t.beginLsn, t.commitLsn, t.events])).toEqual([one]);
  }
}

/**
 * For a test that a follower delivers what the mark says is durable and nothing more: it never syncs a live writer's
 * bytes itself. By default it does once the mark has not moved for 1 s of wall time, which a loaded machine (the
 * test process descheduled for a second) can let pass during a "nothing yet" check: the follower then delivered the
 * transaction the check waits for the mark to cover.
 */
const MARK_ONLY = { selfSyncAfterMs: Number.MAX_SAFE_INTEGER } as const;

/**
 * The node file system, with a count of reads of the durable mark through it: a follower given it reads the mark
 * once per look at the log, so a count says how many looks it has had, whatever the machine's speed.
 */
function markReadsCounted() {
  let reads = 0;
  const waiters = new Set<{ at: number; resolve: () => void }>();
  const seen = (): void => {
    reads++;
    for (const w of waiters) {
      if (reads < w.at) continue;
      waiters.delete(w);
      w.resolve();
    }
  };
  const counted = interceptOpen(fs, async (path, mode, next) => {
    const file = await next(path, mode);
    if (basename(path) !== DURABLE_MARK_FILE) return file;
    return new Proxy(file, {
      get(target, key) {
        if (key === "read") {
          return async (...args: Parameters<typeof target.read>) => {
            const n = await target.read(...args);
            seen();
            return n;
          };
        }
        if (key === "readSync" && target.readSync !== undefined) {
          const readSync = target.readSync.bind(target);
          return (...args: Parameters<typeof readSync>) => {
            const n = readSync(...args);
            seen();
            return n;
          };
        }
        return boundProperty(target, key);
      },
    });
  });
  return {
    fs: counted,
    get reads() {
      return reads;
    },
    /** Resolves once the mark has been read `at` times in all. */
    reached(at: number): Promise<void> {
      if (reads >= at) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ at, resolve }));
    },
  };
}

/**
 * Ask for the next transaction and let the follower look at the log twice: `null` when it came (it must not have),
 * else the pending request (boxed: an async function returning a promise would wait for it). Two reads of the mark
 * since the request mean one whole look ended without a delivery and the follower waited for a change; a number of
 * milliseconds could pass on a loaded machine before it had looked at all. `wake`, when given, runs after the first
 * read: for a follower whose poll interval is long, something that makes it look again.
 */
async function deliversAfterTwoLooks(
  it: AsyncIterator<Tx>,
  marks: ReturnType<typeof markReadsCounted>,
  wake?: () => Promise<void>,
): Promise<{ next: Promise<IteratorResult<Tx>> } | null> {
  const from = marks.reads;
  const next = it.next();
  let came = false;
  const cameNow = (): true => {
    came = true;
    return true;
  };
  const looked = async (): Promise<false> => {
    await marks.reached(from + 1);
    await wake?.();
    await marks.reached(from + 2);
    return false;
  };
  await Promise.race([next.then(cameNow, cameNow), looked()]);
  return came ? null : { next };
}

/**
 * A follower of the test's directory that delivers only what the durable mark says is durable (self-sync off), with
 * its reads of the mark counted for {@link deliversAfterTwoLooks}.
 */
function markOnlyFollower(pollIntervalMs: number) {
  const marks = markReadsCounted();
  const follower = followDir<JsonValue>(dir, {
    codec: jsonCodec,
    fs: marks.fs,
    watch: true,
    signal: stop.signal,
    ...MARK_ONLY,
    pollIntervalMs,
  });
  return { marks, follower };
}

describe("followDir", () => {
  it("delivers only what the mark says is durable, follows rotation, and wakes on the mark", async () => {
    const w1 = await SegmentWriter.create(fs, segmentPath(dir, 1), 1);
    const mark = await DurableMarkWriter.open(fs, dir);
    mark.publish(0);
    const { marks, follower } = markOnlyFollower(5000);
    for (const r of [...tx(1, ["a"]), ...tx(4, ["b"])]) w1.append(r, jsonCodec);
    await w1.flush();
    // Written, not durable: nothing yet (the mark still says 0, and this follower never syncs it itself). A file the
    // follower does not know wakes it (its poll is 5 s) for the second look.
    const pending = await deliversAfterTwoLooks(follower, marks, () => writeFile(join(dir, "wake"), ""));
    expect(pending).not.toBeNull();
    mark.publish(3);
    const first = await (pending as { next: Promise<IteratorResult<Tx>> }).next;
    expect(first.value?.commitLsn).toBe(3);
    mark.publish(6);
    expect((await take(follower, 1)).map((t) => t.commitLsn)).toEqual([6]);
    // Rotation: seal, a new segment, more commits.
    await w1.seal();
    await w1.close();
    const w2 = await SegmentWriter.create(fs, segmentPath(dir, 2), 7);
    for (const r of tx(7, ["c"])) w2.append(r, jsonCodec);
    await w2.flush();
    mark.publish(9);
    expect((await take(follower, 1)).map((t) => [t.commitLsn, t.events])).toEqual([[9, ["c"]]]);
    expect(follower.position).toBe(9);
    await w2.close();
    await mark.close(9);
    await follower.return();
  });

  it("beside a preallocating writer: every commit, through the zero-fills extended under it", async () => {
    const path = segmentPath(dir, 1);
    const w = await SegmentWriter.create(fs, path, 1, { preallocateBytes: 8192 });
    const mark = await DurableMarkWriter.open(fs, dir);
    mark.publish(0);
    const { marks, follower } = markOnlyFollower(20);
    // 40 commits of ~1 KiB: the fill is extended several times under the follower.
    for (let i = 0; i < 40; i++) {
      for (const r of tx(1 + 3 * i, ["x".repeat(1000)])) w.append(r, jsonCodec);
      await w.flush();
      mark.publish(3 + 3 * i);
      expect((await take(follower, 1)).map((t) => t.commitLsn)).toEqual([3 + 3 * i]);
    }
    // Written, not durable: read ahead but not delivered, then delivered once the mark says so.
    for (const r of tx(121, ["last"])) w.append(r, jsonCodec);
    await w.flush();
    const pending = await deliversAfterTwoLooks(follower, marks);
    expect(pending).not.toBeNull();
    mark.publish(123);
    expect((await (pending as { next: Promise<IteratorResult<Tx>> }).next).value?.events).toEqual(["last"]);
    await w.close();
    await mark.close(123);
    await follower.return();
  });

  it("a writer crash and restart that cuts a torn tail: nothing delivered twice, skipped, or taken back", async () => {
    const path = segmentPath(dir, 1);
    const w = await SegmentWriter.create(fs, path, 1);
    let mark = await DurableMarkWriter.open(fs, dir);
    for (const r of [...tx(1, ["a"]), ...tx(4, ["b-not-durable"])]) w.append(r, jsonCodec);
    await w.flush();
    mark.publish(3);
    const { marks, follower } = markOnlyFollower(20);
    expect((await take(follower, 1)).map((t) => t.commitLsn)).toEqual([3]);
    // The follower has read transaction 4..6 ahead of durability. The writer dies; its last transaction is cut
    // (a torn tail after a power loss) and the next writer writes a different transaction at the same LSNs.
    const pending = await deliversAfterTwoLooks(follower, marks);
    expect(pending).not.toBeNull();
    const cutAt = w.size - 3 * 25 - 1; // not exact: cut inside the second transaction
    await w.close();
    await truncate(path, cutAt);
    await appendFile(path, new Uint8Array(3)); // a few torn bytes
    const { replayDir } = await import("./replay.js");
    const outcome = await replayDir<JsonValue>(dir, { codec: jsonCodec }).outcome();
    await truncate(path, outcome.lastGoodOffset);
    const w2 = await SegmentWriter.openForAppend(fs, path, outcome.lastGoodOffset);
    for (const r of tx(outcome.maxLsn + 1, ["b-new"])) w2.append(r, jsonCodec);
    await w2.flush();
    mark = await DurableMarkWriter.open(fs, dir);
    mark.publish(outcome.maxLsn + 3);
    const next = await (pending as { next: Promise<IteratorResult<Tx>> }).next;
    expect(next.value?.events).toEqual(["b-new"]);
    expect(next.value?.commitLsn).toBe(outcome.maxLsn + 3);
    await w2.close();
    await mark.close(outcome.maxLsn + 3);
    await follower.return();
  });

  it("without a mark (a LoraDB writer, a crashed one) it syncs what it read itself and delivers", async () => {
    const w = await SegmentWriter.create(fs, segmentPath(dir, 1), 1);
    for (const r of tx(1, ["x"])) w.append(r, jsonCodec);
    await w.flush();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, signal: stop.signal, pollIntervalMs: 20 });
    expect((await take(follower, 1)).map((t) => t.events)).toEqual([["x"]]);
    await w.close();
    await follower.return();
  });

  it("without a mark, catching up syncs once per sealed segment, and once per read-ahead of the newest", async () => {
    // Two segments of 3000 transactions each (the follower hands out at most 1024 per read-ahead).
    let lsn = 1;
    for (const id of [1, 2]) {
      const w = await SegmentWriter.create(fs, segmentPath(dir, id), lsn);
      for (let i = 0; i < 3000; i++) {
        for (const r of tx(lsn, [i])) w.append(r, jsonCodec);
        lsn += 3;
      }
      await w.flush();
      if (id === 1) await w.seal();
      await w.close();
    }
    const { fs: counting, counts } = countingFileSystem(fs);
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, fs: counting, signal: stop.signal });
    const got = await take(follower, 6000);
    expect(got.map((t) => t.events[0])).toEqual([
      ...Array.from({ length: 3000 }, (_, i) => i),
      ...Array.from({ length: 3000 }, (_, i) => i),
    ]);
    // One self-sync covers everything below a sealed segment's size then: about one per sealed segment. The newest
    // segment's size is no such promise (a crashed writer's torn tail there is cut and written over by the next
    // session), so it costs one sync per read-ahead (at most 1024 transactions): 3 for its 3000.
    const datasyncs = [...counts.datasyncs.values()].reduce((a, b) => a + b, 0);
    expect(datasyncs).toBeLessThanOrEqual(2 + Math.ceil(3000 / 1024));
    expect(datasyncs).toBeGreaterThan(0);
    await follower.return();
  });

  it("behind truncation it fails with WAL_TRUNCATED, never a silent gap; the signal ends it quietly", async () => {
    for (let id = 1; id <= 3; id++) {
      await writeSegment(dir, id, (id - 1) * 3 + 1, tx((id - 1) * 3 + 1, [id]), { sealed: id < 3 });
    }
    await unlink(segmentPath(dir, 1));
    const behind = followDir<JsonValue>(dir, { codec: jsonCodec, durability: "written", signal: stop.signal });
    await expect(behind.next()).rejects.toMatchObject({ code: "WAL_TRUNCATED", details: { oldestRetainedLsn: 4 } });
    const fine = followDir<JsonValue>(dir, { codec: jsonCodec, after: 3, durability: "written", signal: stop.signal });
    expect((await take(fine, 2)).map((t) => t.events)).toEqual([[2], [3]]);
    const waiting = fine.next();
    stop.abort();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it("a dead transaction does not pin a follower that learns of a later session before reading its end", async () => {
    // Session 1 leaves a transaction begun at 1 open and commits 2..4; session 2 (from 5) rotates and commits 5..7.
    const { w2, mark: mark2, follower } = await openTxAcrossRotation(5);
    // Its consumers past 7, segment 1 is truncated away. Session 2 commits 8..10 and dies; session 3 (from 11)
    // publishes before the follower has read 8..10: what was open is kept, except the begin at 1, which it saw die.
    await unlink(segmentPath(dir, 1));
    const mark3 = await commitInNewSession(w2, follower, 11);
    await w2.close();
    await mark3.close(10);
    await mark2.close(10).catch(() => undefined);
    await follower.return();
  });

  it("a transaction a crashed writer left open does not pin the follower to a segment truncation removed", async () => {
    // Session 1 begins a transaction at lsn 1 that it never ends, commits 2..4, and is killed.
    const w1 = await SegmentWriter.create(fs, segmentPath(dir, 1), 1);
    for (const r of [{ kind: "txBegin" as const, lsn: 1 }, ...tx(2, ["a"])]) w1.append(r, jsonCodec);
    await w1.flush();
    const mark1 = await DurableMarkWriter.open(fs, dir);
    mark1.publish(4);
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, signal: stop.signal, pollIntervalMs: 20 });
    expect((await take(follower, 1)).map((t) => t.commitLsn)).toEqual([4]);
    await w1.close();
    // Session 2 rotates, commits 5..7, and (its consumers past lsn 7) truncates segment 1 away.
    const sealer = await SegmentWriter.openForAppend(fs, segmentPath(dir, 1), w1.size);
    await sealer.seal();
    await sealer.close();
    const w2 = await SegmentWriter.create(fs, segmentPath(dir, 2), 5);
    for (const r of tx(5, ["b"])) w2.append(r, jsonCodec);
    await w2.flush();
    // Each session's mark says where it started (a writer's does): what is open below that start is dead.
    const mark2 = await DurableMarkWriter.open(fs, dir, 5);
    mark2.publish(7);
    expect((await take(follower, 1)).map((t) => [t.commitLsn, t.events])).toEqual([[7, ["b"]]]);
    await unlink(segmentPath(dir, 1));
    // Session 3: the follower resets again. The begin at lsn 1 belongs to a dead session and can never commit;
    // it must not send the follower back to lsn 1 (a false WAL_TRUNCATED).
    const mark3 = await commitInNewSession(w2, follower, 8);
    await w2.close();
    await mark3.close(10);
    await Promise.all([mark1, mark2].map((m) => m.close(10).catch(() => undefined)));
    await follower.return();
  });

  it("a new session's open transaction read before its first mark survives the reset that mark causes", async () => {
    // Session 1 commits 1..3, publishes, and is killed (its mark stays, stale, "not closed").
    const w1 = await SegmentWriter.create(fs, segmentPath(dir, 1), 1);
    for (const r of tx(1, ["a"])) w1.append(r, jsonCodec);
    await w1.flush();
    const mark1 = await DurableMarkWriter.open(fs, dir, 1);
    mark1.publish(3);
    const follower = followDir<JsonValue>(dir, {
      codec: jsonCodec,
      signal: stop.signal,
      pollIntervalMs: 20,
      selfSyncAfterMs: 0,
    });
    expect((await take(follower, 1)).map((t) => t.commitLsn)).toEqual([3]);
    // Session 2 begins T at 4, commits C (5..7) inside it, and has published nothing yet: the follower, seeing only
    // session 1's stale mark, syncs what it read itself and delivers C (token restart 4: T is open).
    const mark2 = await DurableMarkWriter.open(fs, dir, 4);
    for (const r of [{ kind: "txBegin" as const, lsn: 4 }, ...tx(5, ["c"])]) w1.append(r, jsonCodec);
    await w1.flush();
    const [c] = await take(follower, 1);
    expect([c?.commitLsn, follower.restartLsn]).toEqual([7, 4]);
    // Session 2 rotates (T stays open across it), commits T and U in segment 2, and publishes its first mark: a
    // new session for the follower, which drops what it read ahead. T is the new session's and was open: it must
    // be read again from its begin in segment 1, not from after the last delivered commit (segment 2).
    await w1.seal();
    await w1.close();
    const w2 = await SegmentWriter.create(fs, segmentPath(dir, 2), 8);
    finishTx(w2, 4, 8, ["t"]);
    for (const r of tx(10, ["u"])) w2.append(r, jsonCodec);
    await w2.flush();
    mark2.publish(12);
    await expectOneByOne(follower, [
      [4, 9, ["t"]],
      [10, 12, ["u"]],
    ]);
    await w2.close();
    await mark2.close(12);
    await mark1.close(12).catch(() => undefined);
    await follower.return();
  });

  it("a transaction still open where the follower learns of a new session may have committed after what it read", async () => {
    // Session 1 begins T at 1, commits 2..4 in segment 1, rotates, commits 5..7: delivered, T still open.
    const { w2, mark: mark1, follower } = await openTxAcrossRotation(1);
    // Session 1 then commits T (8..9) and 10..12 and dies; session 2 starts at 13 and publishes before the follower
    // has read any of that. T began below session 2's start, but the follower never saw whether it committed.
    finishTx(w2, 1, 8, ["t"]);
    for (const r of tx(10, ["c"])) w2.append(r, jsonCodec);
    await w2.flush();
    const mark2 = await DurableMarkWriter.open(fs, dir, 13);
    mark2.publish(12);
    await expectOneByOne(follower, [
      [1, 9, ["t"]],
      [10, 12, ["c"]],
    ]);
    await w2.close();
    await mark2.close(12);
    await mark1.close(12).catch(() => undefined);
    await follower.return();
  });

  it("a transaction begun before a delivered one is read whole and delivered once it commits", async () => {
    // The transaction begun at 4 is open while 1..3 is delivered; its records come later and it is delivered whole.
    const path = segmentPath(dir, 1);
    const w = await SegmentWriter.create(fs, path, 1);
    for (const r of [...tx(1, ["a"]), { kind: "txBegin" as const, lsn: 4 }]) w.append(r, jsonCodec);
    await w.flush();
    const mark = await DurableMarkWriter.open(fs, dir);
    mark.publish(4);
    const { marks, follower } = markOnlyFollower(20);
    expect((await take(follower, 1)).map((t) => t.commitLsn)).toEqual([3]);
    const pending = await deliversAfterTwoLooks(follower, marks);
    expect(pending).not.toBeNull();
    w.append({ kind: "mutationBatch", lsn: 5, txBeginLsn: 4, events: ["b"] }, jsonCodec);
    w.append({ kind: "txCommit", lsn: 6, txBeginLsn: 4 }, jsonCodec);
    await w.flush();
    mark.publish(6);
    const next = await (pending as { next: Promise<IteratorResult<Tx>> }).next;
    expect([next.value?.beginLsn, next.value?.commitLsn, next.value?.events]).toEqual([4, 6, ["b"]]);
    await w.close();
    await mark.close(6);
    await follower.return();
  });

  it("refuses bad options at once", () => {
    expect(() => followDir(dir, { codec: jsonCodec, after: -1 })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    expect(() => followDir(dir, { codec: jsonCodec, after: 1, slot: "s" })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    expect(() => followDir(dir, { codec: jsonCodec, durability: "eventually" as "durable" })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    // Each of these used to be taken: a poll every millisecond (a timer past 2^31 - 1 ms), "no" as true, and a
    // TypeError at the first next() for a missing codec or a signal that is not one.
    const refused: Partial<FollowDirOptions<unknown>>[] = [
      { pollIntervalMs: 2 ** 31 },
      { pollIntervalMs: 2 ** 31 - 0.5 }, // above the longest timer: Node would fire it after 1 ms
      { pollIntervalMs: 1e12 },
      { pollIntervalMs: Number.NaN },
      { selfSyncAfterMs: Number.POSITIVE_INFINITY },
      { selfSyncAfterMs: -1 },
      { watch: "no" as never },
      { signal: {} as never },
      { signal: "x" as never },
      { codec: undefined as never },
      { codec: {} as never },
    ];
    for (const bad of refused) {
      expect(() => followDir(dir, { codec: jsonCodec, ...bad }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
      );
    }
    expect(() => followDir(dir, null as never)).toThrow(expect.objectContaining({ code: "WAL_INVALID_OPTION" }));
    // Not a timer: "never self-sync" stays a valid way to say it.
    const never = followDir(dir, { codec: jsonCodec, selfSyncAfterMs: Number.MAX_SAFE_INTEGER, watch: false });
    void never.return();
  });
});

describe("followDir and records that will never decode", () => {
  it("the wrong codec is WAL_CODEC_MISMATCH at once (no waiting), also without a durable mark", async () => {
    const { bytesCodec } = await import("@lora/wal-codec");
    const w = await SegmentWriter.create(fs, segmentPath(dir, 1), 1);
    // JSON's decoder rejects these bytes; they are CRC-valid records all the same.
    for (const r of [
      { kind: "txBegin" as const, lsn: 1 },
      { kind: "mutation" as const, lsn: 2, txBeginLsn: 1, event: new Uint8Array([0xff, 0xfe]) },
      { kind: "txCommit" as const, lsn: 3, txBeginLsn: 1 },
    ])
      w.append(r, bytesCodec);
    await w.flush();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, signal: stop.signal, pollIntervalMs: 20 });
    await expect(follower.next()).rejects.toMatchObject({ code: "WAL_CODEC_MISMATCH" });
    await w.close();
  });
});

describe("followDir across a rotation it sees half done", () => {
  it("retries a segment whose header was not there at the first read though the writer has moved past it", async () => {
    // Segment 1 sealed, 2 sealed, 3 newest: the follower's first open of segment 2 reads it before its header
    // landed (as a slow machine can, while the writer creates 2, seals it and creates 3 in between).
    const mark = await DurableMarkWriter.open(fs, dir, 1);
    let lsn = 1;
    for (const id of [1, 2, 3]) {
      const w = await SegmentWriter.create(fs, segmentPath(dir, id), lsn);
      for (const r of tx(lsn, [{ id }])) w.append(r, jsonCodec);
      lsn += 3;
      if (id < 3) await w.seal();
      else await w.flush();
      await w.sync();
      await w.close();
    }
    mark.publish(lsn - 1);
    let opensOf2 = 0;
    let blankReads = 0;
    const seam = wrapFileSystem(fs, (file) => {
      if (!file.path.endsWith(segmentPath("", 2))) return file;
      // The first open of segment 2 is the search for where to start; the second is the move to it from
      // segment 1, the one that meets the half-created file.
      if (++opensOf2 !== 2) return file;
      blankReads++;
      // This open sees the file as the writer had just created it: no bytes yet.
      return blankFile(file);
    });
    const follower = followDir<JsonValue>(dir, {
      codec: jsonCodec,
      fs: seam,
      watch: false,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    const got = await take(follower, 3);
    expect(got.map((t) => t.events)).toEqual([[{ id: 1 }], [{ id: 2 }], [{ id: 3 }]]);
    expect(blankReads).toBe(1); // the blank read did happen
    await mark.close(lsn - 1);
  });
});

describe("followDir and a newest segment read before its header, then written or removed", () => {
  /** Segments `ids`, one transaction `{ id }` each (3 LSNs), every one sealed except the last when `lastOpen`. */
  async function writeSegments(ids: number[], lastOpen: boolean): Promise<number> {
    let lsn = 1;
    for (const id of ids) {
      const w = await SegmentWriter.create(fs, segmentPath(dir, id), lsn);
      for (const r of tx(lsn, [{ id }])) w.append(r, jsonCodec);
      lsn += 3;
      if (lastOpen && id === ids[ids.length - 1]) await w.flush();
      else await w.seal();
      await w.sync();
      await w.close();
    }
    return lsn - 1;
  }

  /**
   * A seam whose next open of segment `id` (once `armed`) reads nothing, as a reader meets the file the instant a
   * writer created it; `alsoRemove` removes the file during that read, as a writer's recovery removes a headerless
   * newest segment before the reader looks at it again.
   */
  function blankOnce(id: number, alsoRemove: boolean) {
    // missedAfterRemoval: opens of the removed file that failed (the reader's second look found it gone).
    const state = { armed: false, fired: 0, removed: 0, missedAfterRemoval: 0 };
    const wrapped = wrapFileSystem(fs, (file) => {
      if (!state.armed || !file.path.endsWith(segmentPath("", id))) return file;
      state.armed = false;
      state.fired++;
      return blankFile(file, async () => {
        if (!alsoRemove) return;
        await unlink(file.path);
        state.removed++;
      });
    });
    const seam = new Proxy(wrapped, {
      get(target, k) {
        if (k !== "open") return boundProperty(target, k);
        return async (path: string, mode: Parameters<WalFileSystem["open"]>[1]) => {
          try {
            return await target.open(path, mode);
          } catch (error) {
            if (state.removed > 0 && path.endsWith(segmentPath("", id))) state.missedAfterRemoval++;
            throw error;
          }
        };
      },
    });
    return { state, seam };
  }

  function follow(seam: WalFileSystem) {
    return followDir<JsonValue>(dir, {
      codec: jsonCodec,
      fs: seam,
      watch: false,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
  }

  it("starts when the newest segment's header lands between its blank read and the look at the file", async () => {
    const mark = await DurableMarkWriter.open(fs, dir, 1);
    const last = await writeSegments([1, 2], true);
    mark.publish(last);
    const { state, seam } = blankOnce(2, false);
    state.armed = true; // the first open of 2 is the search for where to start: it reads the newest header
    const got = await take(follow(seam), 2);
    expect(got.map((t) => t.events)).toEqual([[{ id: 1 }], [{ id: 2 }]]);
    expect(state.fired).toBe(1);
    await mark.close(last);
  });

  it("starts when the newest segment it read blank is removed before it looks again, then reads it made anew", async () => {
    const mark = await DurableMarkWriter.open(fs, dir, 1);
    const last = await writeSegments([1, 2, 3], true);
    mark.publish(6);
    const { state, seam } = blankOnce(3, true);
    state.armed = true;
    const follower = follow(seam);
    expect((await take(follower, 2)).map((t) => t.events)).toEqual([[{ id: 1 }], [{ id: 2 }]]);
    expect(state.fired).toBe(1);
    // The recovering writer creates segment 3 again (the same records, as its session writes them again).
    const w = await SegmentWriter.create(fs, segmentPath(dir, 3), 7);
    for (const r of tx(7, [{ id: 3 }])) w.append(r, jsonCodec);
    await w.flush();
    await w.sync();
    mark.publish(last);
    expect((await take(follower, 1)).map((t) => t.events)).toEqual([[{ id: 3 }]]);
    await w.close();
    await mark.close(last);
  });

  it("outlasts listings that find a listed segment gone more times in a row than its search for a start retries", async () => {
    const mark = await DurableMarkWriter.open(fs, dir, 1);
    const last = await writeSegments([1, 2], true);
    mark.publish(last);
    // Every open of segment 2 fails as for a file removed since the listing (a real ENOENT from the seam), 12 times
    // in a row: more than one search's own retries (9 listings), as truncations or restarting writers one after
    // another would make it. Then the file is there again.
    let gone = 12;
    const seam = interceptOpen(fs, (path, mode, next) => {
      if (gone > 0 && path.endsWith(segmentPath("", 2))) {
        gone--;
        return next(`${path}.removed`, mode);
      }
      return next(path, mode);
    });
    const got = await take(follow(seam), 2);
    expect(got.map((t) => t.events)).toEqual([[{ id: 1 }], [{ id: 2 }]]);
    expect(gone).toBe(0);
    await mark.close(last);
  });

  it("fails with WAL_IO when a listed segment stays missing (no churn: a dangling link named like a segment)", async () => {
    const mark = await DurableMarkWriter.open(fs, dir, 1);
    const last = await writeSegments([1, 2], true);
    mark.publish(last);
    let opens = 0;
    const seam = interceptOpen(fs, (path, mode, next) => {
      if (!path.endsWith(segmentPath("", 2))) return next(path, mode);
      opens++;
      return next(`${path}.removed`, mode);
    });
    await expect(take(follow(seam), 1)).rejects.toMatchObject({ code: "WAL_IO", details: { errno: "ENOENT" } });
    // Bounded: 9 listings a wake-up, 17 wake-ups, then the error (not a silent wait).
    expect(opens).toBe(9 * 17);
    await mark.close(last);
  });

  it("fails with WAL_IO (ENOENT) for a log directory that does not exist, at its first look, rather than waiting", async () => {
    let listings = 0;
    const seam = wrapFileSystem(fs, (file) => file, {
      readdir: (path: string) => {
        listings++;
        return fs.readdir(path);
      },
    });
    const follower = followDir<JsonValue>(join(dir, "no-such-log"), {
      codec: jsonCodec,
      fs: seam,
      watch: false,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    await expect(take(follower, 1)).rejects.toMatchObject({ code: "WAL_IO", details: { errno: "ENOENT" } });
    expect(listings).toBeLessThanOrEqual(9); // one search (its own retries), not one per wake-up
  });

  it("waits when the next segment it read blank is removed before it looks again, then reads it made anew", async () => {
    const mark = await DurableMarkWriter.open(fs, dir, 1);
    await writeSegments([1, 2], false);
    mark.publish(6);
    const { state, seam } = blankOnce(3, true);
    const follower = follow(seam);
    expect((await take(follower, 2)).map((t) => t.events)).toEqual([[{ id: 1 }], [{ id: 2 }]]);
    // Segment 3 appears; the follower's move to it reads it blank, and it is gone before the follower looks again.
    state.armed = true;
    const first = await SegmentWriter.create(fs, segmentPath(dir, 3), 7);
    await first.close();
    const third = follower.next();
    // Waited for by count, not by time: the follower's move to segment 3 read it blank, it is gone, and the
    // follower's second look found it gone; only then does the writer make it again.
    await vi.waitFor(() => expect(state.missedAfterRemoval).toBeGreaterThan(0), { timeout: 600_000, interval: 2 });
    const w = await SegmentWriter.create(fs, segmentPath(dir, 3), 7);
    for (const r of tx(7, [{ id: 3 }])) w.append(r, jsonCodec);
    await w.flush();
    await w.sync();
    mark.publish(9);
    const got = await third;
    expect(got.done ? undefined : got.value.events).toEqual([{ id: 3 }]);
    expect(state.fired).toBe(1);
    await w.close();
    await mark.close(9);
  });
});
