/**
 * Tier R: archive, crash, restore, compare. In process, on SimFS with `@lora/wal-archive`'s in-memory store, bounded
 * by count (cases × operations), never by a deadline.
 *
 * Each case (seeded): a log with a small `segmentTargetBytes` (many rotations) and a sync mode from the seed, an
 * archiver with a small `intervalMs` and a short retry backoff, and a seeded sequence of operations: `commitTx`
 * calls and bursts, `sync`, `checkpoint(safeCheckpointLsn())` (truncation, which the archiver's slot holds back),
 * store outages (`setDown`), injected `put` faults (refused, reset, applied-then-lost answers) and `archiver.flush()`
 * (after each successful flush, `status().archivedLsn` is the archived line, and it must cover what was fsynced when
 * the flush was called). At a seeded operation the writer crashes: a SimFS crash image (the durable state or a
 * seeded one between it and the volatile state) is taken and the archiver dies with the process. Then:
 *
 * 1. restoring the archive (newest) into a fresh SimFS and opening it with `Wal.open` gives a gapless prefix of the
 *    committed history (same transactions, same commit LSNs, in order) holding every commit at or below the
 *    archived line;
 * 2. restoring to `toLsn` = a seeded commit LSN at or below the archived line gives exactly the commits at or below it;
 * 3. the crash image is recovered with `Wal.open`, a new archiver is attached with the same store, a few more
 *    commits are made and flushed (store up, no faults), and a restore equals the recovered log's full history.
 *
 * The archiver is awaited with `flush()` once right after each start, before any truncation (a truncation before the
 * archiver's slot exists may delete unarchived segments: a known open issue the tier steps around).
 *
 * No real timer decides anything, so a seed does the same work on a loaded machine as on an idle one. Each case has
 * a {@link ManualClock} that the archivers (`withArchiverClock`: shipping interval, retry back-off and its jitter,
 * call time-out, slot-file throttle, lag) and the handles (the `clock` testing hook: the group flusher, the sync
 * rounds' durations that `blockingSync: "auto"` follows) run on. The tier moves it by count: a seeded 0-3 ms before
 * each operation, and 1 ms after each turn of a wait, which is a `setImmediate` turn (never a timer's). So the timer
 * paths run as they did on real time (interval passes, throttled slot writes, timer-woken retries, group rounds, and
 * call time-outs, which injected `timeout` faults make hang until abandoned), at points the seed decides.
 */

import { isWalError, type JsonValue, jsonCodec, readCommitted, Wal } from "@lora/wal";
import { type PlantedBug, withTestingHooks } from "@lora/wal/testing";
import { type Archiver, restore, startArchiver } from "@lora/wal-archive";
import {
  type ArchiverClock,
  ManualClock,
  type MemoryArchive,
  type MemoryFaultKind,
  memoryArchive,
  withArchiverClock,
} from "@lora/wal-archive/testing";
import { MAX_TIMER_MS } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { eventOf } from "./ack-log.js";
import { errorText, immediateTurn, within } from "./bounded-wait.js";
import { describeTx, sameTx, summarize, type TxSummary } from "./follow-history.js";
import { between, mix, type Rng, rng } from "./prng.js";
import { TierResult, type ViolationKind } from "./result.js";

/** What tier R finds wrong with a restored or recovered history. */
export interface HistoryFinding {
  readonly kind: ViolationKind;
  readonly message: string;
}

/** `got` must be exactly `expected` (same transactions, same LSNs, in order): the first difference, or null. */
export function sameHistory(
  got: readonly TxSummary[],
  expected: readonly TxSummary[],
  what: string,
): HistoryFinding | null {
  const n = Math.min(got.length, expected.length);
  for (let i = 0; i < n; i++) {
    const g = got[i] as TxSummary;
    const e = expected[i] as TxSummary;
    if (!sameTx(g, e)) {
      return {
        kind: g.c > e.c ? "hole" : "phantom",
        message: `${what}: transaction ${i} is ${describeTx(g)}, expected ${describeTx(e)}`,
      };
    }
  }
  if (got.length > expected.length)
    return {
      kind: "phantom",
      message: `${what}: ${got.length - n} transaction(s) too many, first ${describeTx(got[n] as TxSummary)}`,
    };
  if (got.length < expected.length)
    return {
      kind: "lost",
      message: `${what}: ${expected.length - n} transaction(s) missing, first ${describeTx(expected[n] as TxSummary)}`,
    };
  return null;
}

/**
 * Check (1): a restore of the newest archive is a prefix of the committed history (in commit order) that holds every
 * commit at or below the archived line.
 */
export function newestRestoreFindings(
  got: readonly TxSummary[],
  committed: readonly TxSummary[],
  archived: number,
): HistoryFinding[] {
  const out: HistoryFinding[] = [];
  const prefix = sameHistory(
    got,
    committed.slice(0, got.length),
    "the restored log is not a prefix of the committed history",
  );
  if (prefix !== null) out.push(prefix);
  const covered = committed.filter((t) => t.c <= archived).length;
  if (got.length < covered) {
    const short = sameHistory(
      got,
      committed.slice(0, covered),
      "the restored log misses commits at or below the archived line",
    );
    if (short !== null) out.push(short);
  }
  return out;
}

export interface TierROptions {
  readonly seed: number;
  /** Cases 0..cases-1, unless `caseList` names them. */
  readonly cases: number;
  /** Operations per case before the crash (a seeded count between half of it and it). */
  readonly ops: number;
  readonly caseList?: readonly number[];
  /** Planted bugs of the handle switched on in the writer's handles (planted-bugs.ts). */
  readonly bugs?: readonly PlantedBug[];
  /** Stop after the first case that reports a violation. */
  readonly stopOnFirst?: boolean;
  readonly onProgress?: (r: TierResult) => void;
  /**
   * Called after each step of a case (each operation, the crash, each check) with a line saying what it did and where
   * the log, the archive and the case's clock stand: two runs of one seed give the same lines on any machine.
   */
  readonly onStep?: (line: string) => void;
  /**
   * Called at each mutating operation on the writer's SimFS (a write, an fsync, a rename...), synchronously: a test
   * may hold the event loop there to make every sync round look slow.
   */
  readonly onFsOperation?: () => void;
  /**
   * Wraps the clock each case runs its archivers on (testing the tier itself: a wrapper that hands some timers to
   * Node's real ones must make two runs of a seed differ). @default the case's {@link ManualClock}
   */
  readonly archiverClock?: (clock: ManualClock) => ArchiverClock;
}

/** Default 6 cases of up to 40 operations; `--smoke` 4 of 30; `--long` 30 of 80. */
export function tierROptions(seed: number, smoke: boolean, long: boolean): TierROptions {
  return { seed, cases: long ? 30 : smoke ? 4 : 6, ops: long ? 80 : smoke ? 30 : 40 };
}

const MODES = ["perCommit", "group", "none"] as const;
type Mode = (typeof MODES)[number];
const DIR = "/w";
const RESTORED = "/restored";
/** Event-loop turns a bounded wait allows (a liveness watchdog counted in turns, never a deadline). */
const WAIT_TURNS = 20_000;
/** The case clock's milliseconds per turn of a wait. */
const MS_PER_TURN = 1;
/** Where a sync round's fdatasync runs, from the seed; "auto" follows the case clock's durations. */
const PLACEMENTS = [true, false, "auto"] as const;

export async function runTierR(o: TierROptions): Promise<TierResult> {
  const result = new TierResult("R");
  const start = Date.now();
  const list = o.caseList ?? Array.from({ length: o.cases }, (_, i) => i);
  for (const index of list) {
    await new ArchiveCase(o, index, result).run();
    result.cases++;
    o.onProgress?.(result);
    if (o.stopOnFirst === true && result.violations.length > 0) break;
  }
  for (const key of FIGURES) result.extra[key] ??= 0;
  result.extra.violations = result.violations.length;
  result.ms = Date.now() - start;
  return result;
}

const FIGURES = [
  "operations",
  "commits",
  "flushes",
  "flushesRefused",
  "outages",
  "putFaults",
  "checkpoints",
  "rotations",
  "segmentsRemoved",
  "crashImages",
  "restores",
  "restoredTransactionsChecked",
  "postCrashCommits",
  "emptyArchives",
  "clockMs",
  "timersFired",
  "callTimeouts",
  "slotWrites",
];

class ArchiveCase {
  readonly #o: TierROptions;
  readonly #index: number;
  readonly #r: TierResult;
  readonly #next: Rng;
  readonly #mode: Mode;
  readonly #target: number;
  readonly #blockingSync: (typeof PLACEMENTS)[number];
  /** The case's time: every archiver and handle of the case arms its timers on it (see the module comment). */
  readonly #clock: ManualClock;
  readonly #archiverClock: ArchiverClock;
  readonly #fs = new SimFS();
  readonly #store: MemoryArchive = memoryArchive();
  /** Every commit whose call resolved, in commit-LSN order once sorted. */
  readonly #committed: TxSummary[] = [];
  /** The highest `archivedLsn` seen after a successful flush. */
  #archived = 0;
  #fence = 0;
  #tx = 0;
  #step = "start";

  constructor(o: TierROptions, index: number, result: TierResult) {
    this.#o = o;
    this.#index = index;
    this.#r = result;
    this.#next = rng(mix(o.seed, 0x72, index));
    this.#mode = MODES[between(this.#next, 0, MODES.length - 1)] as Mode;
    this.#target = between(this.#next, 400, 1500);
    this.#blockingSync = PLACEMENTS[between(this.#next, 0, PLACEMENTS.length - 1)] as (typeof PLACEMENTS)[number];
    this.#clock = new ManualClock(mix(o.seed, 0x7c, index) >>> 0);
    this.#archiverClock = o.archiverClock?.(this.#clock) ?? this.#clock;
    this.#store.onCall((call) => {
      if (call.outcome === "fault" && call.error instanceof DOMException && call.error.name === "TimeoutError")
        this.#r.bump("callTimeouts");
    });
  }

  #violation(kind: ViolationKind, message: string): void {
    this.#r.add({
      tier: "R",
      kind,
      caseId: `r-${this.#index}`,
      message: `R case ${this.#index} (${this.#mode}, target ${this.#target} B) ${this.#step}: ${message}`,
      replay: `pnpm torture -- --tier R --seed ${this.#o.seed} --case ${this.#index}`,
    });
  }

  #archiver(wal: Wal<JsonValue>, fs: SimFS): Archiver {
    return startArchiver(
      wal,
      withArchiverClock(
        {
          store: this.#store,
          intervalMs: between(this.#next, 1, 8),
          retry: { initialMs: 1, maxMs: 4, failingAfter: 3 },
          callTimeoutMs: between(this.#next, 10, 60),
          fs,
        },
        this.#archiverClock,
      ),
    );
  }

  /** Let `ms` of the case's time pass: the timers due by then fire. */
  #advance(ms: number): void {
    this.#clock.advance(ms);
    this.#r.bump("clockMs", ms);
  }

  /** One turn of a wait: an immediate turn (what is ready runs), then MS_PER_TURN of the case's time. */
  async #turn(): Promise<void> {
    await immediateTurn();
    this.#advance(MS_PER_TURN);
  }

  /** Wait for `p` at most WAIT_TURNS turns (see #turn). */
  #within<T>(p: Promise<T>) {
    return within(p, WAIT_TURNS, () => this.#turn());
  }

  /** Open the case's log on `fs` (the writer's or a crash image), on the case's clock. */
  async #open(
    fs: SimFS,
    more: { syncMode?: "perCommit" | "none" | { mode: "group"; intervalMs: number }; checkpointLsn?: number },
  ) {
    return (
      await Wal.open<JsonValue>(
        DIR,
        withTestingHooks(
          { codec: jsonCodec, fs, blockingSync: this.#blockingSync, segmentTargetBytes: this.#target, ...more },
          { plantedBugs: this.#o.bugs ?? [], clock: this.#clock },
        ),
      )
    ).wal;
  }

  /** One step done: a line for `onStep` with what the log, the archive and the clock say now. */
  #stepDone(what: string, wal: Wal<JsonValue> | null, archiver: Archiver | null): void {
    if (this.#o.onStep === undefined) return;
    const a = archiver?.status();
    const calls = Object.entries(this.#store.calls)
      .map(([op, n]) => `${op}:${n}`)
      .join(",");
    this.#o.onStep(
      `r-${this.#index} (${this.#mode}, blockingSync ${this.#blockingSync}) ${this.#step} ${what}: clock ${this.#clock.now()} (${this.#clock.fired} fired), fsynced ${wal?.fsyncedLsn() ?? "-"} (${wal === null ? "-" : `${wal.ioStats().syncs} syncs, ${wal.ioStats().writes} writes`}), archived ${a?.archivedLsn ?? "-"} (${a?.state ?? "-"}, ${a?.uploadedPieces ?? "-"} pieces, ${a?.uploadedSegments ?? "-"} segments, ${a?.failures ?? "-"} failures, lag ${a?.lagMs ?? "-"}), line ${this.#archived}, store ${this.#store.keys().length} objects, calls ${calls}`,
    );
  }

  async run(): Promise<void> {
    let wal: Wal<JsonValue> | null = null;
    let archiver: Archiver | null = null;
    try {
      this.#fs.onOperation((e) => {
        if (e.op === "rename" && e.to?.endsWith(".slot") === true && !e.failed) this.#r.bump("slotWrites");
        this.#o.onFsOperation?.();
      });
      wal = await this.#open(this.#fs, {
        syncMode: this.#mode === "group" ? { mode: "group", intervalMs: 3 } : this.#mode,
      });
      wal.onLifecycle((e) => {
        if (e.type === "sealed") this.#r.bump("rotations");
        else if (e.type === "removed") this.#r.bump("segmentsRemoved", e.segments.length);
      });
      archiver = this.#archiver(wal, this.#fs);
      if (!(await this.#flush(wal, archiver, "the first flush after startArchiver"))) return;
      const total = between(this.#next, Math.ceil(this.#o.ops / 2), this.#o.ops);
      for (let i = 0; i < total; i++) {
        this.#step = `op ${i}`;
        // The time an operation takes: the archiver's and the flusher's timers due by then fire first.
        this.#advance(between(this.#next, 0, 3));
        const what = await this.#op(wal, archiver);
        this.#r.bump("operations");
        this.#stepDone(what, wal, archiver);
      }
      this.#step = "crash";
      // The crash: the image is taken and the archiver dies with the writer's process, before anything else runs.
      const { image, which } = this.#image();
      this.#stepDone(which, wal, archiver);
      const stopping = archiver.stop({ flush: false });
      archiver = null;
      if (!(await this.#within(stopping)).settled) this.#violation("error", "the archiver did not stop");
      wal.close().catch(() => undefined);
      wal = null;
      this.#committed.sort((a, b) => a.c - b.c);
      this.#store.setDown(false);
      this.#store.clearFaults();
      await this.#checkNewest();
      this.#stepDone("checked", null, null);
      await this.#checkToLsn();
      this.#stepDone("checked", null, null);
      await this.#checkAfterRecovery(image);
      this.#stepDone("checked", null, null);
    } catch (e) {
      this.#violation("error", `the harness failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    } finally {
      if (archiver !== null) await this.#within(archiver.stop({ flush: false }));
      if (wal !== null) wal.close().catch(() => undefined);
      this.#r.bump("timersFired", this.#clock.fired);
    }
  }

  #image(): { image: SimFS; which: string } {
    this.#r.bump("crashImages");
    this.#r.crashStates++;
    if (this.#next() < 0.4) return { image: this.#fs.durableImage(), which: "the durable image" };
    const images = [...this.#fs.crashImages({ maxImages: 6, seed: mix(this.#o.seed, 0x72, this.#index) })];
    const k = between(this.#next, 0, images.length - 1);
    const chosen = images[k] as { fs: SimFS; description: string };
    // Temporary files are named with random hex (slot and next-segment files): the same image, other names.
    const description = chosen.description.replace(/\.[0-9a-f]{12}\b/g, ".<random>");
    return { image: chosen.fs, which: `crash image ${k} of ${images.length}: ${description}` };
  }

  // ---- the workload ------------------------------------------------------------------------------------------

  async #commit(wal: Wal<JsonValue>): Promise<void> {
    const id = `r${this.#index}t${this.#tx++}`;
    const n = between(this.#next, 1, 3);
    const pad = this.#next() < 0.15 ? between(this.#next, 200, 500) : between(this.#next, 0, 60);
    const events = Array.from({ length: n }, (_, i) => eventOf(id, i, pad));
    const info = await wal.commitTx(events);
    if (info === null) throw new Error("commitTx resolved null for a non-empty transaction");
    this.#committed.push(summarize({ beginLsn: info.beginLsn, commitLsn: info.commitLsn, events }));
    this.#r.bump("commits");
  }

  /** One seeded operation; returns what it did (for `onStep`). */
  async #op(wal: Wal<JsonValue>, archiver: Archiver): Promise<string> {
    const roll = this.#next();
    if (roll < 0.3) {
      await this.#commit(wal);
      return "commit";
    }
    if (roll < 0.5) {
      const k = between(this.#next, 2, 6);
      await Promise.all(Array.from({ length: k }, () => this.#commit(wal)));
      return `${k} commits`;
    }
    if (roll < 0.56) {
      await wal.sync();
      return "sync";
    }
    if (roll < 0.66) {
      if (this.#mode === "none") await wal.sync();
      const fence = wal.safeCheckpointLsn();
      await wal.checkpoint(fence);
      if (fence > this.#fence) this.#fence = fence;
      this.#r.bump("checkpoints");
      return `checkpoint ${fence}`;
    }
    if (roll < 0.74) {
      this.#store.setDown(!this.#store.down);
      if (this.#store.down) this.#r.bump("outages");
      return this.#store.down ? "store down" : "store up";
    }
    if (roll < 0.82) {
      // A timeout fault hangs the put until the archiver abandons it (its call time-out, on the case's clock).
      const kinds: MemoryFaultKind[] = ["unavailable", "reset", "timeout"];
      const times = between(this.#next, 1, 3);
      const error = kinds[between(this.#next, 0, kinds.length - 1)] as MemoryFaultKind;
      const applied = this.#next() < 0.5;
      // Such a put hangs for as long as a timer can wait: only the archiver abandoning it (on the case's clock) ends
      // it, never the store's own real-time limit, which would let the machine's speed decide when it fails.
      this.#store.injectFault({ op: "put", times, error, applied, timeoutMs: MAX_TIMER_MS });
      this.#r.bump("putFaults");
      return `${times} put fault(s) ${error}${applied ? " applied" : ""}`;
    }
    if (roll < 0.95) {
      // Most flushes with the store up, so the archived line moves.
      if (this.#store.down && this.#next() < 0.6) this.#store.setDown(false);
      await this.#flush(wal, archiver, "a flush");
      return `flush (store ${this.#store.down ? "down" : "up"})`;
    }
    const turns = between(this.#next, 1, 20);
    for (let i = 0; i < turns; i++) await this.#turn();
    return `${turns} turns`;
  }

  /** Flush; on success the archived line must cover what was fsynced at the call. False when it did not settle. */
  async #flush(wal: Wal<JsonValue>, archiver: Archiver, what: string): Promise<boolean> {
    const fsynced = wal.fsyncedLsn();
    const down = this.#store.down;
    this.#r.bump("flushes");
    const r = await this.#within(archiver.flush());
    if (!r.settled) {
      this.#violation("error", `${what} did not settle in ${WAIT_TURNS} turns (store ${down ? "down" : "up"})`);
      return false;
    }
    if (r.error !== undefined) {
      if (isWalError(r.error) && r.error.code === "WAL_ARCHIVE_UNAVAILABLE") {
        this.#r.bump("flushesRefused");
        return true;
      }
      this.#violation("error", `${what} rejected with ${errorText(r.error)}`);
      return true;
    }
    const archived = archiver.status().archivedLsn;
    if (archived < fsynced)
      this.#violation(
        "lost",
        `${what} resolved with archivedLsn ${archived} below the fsynced LSN ${fsynced} at the call`,
      );
    if (archived > this.#archived) this.#archived = archived;
    return true;
  }

  // ---- the checks ----------------------------------------------------------------------------------------------

  /** Restore the archive (to `toLsn`) into a fresh SimFS, open it with `Wal.open`, and read its transactions. */
  async #restored(toLsn?: number): Promise<TxSummary[] | null> {
    const fs = new SimFS();
    this.#r.bump("restores");
    try {
      await restore({ store: this.#store, dir: RESTORED, fs, ...(toLsn === undefined ? {} : { toLsn }) });
    } catch (e) {
      this.#violation("unopenable", `restore${toLsn === undefined ? "" : ` to ${toLsn}`} failed: ${errorText(e)}`);
      return null;
    }
    try {
      const { wal } = await Wal.open<JsonValue>(RESTORED, { codec: jsonCodec, fs });
      await wal.close();
    } catch (e) {
      this.#violation("unopenable", `the restored log did not open: ${errorText(e)}`);
      return null;
    }
    const txs: TxSummary[] = [];
    for await (const tx of readCommitted(RESTORED, { codec: jsonCodec, fs, allowTruncatedHistory: true }))
      txs.push(summarize(tx));
    this.#r.bump("restoredTransactionsChecked", txs.length);
    return txs;
  }

  /** `got` must be exactly `expected` (same transactions, same LSNs, in order). */
  #same(got: readonly TxSummary[], expected: readonly TxSummary[], what: string): void {
    const f = sameHistory(got, expected, what);
    if (f !== null) this.#violation(f.kind, f.message);
  }

  /** (1) The newest restore is a gapless prefix of the committed history with every commit up to the archived line. */
  async #checkNewest(): Promise<void> {
    this.#step = `restore newest (archived line ${this.#archived})`;
    if (this.#store.keys().length === 0) {
      // Nothing reached the store (no record was fsynced and shipped before the crash): there is nothing to restore.
      const owed = this.#committed.filter((t) => t.c <= this.#archived);
      if (owed.length > 0)
        this.#violation("lost", `the archive is empty, but ${owed.length} commit(s) are at or below the archived line`);
      this.#r.bump("emptyArchives");
      return;
    }
    const got = await this.#restored();
    if (got === null) return;
    this.#r.ackedChecked += this.#committed.filter((t) => t.c <= this.#archived).length;
    for (const f of newestRestoreFindings(got, this.#committed, this.#archived)) this.#violation(f.kind, f.message);
  }

  /** (2) A restore to a commit LSN at or below the archived line holds exactly the commits up to it. */
  async #checkToLsn(): Promise<void> {
    const candidates = this.#committed.filter((t) => t.c <= this.#archived);
    if (candidates.length === 0) return;
    const toLsn = (candidates[between(this.#next, 0, candidates.length - 1)] as TxSummary).c;
    this.#step = `restore to ${toLsn} (archived line ${this.#archived})`;
    const got = await this.#restored(toLsn);
    if (got === null) return;
    this.#same(
      got,
      this.#committed.filter((t) => t.c <= toLsn),
      `the restore to ${toLsn}`,
    );
  }

  /** (3) Recover the crash image, archive it again with a new archiver, and restore: the recovered log's history. */
  async #checkAfterRecovery(image: SimFS): Promise<void> {
    this.#step = "recovery";
    let wal: Wal<JsonValue>;
    try {
      wal = await this.#open(image, { checkpointLsn: this.#fence });
    } catch (e) {
      this.#violation("unopenable", `the crash image did not open at fence ${this.#fence}: ${errorText(e)}`);
      return;
    }
    let archiver: Archiver | null = null;
    try {
      const top = wal.nextLsn() - 1;
      const recoveredCommitted = this.#committed.filter((t) => t.c <= top);
      const onDisk: TxSummary[] = [];
      for await (const tx of readCommitted(DIR, { codec: jsonCodec, fs: image, allowTruncatedHistory: true }))
        onDisk.push(summarize(tx));
      // What the recovered log holds must be the committed history's tail up to its top (a crash takes back a suffix).
      this.#same(onDisk, recoveredCommitted.slice(recoveredCommitted.length - onDisk.length), "the recovered log");
      archiver = this.#archiver(wal, image);
      this.#step = "after recovery";
      if (!(await this.#flush(wal, archiver, "the first flush of the new archiver"))) return;
      const expected = [...recoveredCommitted];
      const before = this.#committed.length;
      for (let i = between(this.#next, 0, 4); i > 0; i--) await this.#commit(wal);
      this.#r.bump("postCrashCommits", this.#committed.length - before);
      expected.push(...this.#committed.slice(before));
      await wal.sync();
      if (!(await this.#flush(wal, archiver, "the flush after recovery"))) return;
      this.#step = "restore after recovery";
      const got = await this.#restored();
      if (got !== null) this.#same(got, expected, "the restore after recovery");
    } finally {
      if (archiver !== null) await this.#within(archiver.stop());
      await wal.close().catch(() => undefined);
    }
  }
}
