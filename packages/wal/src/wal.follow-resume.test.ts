import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, describe, expect, it } from "vitest";
import {
  type CommittedTransaction,
  createSlot,
  followDir,
  type JsonValue,
  jsonCodec,
  readCommitted,
  readSlot,
  Wal,
} from "./index.js";

// Exact resume tokens with low-level transactions used concurrently: a transaction that began before a delivered
// one and committed after it must come whole to a consumer that resumes from the delivered one's token, from
// wal.follow, followDir and a replication slot alike; and one a crashed writer left open must not hold tokens back.

type Tx = CommittedTransaction<JsonValue>;
const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

/** The first `n` transactions a follower delivers, then stop it. */
async function take(it: AsyncIterableIterator<Tx>, n: number): Promise<Tx[]> {
  const out: Tx[] = [];
  if (n === 0) return out;
  for await (const tx of it) {
    out.push(tx);
    if (out.length === n) break;
  }
  return out;
}

const shape = (txs: readonly Tx[]) => txs.map((t) => [t.beginLsn, t.commitLsn, t.events, t.restartLsn]);

/**
 * A log where transactions interleave across rotations: T1 begins, T2 begins and commits, a commitTx lands, T1
 * commits; then T3 begins, T4 (commitTx), T3 aborts, T5 begins and commits.
 */
async function interleavedLog(fs: SimFS): Promise<Wal<JsonValue>> {
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 128 });
  const t1 = await wal.begin();
  await wal.append(t1, { t: 1, part: "a" });
  const t2 = await wal.begin();
  await wal.append(t2, { t: 2 });
  await wal.commit(t2);
  await wal.commitTx([{ t: "x" }]);
  await wal.append(t1, { t: 1, part: "b" });
  await wal.commit(t1);
  const t3 = await wal.begin();
  await wal.append(t3, { t: 3 });
  await wal.commitTx([{ t: 4 }]);
  await wal.abort(t3);
  const t5 = await wal.begin();
  await wal.append(t5, { t: 5 });
  await wal.commit(t5);
  await wal.sync();
  return wal;
}

describe("exact resume tokens", () => {
  it("resuming from any delivered transaction's token gives exactly the rest (wal.follow, followDir, readCommitted)", async () => {
    const fs = new SimFS();
    const wal = await interleavedLog(fs);
    expect(wal.activeSegmentId()).toBeGreaterThan(2); // the begins and commits are in different segments
    const all: Tx[] = [];
    for await (const tx of readCommitted<JsonValue>("/w", { codec: jsonCodec, fs })) all.push(tx);
    expect(all.map((t) => t.events)).toEqual([
      [{ t: 2 }],
      [{ t: "x" }],
      [
        { t: 1, part: "a" },
        { t: 1, part: "b" },
      ],
      [{ t: 4 }],
      [{ t: 5 }],
    ]);
    // T2 and the commitTx committed while T1 was open: their tokens restart at T1's begin.
    expect(all[0]?.restartLsn).toBe(all[2]?.beginLsn);
    expect(all[1]?.restartLsn).toBe(all[2]?.beginLsn);
    // T4 committed while T3 was open (T3 later aborted): a token cannot know that yet.
    expect(all[3]?.restartLsn).toBeLessThan(all[3]?.beginLsn as number);

    const stop = new AbortController();
    stops.push(stop);
    expect(shape(await take(wal.follow({ signal: stop.signal }), all.length))).toEqual(shape(all));
    for (const [i, t] of all.entries()) {
      const rest = all.slice(i + 1);
      const token = { after: t.commitLsn, restartLsn: t.restartLsn };
      const fromHandle = wal.follow({ ...token, signal: stop.signal });
      expect(shape(await take(fromHandle, rest.length)), `wal.follow after ${t.commitLsn}`).toEqual(shape(rest));
      const fromDir = followDir<JsonValue>("/w", {
        codec: jsonCodec,
        fs,
        pollIntervalMs: 1,
        signal: stop.signal,
        ...token,
      });
      expect(shape(await take(fromDir, rest.length)), `followDir after ${t.commitLsn}`).toEqual(shape(rest));
      const read: Tx[] = [];
      for await (const tx of readCommitted<JsonValue>("/w", { codec: jsonCodec, fs, ...token })) read.push(tx);
      expect(shape(read), `readCommitted after ${t.commitLsn}`).toEqual(shape(rest));
    }
    await wal.close();
  });

  it("a slot confirmed with a token keeps the segment of a transaction still open, and a resume delivers it whole", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 128 });
    await createSlot("/w", "r", { fs });
    const t1 = await wal.begin();
    await wal.append(t1, { t: 1, part: "a" });
    for (let i = 0; i < 6; i++) await wal.commitTx([{ filler: i, pad: "x".repeat(40) }]);
    const stop = new AbortController();
    stops.push(stop);
    const follower = followDir<JsonValue>("/w", {
      codec: jsonCodec,
      slot: "r",
      fs,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    const first = await take(follower, 6);
    await follower.confirm(first[5]?.commitLsn as number); // a bare commit LSN: matched to its token
    expect(await readSlot("/w", "r", { fs })).toMatchObject({ confirmedLsn: first[5]?.commitLsn, restartLsn: t1 });
    // T1 commits; a snapshot at its commit lets the writer truncate everything the slot does not need.
    await wal.append(t1, { t: 1, part: "b" });
    const commit = await wal.commit(t1);
    await wal.sync();
    await wal.truncateUpTo(commit);
    const segments = await wal.segments();
    expect(segments[0]?.baseLsn).toBeLessThanOrEqual(t1); // the begin's segment is kept for the slot
    // A consumer that restarts from the slot gets T1 whole.
    const again = followDir<JsonValue>("/w", {
      codec: jsonCodec,
      slot: "r",
      fs,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    expect(shape(await take(again, 1))).toEqual([
      [
        t1,
        commit,
        [
          { t: 1, part: "a" },
          { t: 1, part: "b" },
        ],
        commit + 1,
      ],
    ]);
    await again.confirm(commit);
    expect(await readSlot("/w", "r", { fs })).toMatchObject({ confirmedLsn: commit, restartLsn: commit + 1 });
    await wal.truncateUpTo(commit);
    expect((await wal.segments())[0]?.baseLsn).toBeGreaterThan(t1); // now it may go
    await wal.close();
  });

  it("a follower behind a restart keeps an earlier session's open begin in its tokens until that session ends", async () => {
    const fs = new SimFS();
    const { wal: first } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    const t1 = await first.begin();
    const t2 = await first.begin();
    await first.append(t2, "t2");
    const t2Commit = await first.commit(t2);
    await first.append(t1, "t1");
    const t1Commit = await first.commit(t1);
    await first.close();
    // A new session: its mark says it started above t1's begin, but t1 was still live when t2 committed.
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    await wal.commitTx(["after"]);
    const stop = new AbortController();
    stops.push(stop);
    for (const follower of [
      followDir<JsonValue>("/w", { codec: jsonCodec, fs, pollIntervalMs: 1, signal: stop.signal }),
      wal.follow({ signal: stop.signal }),
    ]) {
      const [a, b] = await take(follower, 2);
      expect([a?.commitLsn, a?.restartLsn]).toEqual([t2Commit, t1]);
      expect([b?.commitLsn, b?.restartLsn]).toEqual([t1Commit, t1Commit + 1]);
    }
    await wal.close();
  });

  it("a transaction a crashed writer left open does not hold a live follower's tokens back", async () => {
    const fs = new SimFS();
    const { wal: first } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    const dead = await first.begin();
    await first.append(dead, { never: "committed" });
    const before = await first.commitTx([{ before: "crash" }]);
    await first.sync();
    // The writer dies with the transaction open (what is durable survives); a new session opens the log.
    const image = fs.durableImage();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: image });
    const after = await wal.commitTx([{ after: "restart" }]);
    const stop = new AbortController();
    stops.push(stop);
    const follower = followDir<JsonValue>("/w", {
      codec: jsonCodec,
      fs: image,
      pollIntervalMs: 1,
      signal: stop.signal,
    });
    const got = await take(follower, 2);
    expect(got.map((t) => t.commitLsn)).toEqual([before?.commitLsn, after?.commitLsn]);
    // The writer's mark says where its session started: the dead begin below it holds nothing back from a commit of
    // that session. The commit before the crash was read when the dead one could still have committed: its token
    // keeps the dead begin (conservative, as readCommitted's).
    expect(got.map((t) => t.restartLsn)).toEqual([dead, (after?.commitLsn as number) + 1]);
    // readCommitted, which asks no writer, cannot tell a dead transaction from a live one: it stays conservative.
    const offline: Tx[] = [];
    for await (const tx of readCommitted<JsonValue>("/w", { codec: jsonCodec, fs: image })) offline.push(tx);
    expect(offline.map((t) => t.restartLsn)).toEqual([dead, dead]);
    // wal.follow knows its own session start and gives the same tokens as followDir.
    const inProcess = await take(wal.follow({ signal: stop.signal }), 2);
    expect(inProcess.map((t) => t.restartLsn)).toEqual(got.map((t) => t.restartLsn));
    await wal.close();
  });
});
