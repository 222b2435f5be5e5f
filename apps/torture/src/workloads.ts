/**
 * Tier A workloads (ACE-style bounded sequences, docs/crash-testing.md): every sequence of up to 3 operations
 * (5 with --long) over the op alphabet, in each sync mode and each variant (tiny segment target so rotation
 * happens, a large one so it does not, a log started above a snapshot fence, and fdatasync on the event-loop thread
 * with `blockingSync`). Each op drives the real `Wal`
 * and records what it saw in the {@link Model}.
 */

import { type CommitInfo, type JsonValue, jsonCodec, Wal, type WalOptions } from "@lora/wal";
import { ByteWriter, encodeCommitTxInto, RECORD_HEADER_BYTES } from "@lora/wal-codec";
import { SEGMENT_HEADER_BYTES, segmentPath, type WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import type { Model } from "./model.js";
import type { Expectation, RecoveredTx } from "./oracle.js";
import { between, type Rng, rng } from "./prng.js";
import { MAX_PADDING, planPaddings } from "./sync-point-plan.js";

export const OPS = [
  "commitSmall", // commitTx, one small event
  "commitLarge", // commitTx, three ~600-byte events: a record over several 512-byte sectors
  "lowLevel", // begin, append, appendBatch, commit (buffered)
  "interleave", // two open transactions, committed in the other order
  "abort", // begin, append, abort
  "leaveOpen", // begin, append, never committed
  "flush",
  "sync",
  "checkpoint", // checkpoint(safeCheckpointLsn()): marker + fsync + truncateUpTo
  "burst", // concurrent commitTx calls with a begin slipped in a microtask later (the append/rotation race)
  "reopen", // clean close and open again
  "syncRace", // sync() with a commitTx written while its fdatasync runs, then whenDurable of that commit
  "manyCommits", // a flush, then 150 small commitTx at once (a segment's worth with tiny segments): several windows
  "commitHuge", // commitTx, one ~9 KB event: a record over two unsynced windows, written in pieces synced in turn
] as const;
export type Op = (typeof OPS)[number];

export type ModeName = "perCommit" | "group" | "none";
export const MODES: readonly ModeName[] = ["perCommit", "group", "none"];

export interface Variant {
  readonly name: string;
  readonly segmentTargetBytes: number;
  /** The snapshot fence the log is first opened with (a log restored from a snapshot at that LSN). */
  readonly startFence: number;
  /**
   * Open with `blockingSync: true` (fdatasync on the event-loop thread); the others pass `false`. Never the handle's
   * default, `"auto"`: it picks one of the two by how long the last fsync took, which would make a workload's crash
   * states depend on the machine's speed; each of the two is enumerated here, and Tier B runs `"auto"`.
   */
  readonly blockingSync?: boolean;
}
export const VARIANTS: readonly Variant[] = [
  { name: "tiny-segments", segmentTargetBytes: 384, startFence: 0 },
  { name: "one-segment", segmentTargetBytes: 1 << 20, startFence: 0 },
  { name: "fenced-start", segmentTargetBytes: 384, startFence: 40 },
  { name: "blocking-sync", segmentTargetBytes: 384, startFence: 0, blockingSync: true },
];

export interface Workload {
  readonly ops: readonly Op[];
  readonly mode: ModeName;
  readonly variant: Variant;
}

export const WAL_DIR = "/wal";

/**
 * The unsynced window every workload's log is opened with: the smallest the handle takes. A write larger than the
 * window goes out in window-sized pieces with an fdatasync between them, and a piece ends wherever the window does,
 * inside a record's header too; `manyCommits` writes several windows at once so those sync points are among the crash
 * states. Recovery opens with the same window, so its damage rules are checked at their tightest.
 */
export const TIER_A_WINDOW_BYTES = 4096;

/**
 * Transactions of a `manyCommits`: 80 to 120 bytes each (two 25-byte markers around a small batch, its event padded by
 * 0 to 30 bytes), about 15 KB in all: three full pieces and a short one. The paddings put each piece's start a seeded
 * depth into a record's header (`sync-point-plan.ts`).
 */
const MANY_COMMITS = 150;

/** Number of workloads with sequences of exactly `len` ops. */
function countOfLength(len: number): number {
  return OPS.length ** len * MODES.length * VARIANTS.length;
}

/** Total number of workloads up to `maxLen` ops. */
export function workloadCount(maxLen: number): number {
  let n = 0;
  for (let len = 1; len <= maxLen; len++) n += countOfLength(len);
  return n;
}

/** The workload with index `index` (shorter sequences first; stable across runs, independent of the seed). */
export function workloadAt(index: number): Workload {
  let rest = index;
  let len = 1;
  while (rest >= countOfLength(len)) {
    rest -= countOfLength(len);
    len++;
  }
  const mode = MODES[rest % MODES.length] as ModeName;
  rest = Math.floor(rest / MODES.length);
  const variant = VARIANTS[rest % VARIANTS.length] as Variant;
  rest = Math.floor(rest / VARIANTS.length);
  const ops: Op[] = [];
  for (let i = 0; i < len; i++) {
    ops.push(OPS[rest % OPS.length] as Op);
    rest = Math.floor(rest / OPS.length);
  }
  return { ops, mode, variant };
}

export function describeWorkload(w: Workload): string {
  return `${w.mode}/${w.variant.name}: ${w.ops.join(" → ")}`;
}

/** Open options for a workload's log (group's flusher interval is out of reach so runs are deterministic). */
export function openOptions(
  w: Workload,
  fs: WalFileSystem,
  fence: number,
  onTx?: (tx: RecoveredTx) => void,
): WalOptions<JsonValue> {
  const syncMode = w.mode === "group" ? { mode: "group" as const, intervalMs: 3_600_000 } : w.mode;
  return {
    fs,
    codec: jsonCodec,
    syncMode,
    segmentTargetBytes: w.variant.segmentTargetBytes,
    blockingSync: w.variant.blockingSync === true,
    unsyncedWindowBytes: TIER_A_WINDOW_BYTES,
    checkpointLsn: fence,
    ...(onTx === undefined ? {} : { onTransaction: onTx }),
  };
}

const PAD = "~".repeat(600);
/** More than two of Tier A's 4 KiB unsynced windows: the record's header goes out in the first piece, its end later. */
const HUGE_PAD = "~".repeat(9000);

/**
 * Where the records of a segment's bytes end, counting only those with an LSN of at most `upTo`: after the last such
 * record (the header's end when there is none). Between ops a writer has written whole records, and an fdatasync
 * covers all it wrote, so with `upTo` the handle's `fsyncedLsn()` this is where the fsynced bytes end.
 */
function recordsEnd(bytes: Uint8Array, upTo = Number.MAX_SAFE_INTEGER): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = SEGMENT_HEADER_BYTES;
  for (let at = SEGMENT_HEADER_BYTES; at + RECORD_HEADER_BYTES <= bytes.byteLength; ) {
    const length = view.getUint32(at, true);
    if (length === 0 || at + length > bytes.byteLength) break;
    if (view.getUint32(at + 5, true) + view.getUint32(at + 9, true) * 2 ** 32 > upTo) break;
    at += length;
    end = at;
  }
  return end;
}

/** Drives one workload against a live handle; `wal` changes on `reopen`. */
export class WorkloadDriver {
  readonly model: Model;
  wal: Wal<JsonValue>;
  readonly #w: Workload;
  readonly #options: WalOptions<JsonValue>;
  /** Draws what an op leaves to chance (a `manyCommits` padding), from the case's seed. */
  readonly #next: Rng;
  /** What each in-workload clean reopen recovered, with what it had to recover (everything committed). */
  readonly reopenChecks: { recovered: RecoveredTx[]; exp: Expectation }[] = [];

  constructor(w: Workload, wal: Wal<JsonValue>, model: Model, options: WalOptions<JsonValue>, seed: number) {
    this.#w = w;
    this.#next = rng(seed);
    this.wal = wal;
    this.model = model;
    this.#options = options;
  }

  async run(op: Op): Promise<void> {
    const { model } = this;
    const wal = this.wal;
    const perCommit = this.#w.mode === "perCommit";
    switch (op) {
      case "commitSmall":
      case "commitLarge":
      case "commitHuge": {
        const id = model.newId();
        const events =
          op === "commitSmall"
            ? [`${id}.0`]
            : op === "commitLarge"
              ? [0, 1, 2].map((i) => `${id}.${i}${PAD}`)
              : [`${id}.0${HUGE_PAD}`];
        const info = await wal.commitTx(events);
        if (info === null) throw new Error("commitTx returned null for a non-empty transaction");
        this.#acked(id, info.beginLsn, info.commitLsn, events, perCommit);
        return;
      }
      case "lowLevel": {
        const id = model.newId();
        const b = await wal.begin();
        const events = [`${id}.0`, `${id}.1`, `${id}.2`];
        model.open.set(b, { id, events });
        await wal.append(b, events[0] as string);
        await wal.appendBatch(b, events.slice(1));
        const c = await wal.commit(b);
        model.open.delete(b);
        model.commit(id, b, c, events, false);
        return;
      }
      case "manyCommits": {
        // As many as one segment holds: with tiny segments, 150 commits would rotate some forty times (the burst's
        // business) and never write more than a window at once.
        const count = Math.min(MANY_COMMITS, Math.floor(this.#w.variant.segmentTargetBytes / 128));
        const stems = Array.from({ length: count }, (_, i) => {
          const id = model.newId();
          return { id, stem: `${id}.${i}` };
        });
        const paddings = await this.#burstPaddings(stems.map((t) => t.stem));
        const txs = stems.map((t, i) => ({ id: t.id, events: [`${t.stem}${"~".repeat(paddings[i] as number)}`] }));
        const infos = await Promise.all(txs.map((t) => wal.commitTx(t.events)));
        infos.forEach((info, i) => {
          const t = txs[i] as (typeof txs)[number];
          if (info === null) throw new Error("commitTx returned null for a non-empty transaction");
          this.#acked(t.id, info.beginLsn, info.commitLsn, t.events, perCommit);
        });
        return;
      }
      case "interleave": {
        const a = { id: model.newId(), lsn: await wal.begin() };
        const b = { id: model.newId(), lsn: await wal.begin() };
        model.open.set(a.lsn, { id: a.id, events: [] });
        model.open.set(b.lsn, { id: b.id, events: [] });
        await wal.append(a.lsn, `${a.id}.0`);
        await wal.append(b.lsn, `${b.id}.0`);
        const cb = await wal.commit(b.lsn);
        model.open.delete(b.lsn);
        model.commit(b.id, b.lsn, cb, [`${b.id}.0`], false);
        await wal.append(a.lsn, `${a.id}.1`);
        const ca = await wal.commit(a.lsn);
        model.open.delete(a.lsn);
        model.commit(a.id, a.lsn, ca, [`${a.id}.0`, `${a.id}.1`], false);
        return;
      }
      case "abort":
      case "leaveOpen": {
        const id = model.newId();
        const b = await wal.begin();
        model.open.set(b, { id, events: [`${id}.0`] });
        await wal.append(b, `${id}.0`);
        if (op === "abort") {
          await wal.abort(b);
          model.open.delete(b);
          model.abortedCount++;
        }
        return;
      }
      case "flush": {
        const upTo = wal.nextLsn() - 1;
        await wal.flush();
        if (perCommit) model.durable(upTo);
        else model.written(upTo);
        return;
      }
      case "sync": {
        const upTo = wal.nextLsn() - 1;
        await wal.sync();
        model.durable(upTo);
        return;
      }
      case "checkpoint": {
        // The handle names the fence: durable, below every open transaction, outside every finished one. The
        // store's snapshot at s holds exactly the transactions committed at or below s, and is stored (outside the
        // log) before the marker is written.
        const s = wal.safeCheckpointLsn();
        model.fence = Math.max(model.fence, s);
        await wal.checkpoint(s); // marker, fsync, truncateUpTo(s)
        model.durable(wal.nextLsn() - 1);
        return;
      }
      case "burst": {
        const big = { id: model.newId(), events: [] as string[] };
        big.events = [0, 1].map((i) => `${big.id}.${i}${PAD}`);
        const small = { id: model.newId(), events: [] as string[] };
        small.events = [`${small.id}.0`];
        const late = { id: model.newId(), events: [] as string[] };
        late.events = [`${late.id}.0`];
        let slipped: Promise<[number, number]> | undefined;
        const p1 = wal.commitTx(big.events);
        queueMicrotask(() => {
          slipped = (async () => {
            const b = await wal.begin();
            await wal.append(b, late.events[0] as string);
            return [b, await wal.commit(b)];
          })();
        });
        const p2 = wal.commitTx(small.events);
        const [r1, r2] = await Promise.all([p1, p2]);
        const [lb, lc] = await (slipped as Promise<[number, number]>);
        if (r1 === null || r2 === null) throw new Error("commitTx returned null for a non-empty transaction");
        this.#acked(big.id, r1.beginLsn, r1.commitLsn, big.events, perCommit);
        this.#acked(small.id, r2.beginLsn, r2.commitLsn, small.events, perCommit);
        model.commit(late.id, lb, lc, late.events, false);
        return;
      }
      case "syncRace": {
        // A commit written while a sync round's fdatasync runs is not covered by that round: its durability comes
        // from a later one, which whenDurable must wait for (the handle's claim is what the model records here).
        const id = model.newId();
        const events = [`${id}.0`];
        const upTo = wal.nextLsn() - 1;
        // On SimFS the commit starts right after the round's fdatasync took effect, before the round resumes, as
        // a write completing while a real fdatasync runs; elsewhere it merely runs beside the sync.
        const fs = this.#options.fs;
        let racing: Promise<CommitInfo | null> | undefined;
        const start = () => {
          racing ??= wal.commitTx(events);
        };
        const unsubscribe =
          fs instanceof SimFS ? fs.onOperation((e) => void (e.op === "datasync" && queueMicrotask(start))) : undefined;
        let synced: Promise<void>;
        try {
          synced = wal.sync();
          if (unsubscribe === undefined) start();
          await synced;
        } finally {
          unsubscribe?.();
        }
        start(); // a sync with nothing to write may have run no fdatasync
        const info = await (racing as Promise<CommitInfo | null>);
        if (info === null) throw new Error("commitTx returned null for a non-empty transaction");
        model.durable(upTo);
        this.#acked(id, info.beginLsn, info.commitLsn, events, perCommit);
        // Group mode's whenDurable waits for the flusher, whose interval is out of reach here.
        if (this.#w.mode !== "group") {
          await wal.whenDurable(info.commitLsn);
          model.durable(info.commitLsn);
        }
        return;
      }
      case "reopen": {
        const upTo = wal.nextLsn() - 1;
        await wal.close();
        model.durable(upTo);
        model.open.clear(); // uncommitted at close: discarded by replay
        const txs: RecoveredTx[] = [];
        const r = await Wal.open(WAL_DIR, {
          ...this.#options,
          checkpointLsn: model.fence,
          onTransaction: (t) => void txs.push(t),
        });
        this.wal = r.wal;
        this.reopenChecks.push({ recovered: txs, exp: model.expectation(model.snapshot(), true) });
        return;
      }
    }
  }

  /**
   * Paddings for a `manyCommits` burst of one-event transactions `stems`: planned ({@link planPaddings}) when the
   * burst spans more than two windows in a SimFS log, its pieces ending a window apart from where the fsynced records
   * end; otherwise drawn uniformly.
   */
  async #burstPaddings(stems: readonly string[]): Promise<number[]> {
    const bases = stems.map((stem) => encodeCommitTxInto(1, [stem], jsonCodec, new ByteWriter(64)));
    const fs = this.#options.fs;
    if (!(fs instanceof SimFS) || bases.reduce((sum, b) => sum + b, 0) < 2 * TIER_A_WINDOW_BYTES) {
      return stems.map(() => between(this.#next, 0, MAX_PADDING));
    }
    // Records still buffered (a low-level transaction's) are written first, by the `flush` op itself: the plan must
    // know where the burst starts. In `group` and `none` they stay unsynced and share the burst's first window.
    await this.run("flush");
    const segment = fs.readFileSync(segmentPath(WAL_DIR, this.wal.activeSegmentId()));
    const start = recordsEnd(segment);
    return planPaddings(bases, start, recordsEnd(segment, this.wal.fsyncedLsn()), TIER_A_WINDOW_BYTES, this.#next);
  }

  #acked(id: string, begin: number, commit: number, events: readonly string[], durable: boolean): void {
    this.model.commit(id, begin, commit, events, true);
    if (durable) this.model.durable(commit);
    else this.model.written(commit);
  }
}
