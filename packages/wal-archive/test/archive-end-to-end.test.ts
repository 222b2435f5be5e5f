/**
 * Continuous archiving end to end, with real processes and real files: a writer child (test/fixtures/archive-writer)
 * commits one transaction after another on small segments (a rotation every dozen commits), checkpoints with
 * truncation every 20 commits, and archives to s3rver (or a directory) with `startArchiver`; it is SIGKILLed at a
 * seeded point, or while the upload of a large sealed segment hangs in the faulty proxy. Then the archive is
 * restored (newest, to a commit LSN, to an LSN inside a transaction) and opened with `Wal.open` (and LoraDB, with
 * the lora codec), and checked against what the child printed:
 * (a) a restore is a prefix of the acknowledged-and-recovered history, in order, with no gap;
 * (b) it holds every commit at or below the last `archived <lsn>` line the child printed before the kill;
 * (c) the recovery point actually achieved is reported (an annotation, not a verdict: it is a time);
 * (d) a restore to `toLsn` holds exactly the transactions committed at or below it.
 * Then the killed directory is recovered with `Wal.open`, a new archiver attached and flushed, and a restore must
 * equal the whole history, without anything uploaded twice; a last restore cuts at an LSN inside a piece (the
 * active segment's durable prefix, shipped in pieces).
 *
 * Every verdict is reached by counting the child's lines and the archive's objects; the test timeout only catches a
 * hang.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleScript, makeTempDir, seededRandom } from "@lora/test-utils";
import { type LocalS3, startLocalS3 } from "@lora/test-utils/local-s3";
import { segmentPath } from "@lora/wal-segment";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArchiveKey } from "../src/archive-keys.js";
import type { ArchiveStore } from "../src/archive-store.js";
import { startArchiver } from "../src/archiver.js";
import { fsArchive } from "../src/fs-archive.js";
import { restore } from "../src/restore.js";
import { s3Archive } from "../src/s3-archive.js";
import { listArchive } from "../src/verify-archive.js";
import type { WriterConfig } from "./fixtures/archive-writer.js";
import {
  type CodecName,
  eventFor,
  loraNodeCount,
  openHistory,
  readHistory,
  recordingStore,
  recordSpans,
  startWriter,
  type Tx,
  type WriterLog,
  type WriterRun,
} from "./support/archive-e2e.js";
import { type FaultyProxy, startFaultyProxy } from "./support/faulty-proxy.js";

const SEGMENT_TARGET_BYTES = 2048;
const CHECKPOINT_EVERY = 20;
const INTERVAL_MS = 100;
/** The large transaction of the in-flight case: its segment is sealed far above every other one. */
const BIG_BYTES = 300_000;

const here = dirname(fileURLToPath(import.meta.url));
let writerJs: string;
let s3: LocalS3;
let proxy: FaultyProxy;
let tmp: Awaited<ReturnType<typeof makeTempDir>>;

beforeAll(async () => {
  [writerJs, s3, tmp] = await Promise.all([
    bundleScript(join(here, "fixtures", "archive-writer.ts")),
    startLocalS3(),
    makeTempDir("wal-archive-e2e"),
  ]);
  proxy = await startFaultyProxy(s3.endpoint);
});

afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
  await tmp?.cleanup();
});

interface Scenario {
  readonly name: string;
  readonly seed: number;
  readonly codec: CodecName;
  /** The store as the child opens it, and the same archive as the test reads it. */
  readonly childStore: WriterConfig["store"];
  readonly store: ArchiveStore;
  readonly callTimeoutMs: number;
  readonly big?: WriterConfig["big"];
  /** Resolves when the child is to be killed. */
  readonly killWhen: (run: WriterRun) => Promise<void>;
}

interface Outcome {
  readonly log: WriterLog;
  /** The keys the archive held after the kill. */
  readonly before: readonly string[];
  /** The oldest segment the killed directory held. */
  readonly oldestSegmentAfterKill: number;
  /** The keys the archiver attached after the restart put. */
  readonly restartPuts: readonly string[];
  /** Lines for the annotation. */
  readonly report: string[];
  /** Transactions in the newest restore after the kill. */
  readonly restored: number;
}

const txKey = (t: { readonly i: number; readonly commitLsn: number }) => `${t.i}@${t.commitLsn}`;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/** Restore `toLsn` (or the newest) into a new directory and read it back (LoraDB first, with the lora codec). */
async function restoreAndRead(s: Scenario, root: string, name: string, toLsn?: number) {
  const dir = join(root, name);
  const result = await restore({ store: s.store, dir, ...(toLsn === undefined ? {} : { toLsn }) });
  // LoraDB reads the restored directory as restore left it, before Wal.open touches it.
  const loraNodes = s.codec === "lora" ? await loraNodeCount(dir) : null;
  const txs = await readHistory(dir, s.codec);
  return { dir, result, txs, loraNodes };
}

/** Kill the writer as the scenario says, then check everything the file header promises. */
async function runScenario(s: Scenario): Promise<Outcome> {
  const root = join(tmp.path, s.name);
  const dir = join(root, "wal");
  const run = startWriter(writerJs, {
    dir,
    store: s.childStore,
    codec: s.codec,
    count: 100_000,
    segmentTargetBytes: SEGMENT_TARGET_BYTES,
    checkpointEvery: CHECKPOINT_EVERY,
    intervalMs: INTERVAL_MS,
    callTimeoutMs: s.callTimeoutMs,
    ...(s.big === undefined ? {} : { big: s.big }),
  });
  let killedAt: number;
  try {
    await run.until((l) => l.other.includes("ready"), "ready");
    await s.killWhen(run);
  } finally {
    killedAt = Date.now();
    run.child.kill("SIGKILL");
    await run.exited;
  }
  expect(run.child.signalCode, "the writer ran until the kill").toBe("SIGKILL");
  const log = run.log;
  const report: string[] = [];

  // The killed directory, recovered: with the acknowledgements, the whole history (truncation removed its start).
  const original = await openHistory(dir, s.codec, {
    allowTruncatedHistory: true,
    segmentTargetBytes: SEGMENT_TARGET_BYTES,
  });
  try {
    const tail = original.txs;
    const first = (tail[0] as Tx).i;
    expect(
      tail.map((t) => t.i),
      "the recovered log is a run of consecutive transactions",
    ).toEqual(range(first, first + tail.length));
    expect(first + tail.length, "every acknowledged commit survived the kill").toBeGreaterThanOrEqual(log.acks.length);
    expect(first, "truncation only removed acknowledged commits").toBeLessThanOrEqual(log.acks.length);
    for (const t of tail) if (t.i < log.acks.length) expect(t.commitLsn).toBe(log.acks[t.i]?.lsn);
    const history = [...log.acks.slice(0, first).map((a) => ({ i: a.i, commitLsn: a.lsn })), ...tail];
    expect(history.map((t) => t.i)).toEqual(range(0, history.length));

    const oldestSegmentAfterKill = original.wal.oldestSegmentId();
    const before = (await s.store.list()).map((o) => o.key);
    const lastArchived = log.archived.at(-1)?.lsn ?? 0;
    const mustHave = history.filter((t) => t.commitLsn <= lastArchived).length;

    // (a), (b): the newest restore.
    const newest = await restoreAndRead(s, root, "newest");
    const restored = newest.txs;
    expect(restored.length).toBeLessThanOrEqual(history.length);
    expect(restored.map(txKey), "a prefix of the history, in order, no gap").toEqual(
      history.slice(0, restored.length).map(txKey),
    );
    expect(
      restored.length,
      `every commit at or below the last archived line (lsn ${lastArchived})`,
    ).toBeGreaterThanOrEqual(mustHave);
    if (s.codec === "lora") expect(newest.loraNodes).toBe(restored.length);

    // (c): how far behind the archive was at the kill.
    const newestAck = log.acks[restored.length - 1];
    const firstLost = log.acks[restored.length];
    report.push(
      `${s.name} (seed ${s.seed}): killed after ${log.acks.length} acks, ${log.sealed.length} rotations, ` +
        `${log.checkpoints.filter((c) => c.removed > 0).length} truncating checkpoints; ` +
        `the last archived line (lsn ${lastArchived}) covered ${mustHave} commits, the restore holds ${restored.length} ` +
        `of ${history.length}; RPO achieved: the newest restored commit was acked ` +
        `${newestAck === undefined ? "(not acked)" : `${killedAt - newestAck.at} ms`} before the kill; ` +
        `${Math.max(0, log.acks.length - restored.length)} acked commits missing from the archive` +
        (firstLost === undefined ? "" : `, the oldest acked ${killedAt - firstLost.at} ms before the kill`),
    );

    // (d): to a commit LSN in the middle, and to an LSN inside a later transaction.
    expect(restored.length).toBeGreaterThanOrEqual(8);
    const mid = Math.floor((restored.length - 1) / 2);
    const midTx = restored[mid] as Tx;
    const toCommit = await restoreAndRead(s, root, "to-commit", midTx.commitLsn);
    expect(toCommit.result.lastLsn).toBe(midTx.commitLsn);
    expect(toCommit.txs.map(txKey)).toEqual(restored.slice(0, mid + 1).map(txKey));
    if (s.codec === "lora") expect(toCommit.loraNodes).toBe(mid + 1);
    const q = Math.floor(((restored.length - 1) * 3) / 4);
    const inside = (restored[q] as Tx).commitLsn - 1;
    expect((restored[q] as Tx).beginLsn).toBeLessThan(inside);
    const toInside = await restoreAndRead(s, root, "inside-tx", inside);
    expect(toInside.result.lastLsn).toBe(inside);
    expect(toInside.txs.map(txKey)).toEqual(restored.slice(0, q).map(txKey));
    if (s.codec === "lora") expect(toInside.loraNodes).toBe(q);

    // The restart: a new archiver on the recovered handle catches up, then a few more commits are shipped.
    const recording = recordingStore(s.store);
    const archiver = startArchiver(original.wal, { store: recording, intervalMs: 50 });
    const extra: Tx[] = [];
    try {
      await archiver.flush();
      for (let k = 0; k < 6; k++) {
        const i = history.length + k;
        const info = await original.wal.commitTx([eventFor(s.codec, i)]);
        if (info === null) throw new Error("commitTx wrote nothing");
        extra.push({ i, beginLsn: info.beginLsn, commitLsn: info.commitLsn });
      }
      await archiver.flush();
    } finally {
      await archiver.stop({ flush: false });
    }
    expect(archiver.status().failures).toBe(0);

    const full = await restoreAndRead(s, root, "after-restart");
    expect(full.txs.map(txKey), "the archive caught up with the whole history").toEqual(
      [...history, ...extra].map(txKey),
    );
    if (s.codec === "lora") expect(full.loraNodes).toBe(history.length + extra.length);

    // Nothing uploaded twice: no key again, no segment sealed twice, no piece over bytes already archived.
    const after = (await s.store.list()).map((o) => o.key);
    const parsedBefore = before.map(parseArchiveKey);
    expect(recording.puts.filter((k) => before.includes(k))).toEqual([]);
    for (const key of recording.puts) {
      const k = parseArchiveKey(key);
      if (k === null) throw new Error(`the archiver put a key that is not an archive key: ${key}`);
      const same = parsedBefore.filter((b) => b !== null && b.id === k.id);
      if (k.kind === "segment") {
        expect(same.filter((b) => b?.kind === "segment").length, key).toBe(0);
      } else {
        const shipped = Math.max(0, ...same.map((b) => (b?.kind === "piece" ? b.to : 0)));
        expect(k.from, key).toBeGreaterThanOrEqual(shipped);
      }
    }
    const sealedAfter = new Set(after.map(parseArchiveKey).flatMap((k) => (k?.kind === "segment" ? [k.id] : [])));
    const vanished = before.filter((key) => {
      const k = parseArchiveKey(key);
      return !after.includes(key) && !(k?.kind === "piece" && sealedAfter.has(k.id));
    });
    expect(vanished, "only pieces superseded by their sealed segment are removed").toEqual([]);

    // (d) again, to an LSN inside a piece: the newest segment is archived as pieces of its durable prefix.
    const listing = await listArchive(s.store);
    const active = listing.at(-1);
    expect(active?.sealed).toEqual([]);
    const spans = await recordSpans(segmentPath(full.dir, active?.id ?? 0), s.codec);
    const within = (lsn: number, p: { from: number; to: number }) =>
      spans.some((r) => r.lsn === lsn && r.offset >= p.from && r.end <= p.to);
    const candidates = full.txs.filter(
      (t) =>
        t.beginLsn < t.commitLsn - 1 &&
        (active?.pieces ?? []).some((p) => within(t.beginLsn, p) && within(t.commitLsn, p)),
    );
    expect(candidates.length, "a piece holds a whole transaction").toBeGreaterThan(0);
    const cut = candidates.at(-1) as Tx;
    const inPiece = await restoreAndRead(s, root, "inside-piece", cut.commitLsn - 1);
    const upTo = full.txs.indexOf(cut);
    expect(inPiece.txs.map(txKey)).toEqual(full.txs.slice(0, upTo).map(txKey));
    if (s.codec === "lora") expect(inPiece.loraNodes).toBe(upTo);
    report.push(
      `${s.name}: after the restart ${recording.puts.length} objects were put (${before.length} were archived ` +
        `before); the restore to lsn ${cut.commitLsn - 1} cut inside a piece of segment ${active?.id}`,
    );
    return { log, before, oldestSegmentAfterKill, restartPuts: recording.puts, report, restored: restored.length };
  } finally {
    await original.wal.close();
  }
}

/**
 * Kill once the child has made `acks` acknowledgements, truncation has removed a segment, and the archive has
 * reached the first half of those commits (so the restores have something to cut).
 */
function afterSeededAcks(acks: number) {
  return (run: WriterRun) =>
    run.until(
      (l) =>
        l.acks.length >= acks &&
        l.checkpoints.some((c) => c.removed > 0) &&
        (l.archived.at(-1)?.lsn ?? 0) >= (l.acks[Math.floor(acks / 2)]?.lsn ?? Number.POSITIVE_INFINITY),
      `${acks} acks, a truncation and an archive half-way`,
    );
}

function s3Scenario(name: string, seed: number, viaProxy: boolean) {
  const prefix = `e2e/${name}`;
  return {
    name,
    seed,
    childStore: {
      kind: "s3" as const,
      endpoint: viaProxy ? proxy.endpoint : s3.endpoint,
      bucket: s3.bucket,
      prefix,
    },
    store: s3Archive({ client: s3.client, bucket: s3.bucket, prefix }),
  };
}

describe("a writer process archiving to S3 (s3rver), SIGKILLed", () => {
  it("at a seeded point: the archive holds a gapless prefix with every archived commit, and catches up after the restart", async ({
    annotate,
  }) => {
    const seed = 20261202;
    const next = seededRandom(seed);
    const acks = 120 + Math.floor(next() * 80);
    const { report } = await runScenario({
      ...s3Scenario("s3-seeded", seed, false),
      codec: "json",
      callTimeoutMs: 10_000,
      killWhen: afterSeededAcks(acks),
    });
    for (const line of report) {
      console.log(line);
      await annotate(line);
    }
  });

  it("while a sealed segment's upload hangs: commits go on, nothing after that segment is archived, and the restart uploads it", async ({
    annotate,
  }) => {
    const seed = 7_110_413;
    const next = seededRandom(seed);
    const at = 40 + Math.floor(next() * 40);
    const afterStall = 30 + Math.floor(next() * 30);
    const scenario = s3Scenario("s3-in-flight", seed, true);
    // The big segment's PUT is received and never answered: in flight until the kill (the child waits 60 s).
    const isBigSegmentPut = (r: { method: string; url: string }) => {
      const m = /\/segments\/\d{10}-\d{16}-(\d+)-[0-9a-f]{8}\.wal/.exec(r.url);
      return r.method === "PUT" && m !== null && Number(m[1]) > BIG_BYTES;
    };
    const stall = proxy.inject({ kind: "stall" }, { match: isBigSegmentPut });
    /** A checkpoint line after the seal of the second segment after the big one. */
    const checkpointedTwoRotationsAfterBig = (l: WriterLog) => {
      const big = l.sealed.find((s) => s.bytes > BIG_BYTES);
      if (big === undefined) return false;
      const sealedLater = l.lines.findIndex((line) => line.startsWith(`sealed ${big.id + 2} `));
      return sealedLater >= 0 && l.lines.findLastIndex((line) => line.startsWith("checkpoint ")) > sealedLater;
    };
    let stalledAtAck = -1;
    try {
      const { log, before, oldestSegmentAfterKill, restartPuts, report, restored } = await runScenario({
        ...scenario,
        codec: "json",
        callTimeoutMs: 60_000,
        big: { at, bytes: BIG_BYTES },
        killWhen: async (run) => {
          // The archiver reaches the big segment after the ones before it, however far the writer has run ahead.
          await run.whenever(stall.applied, "the big segment's upload", () => {
            const l = run.log;
            return `sealed ${l.sealed.map((x) => `${x.id}:${x.bytes}`)}, states ${l.states}, puts ${l.puts.length} (last ${l.puts.at(-1)}), proxied ${proxy.requests.length}`;
          });
          stalledAtAck = run.log.acks.length;
          // Then go on past a checkpoint two rotations later, when truncation would delete the unarchived segment
          // but for the archiver's slot.
          await run.until(
            (l) => l.acks.length >= stalledAtAck + afterStall && checkpointedTwoRotationsAfterBig(l),
            `${afterStall} acks and a checkpoint two rotations after the stall`,
          );
        },
      });
      const big = log.sealed.find((s) => s.bytes > BIG_BYTES);
      if (big === undefined) throw new Error("no big segment was sealed");
      const bigKey = (k: string) => {
        const p = parseArchiveKey(k);
        return p?.kind === "segment" && p.id === big.id;
      };
      // The upload was in flight at the kill: never put, not in the archive, and nothing after it archived (its
      // pieces, shipped while it was active, may hold its records up to the big transaction, its last) ...
      expect(log.puts.filter(bigKey)).toEqual([]);
      expect(before.filter(bigKey)).toEqual([]);
      const successor = log.sealed.find((s) => s.id === big.id + 1);
      expect(log.archived.at(-1)?.lsn ?? 0).toBeLessThan(successor?.baseLsn ?? 0);
      expect(restored).toBeLessThanOrEqual(at + 1);
      // ... while the writer kept committing (and sealing) behind it.
      expect(log.acks.length).toBeGreaterThanOrEqual(stalledAtAck + afterStall);
      expect(log.sealed.filter((s) => s.id > big.id).length).toBeGreaterThan(1);
      // The archiver's slot kept truncation from deleting it (and everything after it).
      expect(checkpointedTwoRotationsAfterBig(log)).toBe(true);
      expect(oldestSegmentAfterKill).toBeLessThanOrEqual(big.id);
      // After the restart it was uploaded, once.
      expect(restartPuts.filter(bigKey)).toHaveLength(1);
      for (const line of report) {
        console.log(line);
        await annotate(line);
      }
      await annotate(
        `s3-in-flight: the big segment ${big.id} hung from ack ${stalledAtAck}; killed ${afterStall}+ acks later`,
      );
    } finally {
      proxy.reset();
    }
  });
});

describe("a writer process archiving to a directory with the lora codec, SIGKILLed", () => {
  it("LoraDB opens every restore with the expected node count, and the archive catches up after the restart", async ({
    annotate,
  }) => {
    const seed = 31_337;
    const next = seededRandom(seed);
    const acks = 120 + Math.floor(next() * 80);
    const archiveDir = join(tmp.path, "fs-lora-archive");
    const { report } = await runScenario({
      name: "fs-lora",
      seed,
      codec: "lora",
      childStore: { kind: "fs", dir: archiveDir },
      store: fsArchive(archiveDir),
      callTimeoutMs: 10_000,
      killWhen: afterSeededAcks(acks),
    });
    for (const line of report) {
      console.log(line);
      await annotate(line);
    }
  });
});
