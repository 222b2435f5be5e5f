import { mkdtemp, rm, stat, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { DurableMarkWriter, SegmentWriter, segmentPath, type WalFileSystem } from "@lora/wal-segment";
import { interceptOpen } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fs, type Rec, tx, writeSegment } from "../test/build-log.js";
import { type Follower, followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";
import type { CommittedTransaction } from "./replay-types.js";
import { createSlot } from "./replication-slots.js";

// A resume position whose restart point is the one LSN truncation removed (isLoneMissingLsn): segment 1 held
// 1..4 and is gone, the log starts at LSN 5, and the token of the commit at 3 needs the records from 4 on.

let dir: string;
let stop: AbortController;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lone-lsn-"));
  stop = new AbortController();
});
afterEach(async () => {
  stop.abort();
  await rm(dir, { recursive: true, force: true });
});

type Tx = CommittedTransaction<JsonValue>;
const token = (t: Tx) => [t.commitLsn, t.restartLsn, t.events];

/**
 * What is left of 1..3 a transaction and 4 a checkpoint marker (rotation comes only before a begin, so a segment
 * often ends with one): 5..7 a transaction, 8 a marker, 9..11 a transaction.
 */
async function afterMarkerGone(): Promise<void> {
  await writeSegment(dir, 2, 5, [...tx(5, ["a"]), { kind: "checkpoint", lsn: 8, snapshotLsn: 7 }], { sealed: true });
  await writeSegment(dir, 3, 9, tx(9, ["b"]));
}

/**
 * What is left of 1..3 a transaction and 4 the begin of a low-level transaction T: 5..7 a transaction committed
 * while T is open, then T's batch at 8 and its commit at 9.
 */
async function afterOpenBeginGone(): Promise<void> {
  const rest: Rec[] = [
    ...tx(5, ["a"]),
    { kind: "mutationBatch", lsn: 8, txBeginLsn: 4, events: ["t"] },
    { kind: "txCommit", lsn: 9, txBeginLsn: 4 },
  ];
  await writeSegment(dir, 2, 5, rest);
}

async function readAll(options: { after: number; restartLsn?: number }): Promise<Tx[]> {
  const out: Tx[] = [];
  for await (const t of readCommitted(dir, { codec: jsonCodec, ...options })) out.push(t);
  return out;
}

/**
 * Read `it` until `n` transactions came or it failed; what came, and the failure. No deadline: under a wall-clock
 * bound a follower that is only slow on a loaded machine looks like one that waits ("only 0 of 1 delivered" instead
 * of its error); one that never answers is a hang, which the test timeout catches.
 */
async function pull(it: AsyncIterator<Tx>, n: number): Promise<{ got: Tx[]; error: unknown }> {
  const got: Tx[] = [];
  try {
    while (got.length < n) {
      const r = await it.next();
      if (r.done) throw new Error("ended");
      got.push(r.value);
    }
  } catch (error) {
    return { got, error };
  }
  return { got, error: undefined };
}

const truncatedAt3 = { code: "WAL_TRUNCATED", details: { lsn: 3, oldestRetainedLsn: 5 } };

describe("a resume position missing only its restart point", () => {
  it("readCommitted delivers every transaction after the token when the lost LSN was a checkpoint marker", async () => {
    await afterMarkerGone();
    // Until a marker covers LSN 4, a transaction begun there may be open: tokens restart at 4, then move on.
    const expected = [
      [7, 4, ["a"]],
      [11, 12, ["b"]],
    ];
    expect((await readAll({ after: 3, restartLsn: 4 })).map(token)).toEqual(expected);
    expect((await readAll({ after: 3 })).map(token)).toEqual(expected);
    // A token of a transaction read so resumes too (it is the same one-LSN gap).
    expect((await readAll({ after: 7, restartLsn: 4 })).map(token)).toEqual([[11, 12, ["b"]]]);
    // Two missing LSNs can hold a whole (empty) transaction: refused at once, as before.
    await expect(readAll({ after: 2 })).rejects.toMatchObject({
      code: "WAL_TRUNCATED",
      details: { lsn: 2, oldestRetainedLsn: 5 },
    });
    await expect(readAll({ after: 3, restartLsn: 3 })).rejects.toMatchObject({ code: "WAL_TRUNCATED" });
  });

  it("readCommitted tokens move past the lost LSN at a marker whose snapshot is that LSN itself", async () => {
    // A snapshot at 4 covers LSN 4: a transaction begun there and going on above it would have the snapshot inside
    // it, which no marker has, so nothing begun at 4 is open after the marker at 8.
    await writeSegment(dir, 2, 5, [...tx(5, ["a"]), { kind: "checkpoint", lsn: 8, snapshotLsn: 4 }], { sealed: true });
    await writeSegment(dir, 3, 9, tx(9, ["b"]));
    expect((await readAll({ after: 3, restartLsn: 4 })).map(token)).toEqual([
      [7, 4, ["a"]],
      [11, 12, ["b"]],
    ]);
  });

  it("readCommitted reads on when truncation removes the segment holding the restart point after its listing", async () => {
    // Segment 1 (1..3 a transaction, 4 a marker) is still there when the read lists the log, so the walk starts
    // there; truncation deletes it before the walk opens it. What is left misses only LSN 4, as above.
    const writeFirst = () =>
      writeSegment(dir, 1, 1, [...tx(1, ["z"]), { kind: "checkpoint", lsn: 4, snapshotLsn: 3 }], { sealed: true });
    const first = await writeFirst();
    await afterMarkerGone();
    // Its first open is the search's header read; the second is the walk's.
    let opens = 0;
    const seam = interceptOpen(fs, async (path, mode, next) => {
      if (path === first && ++opens === 2) await unlink(first);
      return next(path, mode);
    });
    const read = async (options: { after: number; restartLsn?: number }) => {
      opens = 0;
      const out: Tx[] = [];
      for await (const t of readCommitted(dir, { codec: jsonCodec, fs: seam, ...options })) out.push(t);
      return out;
    };
    expect((await read({ after: 3, restartLsn: 4 })).map(token)).toEqual([
      [7, 4, ["a"]],
      [11, 12, ["b"]],
    ]);
    expect(opens).toBe(2);
    // Two missing LSNs are refused there too, as at the start of a read.
    await writeFirst();
    await expect(read({ after: 2 })).rejects.toMatchObject({
      code: "WAL_TRUNCATED",
      details: { lsn: 2, oldestRetainedLsn: 5 },
    });
    expect(opens).toBe(2);
  });

  it("readCommitted fails WAL_TRUNCATED at a transaction begun at the lost LSN, and its tokens never skip it", async () => {
    await afterOpenBeginGone();
    const out: Tx[] = [];
    let failure: unknown;
    try {
      for await (const t of readCommitted(dir, { codec: jsonCodec, after: 3, restartLsn: 4 })) out.push(t);
    } catch (error) {
      failure = error;
    }
    // The transaction committed at 7 is delivered; its token restarts at 4, where T may have begun.
    expect(out.map(token)).toEqual([[7, 4, ["a"]]]);
    expect(failure).toMatchObject(truncatedAt3);
    // Resuming from that token fails the same way rather than skipping T.
    await expect(readAll({ after: 7, restartLsn: 4 })).rejects.toMatchObject(truncatedAt3);
  });

  it("followDir delivers every transaction after the token when the lost LSN was a checkpoint marker", async () => {
    await afterMarkerGone();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, after: 3, signal: stop.signal });
    const { got, error } = await pull(follower, 2);
    expect(error).toBeUndefined();
    expect(got.map(token)).toEqual([
      [7, 4, ["a"]],
      [11, 12, ["b"]],
    ]);
    await follower.return();
    // Two missing LSNs: refused at once.
    const behind = followDir<JsonValue>(dir, { codec: jsonCodec, after: 2, signal: stop.signal });
    await expect(behind.next()).rejects.toMatchObject({ code: "WAL_TRUNCATED", details: { oldestRetainedLsn: 5 } });
  });

  it("a slot restarting at the lost LSN follows on", async () => {
    await afterMarkerGone();
    await createSlot(dir, "s", { confirmedLsn: 3 });
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", signal: stop.signal });
    const { got, error } = await pull(follower, 2);
    expect(error).toBeUndefined();
    expect(got.map((t) => t.commitLsn)).toEqual([7, 11]);
    await follower.return();
  });

  it("followDir fails WAL_TRUNCATED at a transaction begun at the lost LSN, and its tokens never skip it", async () => {
    // Live: 5..7 is committed while T, begun at 4, is open; T's batch and commit come later.
    const w = await SegmentWriter.create(fs, segmentPath(dir, 2), 5);
    for (const r of tx(5, ["a"])) w.append(r, jsonCodec);
    await w.flush();
    const follower = followDir<JsonValue>(dir, {
      codec: jsonCodec,
      after: 3,
      restartLsn: 4,
      durability: "written",
      signal: stop.signal,
      pollIntervalMs: 20,
    });
    // Delivered with a token that restarts at 4, where T may have begun.
    expect((await pull(follower, 1)).got.map(token)).toEqual([[7, 4, ["a"]]]);
    w.append({ kind: "mutationBatch", lsn: 8, txBeginLsn: 4, events: ["t"] }, jsonCodec);
    w.append({ kind: "txCommit", lsn: 9, txBeginLsn: 4 }, jsonCodec);
    await w.flush();
    await w.close();
    const { got, error } = await pull(follower, 1);
    expect(got).toEqual([]);
    expect(error).toMatchObject(truncatedAt3);
    // All of it at once: the same failure, and nothing delivered behind it with a token past 4.
    const whole = followDir<JsonValue>(dir, { codec: jsonCodec, after: 3, durability: "written", signal: stop.signal });
    const at = await pull(whole, 2);
    expect(at.error).toMatchObject(truncatedAt3);
    for (const t of at.got) expect(t.restartLsn).toBeLessThanOrEqual(4);
    const resumed = followDir<JsonValue>(dir, { codec: jsonCodec, after: 7, restartLsn: 4, signal: stop.signal });
    await expect(resumed.next()).rejects.toMatchObject(truncatedAt3);
  });

  it("a follower reading again after a writer restart still fails at a transaction begun at the lost LSN", async () => {
    // Session 1 wrote 5..7 (a transaction committed while T, begun at 4, was open) and made it durable.
    const w = await SegmentWriter.create(fs, segmentPath(dir, 2), 5);
    for (const r of tx(5, ["a"])) w.append(r, jsonCodec);
    await w.flush();
    const mark1 = await DurableMarkWriter.open(fs, dir, 1);
    mark1.publish(7);
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, after: 3, signal: stop.signal, pollIntervalMs: 20 });
    expect((await pull(follower, 1)).got.map(token)).toEqual([[7, 4, ["a"]]]);
    // Then it wrote T's batch and commit and died before publishing them; session 2 starts at 10. The follower
    // reads again from before every undelivered transaction: T's records must still fail, not be skipped.
    w.append({ kind: "mutationBatch", lsn: 8, txBeginLsn: 4, events: ["t"] }, jsonCodec);
    w.append({ kind: "txCommit", lsn: 9, txBeginLsn: 4 }, jsonCodec);
    await w.flush();
    await w.close();
    await mark1.abandon();
    const mark2 = await DurableMarkWriter.open(fs, dir, 10);
    mark2.publish(9);
    const { got, error } = await pull(follower, 1);
    expect(got).toEqual([]);
    expect(error).toMatchObject(truncatedAt3);
    await mark2.close(9);
  });
});

describe("a live follower past whose segment truncation removed the next, leaving only its restart point missing", () => {
  // The follower has read segment 1 (a transaction at 1..3, sealed) and delivered its commit; then segment 2 (what
  // LSN 4 holds, or more) and segment 3 are written, and truncation deletes 1 and 2. It must do what a fresh follower
  // from its own token ({ after: 3, restartLsn: 4 }) does.

  /** A follower that has read all of segment 1 (`first`) and delivered its `deliver` transactions. */
  async function pastFirst(
    first: readonly Rec[],
    deliver: number,
    seam: WalFileSystem = fs,
  ): Promise<Follower<JsonValue>> {
    await writeSegment(dir, 1, 1, first, { sealed: true });
    const follower = followDir<JsonValue>(dir, {
      codec: jsonCodec,
      fs: seam,
      after: 0,
      durability: "written",
      signal: stop.signal,
      pollIntervalMs: 20,
    });
    // Nothing runs between calls of next(): the follower waits at the end of segment 1 while the log changes.
    const { error } = await pull(follower, deliver);
    expect(error).toBeUndefined();
    return follower;
  }

  /** Write segments 2 (`second`, sealed, from LSN 4) and 3 (`third`), then truncate segments 1 and 2 away. */
  async function rotateAndTruncate(second: readonly Rec[], third: readonly Rec[]): Promise<void> {
    await writeSegment(dir, 2, 4, second, { sealed: true });
    await writeSegment(dir, 3, 4 + second.length, third);
    await unlink(segmentPath(dir, 1));
    await unlink(segmentPath(dir, 2));
  }

  /** What a fresh follower delivers from `token` on the same directory, up to `n` transactions. */
  async function fresh(token: { after: number; restartLsn: number }, n: number) {
    const follower = followDir<JsonValue>(dir, {
      codec: jsonCodec,
      ...token,
      durability: "written",
      signal: stop.signal,
    });
    try {
      return await pull(follower, n);
    } finally {
      await follower.return();
    }
  }

  it("reads on when the lost LSN was a checkpoint marker", async () => {
    const follower = await pastFirst(tx(1, ["z"]), 1);
    expect([follower.position, follower.restartLsn]).toEqual([3, 4]);
    await rotateAndTruncate([{ kind: "checkpoint", lsn: 4, snapshotLsn: 3 }], [...tx(5, ["a"]), ...tx(8, ["b"])]);
    const expected = [
      [7, 4, ["a"]],
      [10, 4, ["b"]],
    ];
    // Until a marker covers LSN 4, a transaction begun there may be open: tokens restart at 4.
    expect(await fresh({ after: 3, restartLsn: 4 }, 2)).toMatchObject({ error: undefined });
    const { got, error } = await pull(follower, 2);
    expect(error).toBeUndefined();
    expect(got.map(token)).toEqual(expected);
    expect((await fresh({ after: 3, restartLsn: 4 }, 2)).got.map(token)).toEqual(expected);
  });

  it("reads on when truncation removes the next segment between its listing and its open", async () => {
    // Segment 2 is listed when the follower moves on; truncation deletes 1 and 2 before it opens 2.
    let opens = 0;
    const seam = interceptOpen(fs, async (path, mode, next) => {
      if (path === segmentPath(dir, 2) && ++opens === 1) {
        await unlink(segmentPath(dir, 1));
        await unlink(path);
      }
      return next(path, mode);
    });
    const follower = await pastFirst(tx(1, ["z"]), 1, seam);
    await writeSegment(dir, 2, 4, [{ kind: "checkpoint", lsn: 4, snapshotLsn: 3 }], { sealed: true });
    await writeSegment(dir, 3, 5, tx(5, ["a"]));
    const { got, error } = await pull(follower, 1);
    expect(error).toBeUndefined();
    expect(got.map(token)).toEqual([[7, 4, ["a"]]]);
    expect(opens).toBe(1);
  });

  it("fails WAL_TRUNCATED at a transaction begun at the lost LSN, before delivering anything of it", async () => {
    const follower = await pastFirst(tx(1, ["z"]), 1);
    // T begins at 4 (all segment 2 holds); a transaction commits at 5..7 while T is open.
    await rotateAndTruncate([{ kind: "txBegin", lsn: 4 }], tx(5, ["a"]));
    // Delivered with a token that restarts at 4, where T may have begun.
    expect((await pull(follower, 1)).got.map(token)).toEqual([[7, 4, ["a"]]]);
    // T's batch and commit come: a record of T fails as truncated, not as one whose begin is missing.
    const third = segmentPath(dir, 3);
    const w = await SegmentWriter.openForAppend(fs, third, (await stat(third)).size);
    w.append({ kind: "mutationBatch", lsn: 8, txBeginLsn: 4, events: ["t"] }, jsonCodec);
    w.append({ kind: "txCommit", lsn: 9, txBeginLsn: 4 }, jsonCodec);
    await w.flush();
    await w.close();
    const { got, error } = await pull(follower, 1);
    expect(got).toEqual([]);
    expect(error).toMatchObject(truncatedAt3);
    // As a fresh follower from either token does.
    expect((await fresh({ after: 3, restartLsn: 4 }, 2)).error).toMatchObject(truncatedAt3);
    expect((await fresh({ after: 7, restartLsn: 4 }, 1)).error).toMatchObject(truncatedAt3);
  });

  it("fails WAL_TRUNCATED at once when two LSNs are gone", async () => {
    const follower = await pastFirst(tx(1, ["z"]), 1);
    await rotateAndTruncate(
      [
        { kind: "checkpoint", lsn: 4, snapshotLsn: 3 },
        { kind: "checkpoint", lsn: 5, snapshotLsn: 3 },
      ],
      tx(6, ["a"]),
    );
    const truncated = { code: "WAL_TRUNCATED", details: { lsn: 3, oldestRetainedLsn: 6 } };
    const { got, error } = await pull(follower, 1);
    expect(got).toEqual([]);
    expect(error).toMatchObject(truncated);
    expect(await fresh({ after: 3, restartLsn: 4 }, 1)).toMatchObject({ error: truncated });
  });

  it("fails WAL_TRUNCATED when a transaction it read the begin of is still open, as its token says", async () => {
    // A begins at 1; B (2..4) commits while A is open: B's token restarts at 1. Segment 2 holds A's batch at 5,
    // segment 3 A's commit and a transaction. Only LSN 5 is missing after what the follower read, but A's batch is.
    const follower = await pastFirst(
      [
        { kind: "txBegin", lsn: 1 },
        { kind: "txBegin", lsn: 2 },
        { kind: "mutationBatch", lsn: 3, txBeginLsn: 2, events: ["b"] },
        { kind: "txCommit", lsn: 4, txBeginLsn: 2 },
      ],
      1,
    );
    expect([follower.position, follower.restartLsn]).toEqual([4, 1]);
    await writeSegment(dir, 2, 5, [{ kind: "mutationBatch", lsn: 5, txBeginLsn: 1, events: ["a"] }], {
      sealed: true,
    });
    await writeSegment(dir, 3, 6, [{ kind: "txCommit", lsn: 6, txBeginLsn: 1 }, ...tx(7, ["c"])]);
    await unlink(segmentPath(dir, 1));
    await unlink(segmentPath(dir, 2));
    const truncated = { code: "WAL_TRUNCATED", details: { oldestRetainedLsn: 6 } };
    const { got, error } = await pull(follower, 1);
    expect(got).toEqual([]);
    expect(error).toMatchObject(truncated);
    expect(await fresh({ after: 4, restartLsn: 1 }, 1)).toMatchObject({ error: truncated });
  });
});
