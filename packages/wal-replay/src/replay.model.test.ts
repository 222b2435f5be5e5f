/**
 * Model-based property tests (docs/crash-testing.md, 'Model-based tests'): a small log writer built from
 * `SegmentWriter` on SimFS, driven by `fc.commands`, checked against a model of the committed history after every
 * crash image SimFS offers, plus the single-bit-flip property.
 *
 * Reproduce a failure: fast-check prints `seed`, `path` (and the shrunk command list, each command with a
 * readable `toString()`). Re-run with `FC_SEED=<seed> FC_PATH=<path>`; `FC_NUM_RUNS` sets the run count.
 */

import { fc, test } from "@fast-check/vitest";
import { bytesCodec, isWalError, type JsonValue, jsonCodec, type PayloadCodec, type WalRecord } from "@lora/wal-codec";
import { SEGMENT_HEADER_BYTES, SegmentReader, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterAll, describe, expect } from "vitest";
import { replayDir } from "./replay.js";
import type { RecoveryMode, ReplayedTransaction, ReplayOutcome } from "./replay-types.js";

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 150);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const PATH = process.env.FC_PATH;
const params = (numRuns: number): { numRuns: number; seed?: number; path?: string } => ({
  numRuns,
  ...(SEED === undefined ? {} : { seed: SEED }),
  ...(PATH === undefined ? {} : { path: PATH }),
});

const DIR = "/wal";
/** Rotate once the active segment (written + pending) reaches this many bytes: a few 512-byte sectors. */
const SEGMENT_TARGET = 4096;
/** Crash images checked per Crash command (all of them when SimFS offers at most this many). */
const MAX_IMAGES = 64;
/** Group-style sync: fdatasync every this many commits. */
const GROUP_EVERY = 3;
const MAX_OPEN = 3;

// ---------------------------------------------------------------------------------------------------------------
// The real system: a log writer over SegmentWriter
// ---------------------------------------------------------------------------------------------------------------

/** Appends records with consecutive LSNs, rotates segments (seal, create the next, fsync the directory). */
class LogWriter<E> {
  readonly fs: SimFS;
  readonly codec: PayloadCodec<E>;
  writer: SegmentWriter;
  segmentId: number;
  nextLsn: number;

  private constructor(fs: SimFS, codec: PayloadCodec<E>, writer: SegmentWriter, segmentId: number, nextLsn: number) {
    this.fs = fs;
    this.codec = codec;
    this.writer = writer;
    this.segmentId = segmentId;
    this.nextLsn = nextLsn;
  }

  static async create<E>(fs: SimFS, codec: PayloadCodec<E>): Promise<LogWriter<E>> {
    fs.mkdirpSync(DIR);
    const writer = await SegmentWriter.create(fs, segmentPath(DIR, 1), 1);
    await fs.syncDir(DIR);
    return new LogWriter(fs, codec, writer, 1, 1);
  }

  /**
   * What a handle does on open after a crash: replay (default mode: corruption throws), drop a headerless newest
   * segment, cut a torn tail (durably) and append at the last good offset, or start a new segment after a sealed
   * one. Returns the recovered transactions.
   */
  static async recover<E>(
    fs: SimFS,
    codec: PayloadCodec<E>,
  ): Promise<{ log: LogWriter<E>; txs: ReplayedTransaction<E>[]; outcome: ReplayOutcome }> {
    for (;;) {
      const { txs, outcome } = await replayAll(fs, codec, "tolerate-torn-tail");
      if (outcome.headerlessLastSegment !== null) {
        await fs.unlink(outcome.headerlessLastSegment.path);
        await fs.syncDir(DIR);
        continue;
      }
      const last = outcome.segments.at(-1);
      if (last === undefined || last.sealed) {
        const id = (last?.id ?? 0) + 1;
        const base = Math.max(outcome.maxLsn, last?.baseLsn ?? 0) + 1;
        const writer = await SegmentWriter.create(fs, segmentPath(DIR, id), base);
        await fs.syncDir(DIR);
        return { log: new LogWriter(fs, codec, writer, id, base), txs, outcome };
      }
      const writer = await SegmentWriter.openForAppend(fs, last.path, outcome.lastGoodOffset);
      if (outcome.tornTail !== null) await writer.truncateTo(outcome.tornTail.offset);
      const next = Math.max(outcome.maxLsn + 1, last.baseLsn);
      return { log: new LogWriter(fs, codec, writer, last.id as number, next), txs, outcome };
    }
  }

  #append(record: WalRecord<E>): number {
    this.writer.append(record, this.codec);
    this.nextLsn++;
    return record.lsn;
  }

  begin(): number {
    return this.#append({ kind: "txBegin", lsn: this.nextLsn });
  }

  mutate(txBeginLsn: number, events: readonly E[]): number {
    const lsn = this.nextLsn;
    return this.#append(
      events.length === 1
        ? { kind: "mutation", lsn, txBeginLsn, event: events[0] as E }
        : { kind: "mutationBatch", lsn, txBeginLsn, events },
    );
  }

  commit(txBeginLsn: number): number {
    return this.#append({ kind: "txCommit", lsn: this.nextLsn, txBeginLsn });
  }

  abort(txBeginLsn: number): number {
    return this.#append({ kind: "txAbort", lsn: this.nextLsn, txBeginLsn });
  }

  async write(): Promise<void> {
    await this.writer.write();
  }

  async sync(): Promise<void> {
    await this.writer.sync();
  }

  get needsRotation(): boolean {
    return this.writer.size >= SEGMENT_TARGET;
  }

  /** Seal (write + fdatasync + sealed header + fdatasync), create the next segment, fsync the directory. */
  async rotate(): Promise<void> {
    await this.writer.seal();
    await this.writer.close();
    const id = this.segmentId + 1;
    this.writer = await SegmentWriter.create(this.fs, segmentPath(DIR, id), this.nextLsn);
    this.segmentId = id;
    await this.fs.syncDir(DIR);
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}

async function replayAll<E>(
  fs: SimFS,
  codec: PayloadCodec<E>,
  recovery: RecoveryMode,
  chunkBytes?: number,
  unsyncedWindowBytes?: number,
) {
  const replay = replayDir(DIR, {
    codec,
    fs,
    recovery,
    ...(chunkBytes === undefined ? {} : { chunkBytes }),
    ...(unsyncedWindowBytes === undefined ? {} : { unsyncedWindowBytes }),
  });
  const txs: ReplayedTransaction<E>[] = [];
  for await (const t of replay) txs.push(t);
  return { txs, outcome: await replay.outcome() };
}

// ---------------------------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------------------------

type SyncMode = "sync-every-commit" | "group-sync" | "never-sync";

interface ModelTx {
  readonly id: number;
  readonly beginLsn: number;
  commitLsn: number;
  readonly events: Uint8Array[];
}

interface Model {
  readonly mode: SyncMode;
  /** Committed transactions in commit order (the order of their commit records in the log). */
  committed: ModelTx[];
  /** Begun and not yet committed or aborted, in begin order. */
  open: ModelTx[];
  /** `committed[0, written)` have their commit record handed to the OS. */
  written: number;
  /** `committed[0, durable)` have their commit record covered by an fdatasync. */
  durable: number;
  sinceSync: number;
  /** Transactions that must never be replayed: aborted, open at a crash, or committed and lost in a crash. */
  readonly dead: Set<number>;
  nextTxId: number;
}

interface Real {
  log: LogWriter<Uint8Array>;
}

/** Every event carries its transaction id and index, so a replayed event names where it came from. */
function makeEvent(txId: number, index: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, txId, true);
  view.setUint16(4, index, true);
  out.set(payload, 6);
  return out;
}

const txIdOf = (event: Uint8Array) => new DataView(event.buffer, event.byteOffset, 4).getUint32(0, true);

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

const showTx = (t: { beginLsn: number; commitLsn: number; events: readonly Uint8Array[] }) =>
  `[${t.beginLsn}..${t.commitLsn} ${t.events.map((e) => `tx${txIdOf(e)}:${e.byteLength}B`).join(" ")}]`;

/** What the runs covered (printed with `FC_STATS=1`). */
const coverage = {
  runs: 0,
  crashes: 0,
  images: 0,
  tornTails: 0,
  tornSectorImages: 0,
  outOfOrderSectorImages: 0,
  corruptionReports: 0,
  dirEntryImages: 0,
  multiSegmentImages: 0,
  maxCommitted: 0,
};

class InvariantError extends Error {
  override name = "InvariantError";
}

function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantError(message());
}

/**
 * Invariants (1)–(4) for one replay: a prefix of the committed history (whole transactions, events in order,
 * same LSNs), at least everything an fsync covered, at most what was handed to the OS, nothing aborted or
 * uncommitted, LSNs strictly increasing (and contiguous across segments).
 */
function checkHistory(
  m: Model,
  txs: readonly ReplayedTransaction<Uint8Array>[],
  outcome: ReplayOutcome,
  where: string,
) {
  const ctx = () =>
    `${where}\n  replayed:  ${txs.map(showTx).join(" ")}\n  committed: ${m.committed.map(showTx).join(" ")}` +
    `\n  written=${m.written} durable=${m.durable}`;
  // (3) never aborted or uncommitted work.
  const openIds = new Set(m.open.map((t) => t.id));
  for (const t of txs) {
    for (const e of t.events) {
      const id = txIdOf(e);
      invariant(!m.dead.has(id), () => `(3) replayed an event of aborted/lost tx${id}: ${ctx()}`);
      invariant(!openIds.has(id), () => `(3) replayed an event of uncommitted tx${id}: ${ctx()}`);
    }
  }
  // (4) LSNs strictly increase.
  let previous = 0;
  for (const t of txs) {
    invariant(t.beginLsn < t.commitLsn, () => `(4) begin ${t.beginLsn} not before commit ${t.commitLsn}: ${ctx()}`);
    invariant(t.commitLsn > previous, () => `(4) commit LSN ${t.commitLsn} not above ${previous}: ${ctx()}`);
    previous = t.commitLsn;
  }
  invariant(outcome.maxLsn >= previous, () => `(4) maxLsn ${outcome.maxLsn} below last commit ${previous}: ${ctx()}`);
  const segs = outcome.segments;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as (typeof segs)[number];
    if (s.firstLsn !== undefined) {
      invariant(s.firstLsn === s.baseLsn, () => `(4) segment ${s.id} starts at ${s.firstLsn}, base ${s.baseLsn}`);
    }
    const p = segs[i - 1];
    if (p?.lastLsn !== undefined) {
      invariant(s.baseLsn === p.lastLsn + 1, () => `(4) segment ${s.id} base ${s.baseLsn} after lsn ${p.lastLsn}`);
    }
  }
  // (1) a prefix of the committed history, whole transactions, in commit order; nothing never handed to the OS.
  invariant(txs.length <= m.written, () => `(1) replayed ${txs.length} txs, only ${m.written} written: ${ctx()}`);
  txs.forEach((t, i) => {
    const want = m.committed[i] as ModelTx;
    invariant(
      t.beginLsn === want.beginLsn &&
        t.commitLsn === want.commitLsn &&
        t.events.length === want.events.length &&
        t.events.every((e, j) => sameBytes(e, want.events[j] as Uint8Array)),
      () => `(1) replayed tx #${i} ${showTx(t)} is not committed tx ${showTx(want)}: ${ctx()}`,
    );
  });
  // (2) everything an fsync covered.
  invariant(txs.length >= m.durable, () => `(2) lost durable commits: ${txs.length} < ${m.durable}: ${ctx()}`);
}

/**
 * True when the image holds a write torn at a NON-prefix set of its 512-byte sectors (e.g. `[0,2] of 3`): sector
 * 1 of that write is missing (zeros) while a later sector of the same write landed.
 *
 * Why this is the one allowed exception to "every crash image replays without corruption": the landed later
 * sector can hold complete, CRC-valid records with higher LSNs after the hole. Replay then sees damage followed by
 * a valid record, which is exactly how a flipped bit in the middle of a log looks, and it must not cut that off
 * as a tail (that is the rule that keeps real corruption loud). A write whose sectors reach the disk out of order
 * is therefore reported as `WAL_CORRUPT`: loud, recoverable only by an operator, but never silent. It costs no
 * durable data: the torn write was not covered by an fsync, so every durable record lies before the hole and is
 * still replayed; `checkHistory` keeps checking invariants (1)–(4) on such images. Writes torn at a sector PREFIX
 * (what a crash mid-write leaves when sectors land in order) must replay cleanly as a torn tail.
 */
function hasNonPrefixTornWrite(description: string): boolean {
  for (const match of description.matchAll(/torn: sectors \[([0-9,]*)\] of \d+ landed/g)) {
    const sectors = (match[1] as string).split(",").map(Number);
    if (!sectors.every((s, i) => s === i)) return true;
  }
  return false;
}

interface ImageResult {
  readonly fs: SimFS;
  readonly description: string;
  readonly outcome: ReplayOutcome;
}

/** Replay every crash image SimFS offers now and check the invariants on each. */
async function checkCrashImages(m: Model, fs: SimFS, seed: number): Promise<ImageResult[]> {
  const results: ImageResult[] = [];
  for (const { description, fs: image } of fs.crashImages({ maxImages: MAX_IMAGES, seed })) {
    const where = `crash image "${description}"`;
    let replayed: Awaited<ReturnType<typeof replayAll<Uint8Array>>>;
    try {
      replayed = await replayAll(image, bytesCodec, "point-in-time");
    } catch (error) {
      // (5) no crash image throws: WAL_MALFORMED, WAL_BAD_HEADER, WAL_IO would leave a log that cannot open.
      throw new InvariantError(`(5) replay threw ${String(error)} on ${where}`, { cause: error });
    }
    const { txs, outcome } = replayed;
    coverage.images++;
    if (outcome.tornTail !== null) coverage.tornTails++;
    if (description.includes(" torn: sectors")) coverage.tornSectorImages++;
    if (hasNonPrefixTornWrite(description)) coverage.outOfOrderSectorImages++;
    if (outcome.corruption !== null) coverage.corruptionReports++;
    if (description.includes("dir /wal:")) coverage.dirEntryImages++;
    if (outcome.segments.length > 1) coverage.multiSegmentImages++;
    checkHistory(m, txs, outcome, where);
    if (outcome.corruption !== null) {
      // (5) corruption only where sectors of one write landed out of order (see hasNonPrefixTornWrite).
      invariant(
        hasNonPrefixTornWrite(description),
        () => `(5) ${outcome.corruption?.error.message} on ${where} (only out-of-order sectors may do that)`,
      );
      invariant(outcome.corruption.error.code === "WAL_CORRUPT", () => `(5) corruption code on ${where}`);
    } else if (description.startsWith("[drop all unsynced]")) {
      invariant(txs.length === m.durable, () => `drop-all image replays ${txs.length}, durable ${m.durable}`);
    } else if (description.startsWith("[keep all]")) {
      invariant(txs.length === m.written, () => `keep-all image replays ${txs.length}, written ${m.written}`);
      invariant(outcome.tornTail === null, () => `keep-all image has a torn tail`);
    } else if (description === "no unsynced state") {
      invariant(txs.length === m.durable && m.durable === m.written, () => `synced image replays ${txs.length}`);
    }
    results.push({ fs: image, description, outcome });
  }
  return results;
}

function afterWrite(m: Model): void {
  m.written = m.committed.length;
}

function afterSync(m: Model): void {
  m.durable = m.written;
  m.sinceSync = 0;
}

async function maybeRotate(m: Model, r: Real): Promise<void> {
  if (!r.log.needsRotation) return;
  await r.log.rotate();
  afterWrite(m);
  afterSync(m);
}

type Cmd = fc.AsyncCommand<Model, Real>;

class Begin implements Cmd {
  check = (m: Readonly<Model>) => m.open.length < MAX_OPEN;
  async run(m: Model, r: Real) {
    const beginLsn = r.log.begin();
    m.open.push({ id: m.nextTxId++, beginLsn, commitLsn: 0, events: [] });
    await maybeRotate(m, r);
  }
  toString = () => "Begin";
}

class Append implements Cmd {
  constructor(
    readonly slot: number,
    readonly payloads: readonly Uint8Array[],
  ) {}
  check = (m: Readonly<Model>) => m.open.length > 0;
  async run(m: Model, r: Real) {
    const tx = m.open[this.slot % m.open.length] as ModelTx;
    const events = this.payloads.map((p, i) => makeEvent(tx.id, tx.events.length + i, p));
    r.log.mutate(tx.beginLsn, events);
    tx.events.push(...events);
    await maybeRotate(m, r);
  }
  toString = () => `Append(open[${this.slot}], ${this.payloads.map((p) => `${p.byteLength}B`).join("+")})`;
}

class Commit implements Cmd {
  constructor(readonly slot: number) {}
  check = (m: Readonly<Model>) => m.open.length > 0;
  async run(m: Model, r: Real) {
    const [tx] = m.open.splice(this.slot % m.open.length, 1) as [ModelTx];
    tx.commitLsn = r.log.commit(tx.beginLsn);
    m.committed.push(tx);
    if (m.mode === "sync-every-commit") {
      await r.log.write();
      afterWrite(m);
      await r.log.sync();
      afterSync(m);
    } else if (m.mode === "group-sync") {
      // Commit bytes go to the OS at once; the fdatasync is deferred to every GROUP_EVERY-th commit.
      await r.log.write();
      afterWrite(m);
      if (++m.sinceSync >= GROUP_EVERY) {
        await r.log.sync();
        afterSync(m);
      }
    }
    await maybeRotate(m, r);
  }
  toString = () => `Commit(open[${this.slot}])`;
}

class Abort implements Cmd {
  constructor(readonly slot: number) {}
  check = (m: Readonly<Model>) => m.open.length > 0;
  async run(m: Model, r: Real) {
    const [tx] = m.open.splice(this.slot % m.open.length, 1) as [ModelTx];
    r.log.abort(tx.beginLsn);
    m.dead.add(tx.id);
    await maybeRotate(m, r);
  }
  toString = () => `Abort(open[${this.slot}])`;
}

class Write implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    await r.log.write();
    afterWrite(m);
  }
  toString = () => "Write";
}

class Sync implements Cmd {
  check = (m: Readonly<Model>) => m.mode !== "never-sync";
  async run(m: Model, r: Real) {
    await r.log.sync();
    afterSync(m);
  }
  toString = () => "Sync";
}

class Rotate implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    // An empty segment is not rotated: its successor would need the same base LSN.
    if (r.log.writer.size <= SEGMENT_HEADER_BYTES) return;
    await r.log.rotate();
    afterWrite(m);
    afterSync(m);
  }
  toString = () => "Rotate";
}

class CleanReplay implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    const { txs, outcome } = await replayAll(r.log.fs, bytesCodec, "absolute");
    checkHistory(m, txs, outcome, "clean replay of the live file system");
    invariant(txs.length === m.written, () => `clean replay gave ${txs.length} txs, ${m.written} were written`);
  }
  toString = () => "CleanReplay";
}

/**
 * Power loss with the file system as `fs` shows it (the model's `written`/`durable` counts as of that moment):
 * check every crash image, then carry on from one of the images that replays without corruption (`pick` 0 is the
 * drop-all image, always usable) as a restarted handle would, with the model reset to what was recovered.
 */
async function crashAndRecover(m: Model, r: Real, at: CrashPoint, pick: number, seed: number): Promise<void> {
  coverage.crashes++;
  coverage.maxCommitted = Math.max(coverage.maxCommitted, m.committed.length);
  const results = await checkCrashImages({ ...m, written: at.written, durable: at.durable }, at.fs, seed);
  const usable = results.filter((x) => x.outcome.corruption === null);
  const chosen = usable[pick % usable.length] as ImageResult;
  await r.log.close();
  const where = `recovering from "${chosen.description}"`;
  let recovered: Awaited<ReturnType<typeof LogWriter.recover<Uint8Array>>>;
  try {
    recovered = await LogWriter.recover(chosen.fs, bytesCodec);
  } catch (error) {
    throw new InvariantError(`${where} failed: ${String(error)}`, { cause: error });
  }
  const { log, txs } = recovered;
  // Recovery is idempotent: the recovered log replays to the same history, cleanly (no tail left to cut).
  const again = await replayAll(log.fs, bytesCodec, "absolute");
  checkHistory({ ...m, written: at.written, durable: at.durable }, again.txs, again.outcome, where);
  invariant(again.txs.length === txs.length, () => `${where}: replay after recovery differs`);
  for (const t of m.committed.slice(txs.length)) m.dead.add(t.id);
  for (const t of m.open) m.dead.add(t.id);
  m.committed = m.committed.slice(0, txs.length);
  m.open = [];
  m.written = m.committed.length;
  m.durable = m.committed.length;
  m.sinceSync = 0;
  r.log = log;
}

/** A moment to crash at: the file system then (a clone when taken mid-operation) and the model's counts. */
interface CrashPoint {
  readonly fs: SimFS;
  readonly written: number;
  readonly durable: number;
}

/** Power loss now, between two commands. */
class Crash implements Cmd {
  constructor(
    readonly pick: number,
    readonly seed: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await crashAndRecover(m, r, { fs: r.log.fs, written: m.written, durable: m.durable }, this.pick, this.seed);
  }
  toString = () => `Crash(pick=${this.pick}, seed=${this.seed})`;
}

/**
 * Power loss in the middle of a rotation, right after its `step`-th file-system operation (write, fdatasync and
 * header rewrite of the seal, create + header + fsync of the next segment, fsync of the directory): crash images
 * with a sealed newest segment, a newest segment with no header yet, or a lost directory entry.
 */
class CrashDuringRotation implements Cmd {
  constructor(
    readonly step: number,
    readonly pick: number,
    readonly seed: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    if (r.log.writer.size <= SEGMENT_HEADER_BYTES) return;
    const fs = r.log.fs;
    const active = r.log.writer.path;
    const points: CrashPoint[] = [];
    let written = m.written;
    let durable = m.durable;
    const stop = fs.onOperation((event) => {
      if (event.path === active && event.op === "write") written = m.committed.length;
      if (event.path === active && (event.op === "datasync" || event.op === "sync")) durable = written;
      points.push({ fs: fs.clone(), written, durable });
    });
    try {
      await r.log.rotate();
    } finally {
      stop();
    }
    const at = points[this.step % points.length] as CrashPoint;
    await crashAndRecover(m, r, at, this.pick, this.seed);
  }
  toString = () => `CrashDuringRotation(step=${this.step}, pick=${this.pick}, seed=${this.seed})`;
}

const small = fc.uint8Array({ maxLength: 24 });
/** Sometimes big enough to force a rotation, and to span several sectors (torn-write images). */
const big = fc.integer({ min: 500, max: 1400 }).map((n) => new Uint8Array(n).fill(n & 0xff));
const payload = fc.oneof({ weight: 6, arbitrary: small }, { weight: 1, arbitrary: big });
const slot = fc.nat(MAX_OPEN - 1);

const begin = fc.constant(new Begin());
const append = fc.tuple(slot, fc.array(payload, { minLength: 1, maxLength: 3 })).map(([s, p]) => new Append(s, p));
const commit = slot.map((s) => new Commit(s));
/** Listed as many times as its weight (fc.commands picks among the arbitraries uniformly). */
const commandArbs: fc.Arbitrary<Cmd>[] = [
  ...[begin, begin, begin],
  ...[append, append, append, append],
  ...[commit, commit, commit],
  slot.map((s) => new Abort(s)),
  ...[fc.constant(new Write()), fc.constant(new Write()), fc.constant(new Write())],
  fc.constant(new Sync()),
  fc.constant(new Rotate()),
  fc.constant(new CleanReplay()),
  fc.tuple(fc.nat(7), fc.nat(0xffff)).map(([p, s]) => new Crash(p, s)),
  fc.tuple(fc.nat(15), fc.nat(7), fc.nat(0xffff)).map(([t, p, s]) => new CrashDuringRotation(t, p, s)),
];

const commands = fc.commands(commandArbs, {
  maxCommands: 100,
  size: "max",
  ...(process.env.FC_REPLAY_PATH === undefined ? {} : { replayPath: process.env.FC_REPLAY_PATH }),
});

async function runModel(mode: SyncMode, cmds: Iterable<Cmd>): Promise<void> {
  const fs = new SimFS();
  const log = await LogWriter.create(fs, bytesCodec);
  const model: Model = {
    mode,
    committed: [],
    open: [],
    written: 0,
    durable: 0,
    sinceSync: 0,
    dead: new Set(),
    nextTxId: 1,
  };
  const real: Real = { log };
  coverage.runs++;
  await fc.asyncModelRun(() => ({ model, real }), cmds);
  // Every run ends with a power loss, so each sequence is checked against its crash images at least once.
  await new Crash(0, 1).run(model, real);
  await real.log.close();
}

afterAll(() => {
  if (process.env.FC_STATS !== undefined) console.log("model coverage", coverage);
});

describe("writer + replay on SimFS against the committed-history model, every crash image checked", () => {
  // One property per sync style, so a shrunk counterexample names its mode.
  test.prop([commands], params(NUM_RUNS))("sync after every commit", (cmds) => runModel("sync-every-commit", cmds));
  test.prop([commands], params(NUM_RUNS))(`group-style sync every ${GROUP_EVERY} commits`, (cmds) =>
    runModel("group-sync", cmds),
  );
  test.prop([commands], params(NUM_RUNS))("never sync (only sealing syncs)", (cmds) => runModel("never-sync", cmds));
});

// ---------------------------------------------------------------------------------------------------------------
// Single-bit flips: reported as corruption, never cut off as a tail
// ---------------------------------------------------------------------------------------------------------------

interface BuiltLog {
  readonly fs: SimFS;
  /** Committed transactions in commit order (events are JSON). */
  readonly committed: { beginLsn: number; commitLsn: number; events: JsonValue[] }[];
}

/** Write `txs` (event counts and sizes) through the log writer, committing each, rotating when over target. */
async function buildLog(txs: readonly (readonly number[])[], sealLast: boolean): Promise<BuiltLog> {
  const fs = new SimFS();
  const log = await LogWriter.create(fs, jsonCodec);
  const committed: BuiltLog["committed"] = [];
  for (const [t, sizes] of txs.entries()) {
    const beginLsn = log.begin();
    const events = sizes.map((n, i) => `t${t}e${i}:${"x".repeat(n)}`);
    for (const e of events) log.mutate(beginLsn, [e]);
    committed.push({ beginLsn, commitLsn: log.commit(beginLsn), events });
    if (log.needsRotation) await log.rotate();
  }
  await log.write();
  if (sealLast) await log.writer.seal();
  await log.close();
  return { fs, committed };
}

/** Where each record of a (clean) segment starts, and its LSN. */
async function recordsOf(fs: SimFS, path: string): Promise<{ offset: number; end: number; lsn: number }[]> {
  const reader = await SegmentReader.open(fs, path);
  const out: { offset: number; end: number; lsn: number }[] = [];
  try {
    for (;;) {
      const step = await reader.next(jsonCodec);
      if (step.kind === "end") return out;
      if (step.kind !== "record") throw new Error(`clean log damaged at ${step.offset}`);
      out.push({ offset: step.offset, end: step.offset + step.byteLength, lsn: step.record.lsn });
    }
  } finally {
    await reader.close();
  }
}

const logShape = fc.array(fc.array(fc.nat(300), { minLength: 0, maxLength: 4 }), { minLength: 1, maxLength: 14 });

describe("a single-bit flip", () => {
  test.prop(
    [
      logShape,
      fc.boolean(),
      fc.nat(),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.nat(7),
      fc.boolean(),
    ],
    params(NUM_RUNS * 4),
  )(
    "anywhere in a segment is reported: header → WAL_BAD_HEADER, before the last record → corruption at the " +
      "flipped record, in the last record → corruption (sealed) or a torn tail exactly there (newest, unsealed); " +
      "within the unsynced window of the newest, unsealed segment → a torn tail exactly there",
    async (shape, sealLast, segmentPick, where, bit, windowed) => {
      const { fs, committed } = await buildLog(shape, sealLast);
      const paths = fs.listSync(DIR).map((n) => `${DIR}/${n}`);
      const index = segmentPick % paths.length;
      const path = paths[index] as string;
      const isNewest = index === paths.length - 1;
      const bytes = fs.readFileSync(path);
      const records = await recordsOf(fs, path);
      const position = Math.floor(where * bytes.byteLength);
      bytes[position] = (bytes[position] as number) ^ (1 << bit);
      fs.writeFileSync(path, bytes);

      // The default 1 MiB window holds these whole small logs (every byte may be an unsynced write); a window of 0
      // says every byte was fsynced, so only provable torn tails are tails.
      const window = windowed ? undefined : 0;
      const run = replayAll(fs, jsonCodec, "point-in-time", 64, window);
      if (position < SEGMENT_HEADER_BYTES) {
        // Every header byte is covered by the header CRC (or is the magic). A single flip can't make the file
        // all zeros (the only header damage replay tolerates, for a newest segment), so it always throws.
        await expect(run).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
        return;
      }
      const { txs, outcome } = await run;
      const hit = records.find((r) => r.offset <= position && position < r.end);
      if (hit === undefined) throw new Error(`position ${position} is not inside a record of ${path}`);
      const sealed = isNewest ? sealLast : true;
      // A flip in the damaged record's length field that makes it claim more than the file holds reads as a record
      // torn short (the documented limit of the rule): only the window can tell, and here it says every byte synced.
      const lengthField = position < hit.offset + 4;
      const claimed = hit.offset + new DataView(bytes.buffer, bytes.byteOffset).getUint32(hit.offset, true);
      const claimsPastEnd = lengthField && claimed > bytes.byteLength && claimed - hit.offset <= 256 * 1024 * 1024;
      if (isNewest && !sealed && (windowed || hit === records.at(-1) || claimsPastEnd)) {
        // The last record of the newest, unsealed segment: indistinguishable from a crash mid-write, so reported
        // as a torn tail that drops exactly that record (nothing valid follows it). In a sealed segment the same
        // damage is corruption: its records were fsynced before the sealed header was written.
        expect(outcome.corruption).toBeNull();
        expect(outcome.tornTail).toMatchObject({ segmentPath: path, offset: hit.offset });
        expect(outcome.tornTail?.droppedBytes).toBe(bytes.byteLength - hit.offset); // the damaged record and all after it
      } else {
        // Never a tail: a valid record follows (same segment or a newer one).
        expect(outcome.tornTail).toBeNull();
        expect(outcome.corruption).toMatchObject({ segmentPath: path, offset: hit.offset });
        expect(outcome.corruption?.error.code).toBe("WAL_CORRUPT");
        expect(isWalError(outcome.corruption?.error)).toBe(true);
      }
      // What was replayed is exactly the transactions committed before the damaged record.
      expect(txs).toEqual(committed.filter((t) => t.commitLsn < hit.lsn));
    },
  );
});
