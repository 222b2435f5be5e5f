/**
 * Continuous archiving of a live log: every sealed segment is uploaded whole in the background, and the active
 * segment's durable prefix is shipped as pieces every `intervalMs` (the recovery point objective). Built on the
 * handle's segment lifecycle (`wal.onLifecycle`): the writer only hands over events and never waits on the store.
 *
 * What the archive holds at any moment: every segment sealed before the newest archived one, whole, and a prefix of
 * the active segment ending at a record boundary at or below an LSN that was fsynced. A replication slot (default
 * `archive`) keeps truncation from deleting a segment before it is archived; its file is written at most once per
 * `intervalMs` (and on flush and stop), an in-process hold covers the rest at once.
 */

import {
  checkOptionNames,
  isWalError,
  MAX_TIMER_MS,
  optionNames,
  optionOr,
  readCallerValue,
  shownError,
  shownValue,
  WalError,
} from "@lora/wal-codec";
import { createSlot, isSlotName, lookAgainAtNewest, readSlot } from "@lora/wal-replay";
import {
  checkFileSystemArgument,
  fileSystemOption,
  isMissingFileError,
  listSegments,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  SegmentReader,
  type WalFileSystem,
} from "@lora/wal-segment";
import { type ArchiveKey, archiveKey, parseArchiveKey, pieceKeyPrefix } from "./archive-keys.js";
import { ArchiveSlot } from "./archive-slot.js";
import { type ArchiveStore, checkArchiveStore } from "./archive-store.js";
import { type ArchiverClock, clockOf } from "./archiver-clock.js";
import { crc32InSlices } from "./crc32-in-slices.js";
import { DurableTimes } from "./durable-times.js";
import { holdsPiece } from "./holds-piece.js";
import { sameBytes } from "./same-bytes.js";
import { checkSameStorage } from "./same-storage.js";
import { storeIoError } from "./store-io-error.js";
import { pieceCrcIn } from "./verify-archive.js";

/** A segment as the handle's lifecycle reports it. */
export interface ArchivedSegmentInfo {
  readonly id: number;
  readonly path: string;
  readonly baseLsn: number;
  readonly bytes: number;
}

/** The lifecycle events the archiver listens to (the handle's `LifecycleEvent`). */
export type WalLifecycleEvent =
  | { readonly type: "sealed"; readonly segment: ArchivedSegmentInfo }
  | { readonly type: "created"; readonly segment: ArchivedSegmentInfo }
  | { readonly type: "durable"; readonly lsn: number; readonly segmentId?: number; readonly offset?: number }
  | { readonly type: "removed"; readonly segments: readonly ArchivedSegmentInfo[] }
  | { readonly type: "slotInvalidated"; readonly slot: string; readonly retainedBytes: number }
  | { readonly type: "closed" };

/** What the archiver needs of a `Wal` handle (the handle itself fits). */
export interface ArchivableWal {
  dir(): string;
  fsyncedLsn(): number;
  onLifecycle(listener: (event: WalLifecycleEvent) => void): () => void;
  /** An in-process hold on truncation (the handle's `retain`), effective before the slot file exists. */
  retain?(name: string, position: () => number): () => void;
  /**
   * The file-system seam the handle writes through (the handle's `fs()`): the archiver reads the segments and writes
   * its slot through it unless {@link ArchiverOptions.fs} is given. Without it, Node's file system.
   */
  fs?(): WalFileSystem;
}

/**
 * Options of {@link startArchiver}. Every one is checked before the archiver starts: a bad one is refused with
 * `WAL_INVALID_OPTION` and nothing is started, held or written. Milliseconds run from the minimum given to 2^31 - 1
 * (the longest delay Node's timers keep); only `callTimeoutMs` must be an integer (`AbortSignal.timeout`'s rule).
 */
export interface ArchiverOptions {
  /** Where the archive lives: an object with `put`, `get`, `list` and `delete` functions. */
  readonly store: ArchiveStore;
  /**
   * How often the active segment's durable prefix is shipped: the recovery point objective. A number from 1 to
   * 2^31 - 1. @default 1000
   */
  readonly intervalMs?: number;
  /**
   * The replication slot that keeps unarchived segments from truncation (created when missing): a slot name, 1 to 64
   * ASCII letters, digits, `_` or `-`. One archiver per slot: a second archiver on the same handle (another store)
   * needs a slot of its own. @default "archive"
   */
  readonly slot?: string;
  /**
   * Backoff after a failed store call (an object): first wait and cap (`initialMs`, `maxMs`, numbers from 0 to
   * 2^31 - 1; defaults 100 and 30000), and failures in a row before the state is `failing` (`failingAfter`, an
   * integer from 1; default 5).
   */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number; readonly failingAfter?: number };
  /** A store call taking longer than this is abandoned (and retried). An integer from 1 to 2^31 - 1. @default 30000 */
  readonly callTimeoutMs?: number;
  /**
   * Called whenever the state changes (`running`, `retrying`, `failing`, `stopped`), and whenever
   * `status().slotProblem` does. A function when given.
   */
  readonly onStateChange?: (status: ArchiverStatus) => void;
  /**
   * The file-system seam the archiver reads the segments and writes its slot through. It must reach the files the
   * handle writes (the handle's own seam, or a wrapper over it). Before it writes anything through it, the archiver
   * checks that the handle's newest segment is there and, when both seams report file identities, is the same file:
   * otherwise it is `failing` (`WAL_ARCHIVE_UNAVAILABLE`, its cause `WAL_INVALID_OPTION`) and archives nothing. A seam
   * that reports no identity and holds a file at that path cannot be told apart: the archiver would archive whatever
   * log it holds. @default the handle's (`wal.fs()`), else Node's
   */
  readonly fs?: WalFileSystem;
}

/** Every option `archiver.stop` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const STOP_OPTION_NAMES = optionNames<NonNullable<Parameters<Archiver["stop"]>[0]>>()("flush");
/** Every option `startArchiver` reads, in `retry` and at the top; any other name is refused (`WAL_INVALID_OPTION`). */
const RETRY_OPTION_NAMES = optionNames<NonNullable<ArchiverOptions["retry"]>>()("initialMs", "maxMs", "failingAfter");
const ARCHIVER_OPTION_NAMES = optionNames<ArchiverOptions>()(
  "store",
  "intervalMs",
  "slot",
  "retry",
  "callTimeoutMs",
  "onStateChange",
  "fs",
);

/** What {@link Archiver.status} reports. */
export interface ArchiverStatus {
  /**
   * `running`: keeping up; `retrying`: a store call failed and is being retried; `failing`: `failingAfter` calls
   * failed in a row, the archive is falling behind (`lastError` is `WAL_ARCHIVE_UNAVAILABLE`); `stopped`.
   */
  readonly state: "running" | "retrying" | "failing" | "stopped";
  /** Every record at or below this LSN is in the store. */
  readonly archivedLsn: number;
  /** The newest fsynced LSN the archiver knows of. */
  readonly durableLsn: number;
  /** Milliseconds since the oldest durable-but-unarchived LSN became durable (0 when caught up): the current RPO. */
  readonly lagMs: number;
  /** Sealed segments waiting for upload. */
  readonly pendingSegments: number;
  readonly uploadedSegments: number;
  readonly uploadedPieces: number;
  readonly uploadedBytes: number;
  /** Store calls that failed (and were retried). */
  readonly failures: number;
  /**
   * Sealed segments that were gone from the directory before they could be archived (the archiver's slot was
   * invalidated by `maxSlotRetainedBytes`): the archive has a gap there, a restore through it is refused
   * (`WAL_ARCHIVE_MISSING`), and `lastError` says which. Archiving goes on after the gap.
   */
  readonly skippedSegments: number;
  /**
   * Why the archiver's replication slot does not keep what the archive lacks from truncation by another process or
   * after a restart, as the archiver last found it (it looks once per `intervalMs`, and at each write of the slot):
   * `WAL_SLOT_MOVED` when another consumer moved the slot past the archiver's position (`details.lsn`, where it is),
   * `WAL_SLOT_INVALIDATED` when it was invalidated; `null` when the slot is where the archiver put it. Archiving goes
   * on either way (this process's own hold on truncation is not affected by a moved slot); a problem found is also
   * `lastError`. Dropping the slot ends it: the archiver creates it again at its position.
   */
  readonly slotProblem: WalError | null;
  readonly lastError: WalError | null;
}

/** A running archiver. */
export interface Archiver {
  status(): ArchiverStatus;
  /**
   * Resolves once everything fsynced when it was called is in the store and the slot file says so (truncation may
   * then free what was archived; a slot write that fails does not fail the flush: truncation keeps more until a
   * later one succeeds). Rejects with `WAL_ARCHIVE_UNAVAILABLE` when the archiver turns `failing` first
   * (it keeps retrying in the background). A store call sleeping out its back-off after failures is retried at once,
   * and one running when the flush comes is retried at once if it fails (once per flush: if that retry fails, the
   * back-off goes on from where it was, so flushing in a loop calls a store that is down once per flush). When
   * `failing`, the failure of the first store call that starts after the flush rejects it, whatever flushes come
   * meanwhile.
   */
  flush(): Promise<void>;
  /**
   * Stop: ship what is durable (unless `flush: false`; this flush, like {@link Archiver.flush}, retries a store call
   * sleeping out its back-off at once, also when the state is `failing`), write the slot's final position,
   * unsubscribe, settle. When that flush fails (`WAL_ARCHIVE_UNAVAILABLE`: the store is still down, or a local
   * failure such as an unreadable segment happened again), the archiver stops all the same and the promise rejects
   * with that error. An archiver that found another history in the store (`WAL_ARCHIVE_DIVERGED`, in `status()`)
   * ships nothing more, so its stop does not flush and resolves. `flush: false` ends a back-off without calling the
   * store again. Idempotent. Options that are not an object, name an option it does not know, or a `flush` that is
   * not a boolean are refused with `WAL_INVALID_OPTION`, and the archiver keeps running.
   */
  stop(options?: { readonly flush?: boolean }): Promise<void>;
}

interface Active {
  id: number;
  path: string;
  baseLsn: number;
  /** Bytes [0, shippedTo) are in the store as pieces (0: nothing yet). */
  shippedTo: number;
  /** The LSN of the last record shipped (baseLsn - 1 when none). */
  shippedLsn: number;
}

/** A piece in the store, as its key names it. */
type StoredPiece = Extract<ArchiveKey, { kind: "piece" }> & { readonly key: string };

interface Pending {
  readonly id: number;
  readonly path: string;
  readonly baseLsn: number;
}

/**
 * Attach continuous archiving to a live handle. Catches up first (sealed segments not yet in the store, then the
 * active segment's durable prefix), then follows the lifecycle. Never throws into the writer: failures are retried
 * with exponential backoff and reported through {@link Archiver.status} and `onStateChange`.
 * @throws {@link WalError} `WAL_INVALID_OPTION` at once, before anything is started, held or written, for bad
 *   options: `store` not an {@link ArchiveStore}; `slot` not a slot name; `intervalMs`, `retry.initialMs` or
 *   `retry.maxMs` not a number in range, `callTimeoutMs` not an integer in range (see {@link ArchiverOptions}); `retry` not an object;
 *   `retry.failingAfter` not an integer from 1; `onStateChange` not a function; a `slot` that an archiver started on the
 *   same handle still uses (until its `stop` settles). `WAL_INVALID_ARGUMENT` for a `wal`
 *   that is not a handle or whose `fs()` throws or is not a file-system seam, and the handle's `WAL_CLOSED` for one that is closed (nothing is started then either).
 */
export function startArchiver(wal: ArchivableWal, options: ArchiverOptions): Archiver {
  return new ArchiverRun(wal, options);
}

class ArchiverRun implements Archiver {
  readonly #wal: ArchivableWal;
  readonly #store: ArchiveStore;
  readonly #fs: WalFileSystem;
  /** The handle's own seam (`wal.fs()`), which {@link ArchiverOptions.fs} must reach the files of. */
  readonly #handleFs: WalFileSystem;
  readonly #dir: string;
  readonly #slot: string;
  readonly #slotWriter: ArchiveSlot;
  readonly #interval: number;
  readonly #initialBackoff: number;
  readonly #maxBackoff: number;
  readonly #failingAfter: number;
  readonly #callTimeout: number;
  readonly #onStateChange: ((s: ArchiverStatus) => void) | undefined;
  readonly #stop = new AbortController();
  readonly #unsubscribe: () => void;
  /** Node's timers and clocks, or the one a test gave (`withArchiverClock`, see archiver-clock.ts). */
  readonly #clock: ArchiverClock;
  /** Cancels the shipping interval. */
  readonly #cancelInterval: () => void;
  readonly #ready: Promise<void>;

  #state: ArchiverStatus["state"] = "running";
  #pending: Pending[] = [];
  /**
   * The highest id of a sealed segment this run has dealt with (uploaded, or found removed): sealed segments go in
   * id order, so a seal reported again (catch-up can read a segment sealed by a rotation whose event comes after
   * the pass) is not uploaded twice.
   */
  #sealedDoneThrough = 0;
  #active: Active | undefined;
  /**
   * The keys of the pieces this run put, by segment id, until that segment's sealed upload: those it deletes then
   * without fetching them to compare (see `#piecesOf`).
   */
  readonly #shippedPieces = new Map<number, Set<string>>();
  #durable: number;
  /** When each durable LSN became durable, for the lag. */
  readonly #durableTimes = new DurableTimes();
  /**
   * The newest durable prefix of a segment the handle reported by its size (`durable` events with an offset): the
   * active segment's piece can be cut there without reading its records to find a boundary.
   */
  #durablePrefix: { segmentId: number; offset: number; lsn: number } | undefined;
  #archivedLsn = 0;
  #uploadedSegments = 0;
  #uploadedPieces = 0;
  #uploadedBytes = 0;
  #failures = 0;
  #failuresInRow = 0;
  #skipped = 0;
  #caughtUp = false;
  /** The LSN truncation must keep records above (the in-process hold and the slot). */
  #holdLsn = 0;
  readonly #releaseHold: () => void;
  #lastError: WalError | null = null;
  /** The slot problem last reported through `onStateChange` and `lastError`. */
  #reportedSlotProblem: WalError | null = null;
  /** The look at the slot file running, if any (one at a time: the interval does not queue them up). */
  #slotLook: Promise<void> | undefined;
  /** Another history found in the store: the archiver stays failing with it and calls the store no more. */
  #diverged: WalError | undefined;
  #work: Promise<void> = Promise.resolve();
  #workQueued = false;
  /**
   * The active segment's durable prefix is due to be shipped (the timer, `flush`, `stop`, close and attach set it).
   * A pass started by a seal uploads the sealed segment only: the few records the next segment holds by then wait for
   * the timer, which ships within `intervalMs` all the same, instead of costing a store call (and its fsyncs, for a
   * directory store) per rotation.
   */
  #shipDue = true;
  /** When the slot file was last written (the clock's `now()`); it is written at most once per `intervalMs`. */
  #slotWrittenAt = Number.NEGATIVE_INFINITY;
  /**
   * `call`: the store calls started when the flush was made. A failure answers it only from a call started after
   * that (a later number): one running when it came was asked for before it.
   */
  #flushWaiters: { lsn: number; call: number; resolve(): void; reject(e: unknown): void }[] = [];
  /** Store calls started so far (each attempt counts). */
  #callsStarted = 0;
  /**
   * Ends the back-off a failed store call is sleeping out, so that it is retried at once (set only while one sleeps):
   * an explicit flush (and so a stop that flushes) asks for an attempt now, not after up to `retry.maxMs`.
   */
  #retryNow: (() => void) | undefined;
  /** A store call is running now (not sleeping out a back-off): a flush then asks for its retry through the flag. */
  #callInFlight = false;
  /**
   * A flush came while a store call was running: if that call fails, it is retried at once instead of after a
   * back-off (once, however many flushes came meanwhile). The waiters made before the call began get that
   * failure as their answer all the same, when it is one (`failing`); only the flushes made during it wait on.
   */
  #retryAsked = false;
  #stopped: Promise<void> | undefined;

  constructor(wal: ArchivableWal, given: ArchiverOptions) {
    checkWal(wal);
    const checked = checkOptions(given);
    // Each option read once: from here on only what the check read is used.
    const o = checked.read;
    this.#wal = wal;
    this.#store = o.store;
    // The handle's own seam unless one is given: a handle opened over SimFS (or any seam of the embedder's) must not
    // be archived from Node's file system, which holds another log at its path, or none.
    this.#fs = checked.fs ?? fileSystemOf(wal);
    // An fs of its own is checked against the handle's at catch-up, before anything is written through it.
    this.#handleFs = checked.fs === undefined || wal.fs === undefined ? this.#fs : fileSystemOf(wal);
    this.#dir = wal.dir();
    this.#slot = checked.slot;
    this.#slotWriter = new ArchiveSlot(this.#dir, this.#slot, this.#fs);
    this.#interval = checked.intervalMs;
    this.#initialBackoff = checked.initialMs;
    this.#maxBackoff = checked.maxMs;
    this.#failingAfter = checked.failingAfter;
    this.#callTimeout = checked.callTimeoutMs;
    this.#onStateChange = o.onStateChange;
    this.#clock = checked.clock;
    this.#durable = wal.fsyncedLsn();
    // What is durable at attach counts from now for the lag: it is not archived until the first pass says so.
    if (this.#durable > 0) this.#durableTimes.add(this.#durable, this.#clock.wallNow());
    // Two archivers on one slot would share its file and its in-process hold (the second's replaces the first's),
    // so truncation could follow the one that is ahead and delete what the other has not archived.
    const running = slotsInUse.get(wal) ?? new Set<string>();
    if (running.has(this.#slot)) {
      throw new WalError(
        "WAL_INVALID_OPTION",
        `startArchiver: an archiver with slot "${this.#slot}" is already running on this handle (one archiver per slot): stop it first, or pass a different \`slot\` for another store`,
      );
    }
    // Held back at once, in memory: the slot file is written by the first pass, and a truncation in between must
    // not delete a segment the archive lacks.
    this.#releaseHold = wal.retain?.(`archiver-${this.#slot}`, () => this.#holdLsn) ?? (() => undefined);
    this.#unsubscribe = wal.onLifecycle((event) => this.#onEvent(event));
    running.add(this.#slot);
    slotsInUse.set(wal, running);
    this.#cancelInterval = this.#clock.interval(() => {
      this.#scheduleShipping();
      this.#lookAtSlot();
    }, this.#interval);
    this.#ready = this.#enqueue(() => this.#pass());
    this.#ready.catch((error: unknown) => this.#localFailure(error));
  }

  status(): ArchiverStatus {
    const since = this.#durableTimes.oldestAbove(this.#archivedLsn);
    return {
      state: this.#state,
      archivedLsn: this.#archivedLsn,
      durableLsn: this.#durable,
      lagMs: since === undefined ? 0 : this.#clock.wallNow() - since,
      pendingSegments: this.#pending.length,
      uploadedSegments: this.#uploadedSegments,
      uploadedPieces: this.#uploadedPieces,
      uploadedBytes: this.#uploadedBytes,
      failures: this.#failures,
      skippedSegments: this.#skipped,
      slotProblem: this.#slotWriter.problem,
      lastError: this.#lastError,
    };
  }

  flush(): Promise<void> {
    if (this.#state === "stopped") return Promise.reject(stoppedError());
    const lsn = this.#durable;
    // Everything archived is not enough: the slot file may lag behind it (it is written once per interval).
    if (this.#caughtUp && this.#archivedLsn >= lsn && this.#slotWriter.written >= this.#holdLsn) {
      return Promise.resolve();
    }
    const call = this.#callsStarted;
    const p = new Promise<void>((resolve, reject) => this.#flushWaiters.push({ lsn, call, resolve, reject }));
    this.#scheduleShipping();
    // One retry per flush: a retry that fails sleeps its next back-off (its attempt count kept) until another flush.
    // A call running now is retried at once if it fails: the flush came after it started.
    if (this.#retryNow !== undefined) this.#retryNow();
    else if (this.#callInFlight) this.#retryAsked = true;
    return p;
  }

  stop(given: { readonly flush?: boolean } = {}): Promise<void> {
    let options: { readonly flush?: boolean };
    try {
      options = checkOptionNames(given, STOP_OPTION_NAMES, "archiver.stop");
      // Taken as a condition it would not be refused: "false" from a config file flushed, 0 skipped the flush.
      if (options.flush !== undefined && typeof options.flush !== "boolean") {
        throw new WalError(
          "WAL_INVALID_OPTION",
          `archiver.stop: flush must be a boolean, got ${shownValue(options.flush)}`,
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.#stopped ??= this.#doStop(optionOr(options.flush, true));
    return this.#stopped;
  }

  async #doStop(flush: boolean): Promise<void> {
    try {
      await this.#settleStop(flush);
    } finally {
      // Only once this run is over: a new archiver on the slot takes the hold and moves the file from here on.
      slotsInUse.get(this.#wal)?.delete(this.#slot);
    }
  }

  async #settleStop(flush: boolean): Promise<void> {
    this.#cancelInterval();
    this.#unsubscribe();
    this.#releaseHold();
    let failure: unknown;
    // Also when `failing`: the flush retries the store once, at once (a back-off does not delay it), so a store that
    // is back gets what is durable, and one still down makes stop() reject with WAL_ARCHIVE_UNAVAILABLE after
    // stopping, rather than resolve as if the archive held everything. Not after a divergence: nothing is shipped
    // until the caller resolves it, so there is nothing to try (status() says it).
    if (flush && this.#diverged === undefined) {
      try {
        await this.flush();
      } catch (error) {
        failure = error;
      }
    }
    this.#stop.abort();
    await this.#work.catch(() => undefined);
    // A look may create the slot again: never after stop has settled.
    await this.#slotLook;
    // The slot's final position: the file may lag behind what the passes archived (written once per intervalMs).
    if (this.#caughtUp) await this.#writeSlotFile(true);
    this.#setState("stopped");
    for (const w of this.#flushWaiters.splice(0)) w.reject(stoppedError());
    // A flush that failed only because the pass running when stop came found the divergence: as with one found
    // before, nothing more is shipped, so stop resolves (status() says why).
    if (failure !== undefined && failure !== this.#diverged) throw failure;
  }

  // ---- events -----------------------------------------------------------------------------------------------

  #onEvent(event: WalLifecycleEvent): void {
    switch (event.type) {
      case "durable":
        if (event.lsn > this.#durable) {
          this.#durable = event.lsn;
          this.#durableTimes.add(event.lsn, this.#clock.wallNow());
        }
        if (event.offset !== undefined && event.segmentId !== undefined) {
          this.#durablePrefix = { segmentId: event.segmentId, offset: event.offset, lsn: event.lsn };
        }
        return;
      case "sealed":
        this.#pending.push({ id: event.segment.id, path: event.segment.path, baseLsn: event.segment.baseLsn });
        this.#schedule();
        return;
      case "created":
        this.#active = {
          id: event.segment.id,
          path: event.segment.path,
          baseLsn: event.segment.baseLsn,
          shippedTo: 0,
          shippedLsn: event.segment.baseLsn - 1,
        };
        return;
      case "closed":
        this.#durable = Math.max(this.#durable, this.#wal.fsyncedLsn());
        this.#scheduleShipping();
        return;
      case "slotInvalidated":
        // The slot file, or the in-process hold, which the handle drops with it.
        if (event.slot === this.#slot || event.slot === `archiver-${this.#slot}`) {
          this.#slotWriter.invalidated(event.retainedBytes);
          this.#reportSlotProblem();
        }
        return;
      default:
        return;
    }
  }

  /** Run one pass soon that also ships the active segment's durable prefix. */
  #scheduleShipping(): void {
    this.#shipDue = true;
    this.#schedule();
  }

  /** Run one pass of work soon (coalesced: at most one queued behind the running one). */
  #schedule(): void {
    if (this.#workQueued || this.#stop.signal.aborted) return;
    this.#workQueued = true;
    void this.#enqueue(async () => {
      this.#workQueued = false;
      await this.#pass();
    }).catch((error: unknown) => this.#localFailure(error));
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#work.then(step, step);
    this.#work = run.catch(() => undefined);
    return run;
  }

  // ---- the work ---------------------------------------------------------------------------------------------

  /** What the store and the directory hold at attach: queue every sealed segment not archived, resume the active. */
  async #catchUp(): Promise<void> {
    await checkSameStorage(this.#fs, this.#handleFs, this.#dir);
    await this.#ensureSlot();
    const stored = await this.#call("list", (signal) => this.#store.list("", { signal }));
    const sealedInStore = new Map<number, { key: string; baseLsn: number; size: number }>();
    const piecesInStore = new Map<number, StoredPiece[]>();
    const local = await listSegments(this.#fs, this.#dir);
    const newest = local[local.length - 1];
    for (const o of stored) {
      const k = parseArchiveKey(o.key);
      if (k === null) continue;
      // Truncation removes the oldest segments, never the newest: an archived segment beyond this log's newest one
      // was written by another history.
      if (newest !== undefined && k.id > newest.id) {
        throw diverged(o.key, `it holds segment ${k.id}, beyond this log's newest segment ${newest.id}`);
      }
      if (k.kind === "segment") sealedInStore.set(k.id, { key: o.key, baseLsn: k.baseLsn, size: k.size });
      else {
        const pieces = piecesInStore.get(k.id);
        if (pieces === undefined) piecesInStore.set(k.id, [{ key: o.key, ...k }]);
        else pieces.push({ key: o.key, ...k });
      }
    }
    this.#reportGapBefore(local[0]?.id, sealedInStore, piecesInStore);
    let newestArchived: { path: string; key: string } | undefined;
    for (const entry of local) {
      const archived = sealedInStore.get(entry.id);
      if (archived === undefined) continue;
      newestArchived = { path: entry.path, key: archived.key };
      const header = await readHeader(this.#fs, entry.path);
      const size = (await this.#fs.stat(entry.path))?.size;
      if (!header.sealed || header.baseLsn !== archived.baseLsn || size !== archived.size) {
        throw diverged(
          archived.key,
          `it holds segment ${entry.id} sealed with base lsn ${archived.baseLsn} and ${archived.size} bytes, where this log's ${entry.path} is ${header.sealed ? "sealed" : "active"} with base lsn ${header.baseLsn} and ${size} bytes`,
        );
      }
    }
    // Size and base LSN can agree where the bytes do not (records of the same sizes, other payloads). Only the
    // newest segment the store holds whole is compared, not each: fetching every archived segment the directory
    // keeps would cost a download of everything retained at each attach. It is enough for the way a second history
    // comes about, a restore to an earlier point and writing on: the segments before the one cut are the store's
    // own bytes (restore wrote them from it), and from the cut on the log holds its own records, so the newest one
    // the store also holds differs unless the cut lies after it (where both agree). What this misses is a log that
    // wrote back the store's records exactly, same LSNs and payloads, through to the end of that segment.
    if (newestArchived !== undefined) await this.#checkSealedBytes(newestArchived);
    // The pieces of every local segment, not only the newest's: a log restored into a segment that the store holds
    // as pieces, which has rotated since, would otherwise upload its own sealed version of that segment (and then
    // delete the other history's pieces of it).
    for (const entry of local) {
      const pieces = piecesInStore.get(entry.id);
      if (pieces === undefined) continue;
      const header =
        entry === newest ? await this.#readNewestHeader(entry.path) : await readHeader(this.#fs, entry.path);
      await this.#checkPieces(entry.path, header, pieces);
    }
    const queued = new Set(this.#pending.map((p) => p.id));
    const catchUp: Pending[] = [];
    for (const entry of local) {
      if (entry === newest || sealedInStore.has(entry.id) || queued.has(entry.id)) continue;
      const header = await readHeader(this.#fs, entry.path);
      if (header.sealed) catchUp.push({ id: entry.id, path: entry.path, baseLsn: header.baseLsn });
    }
    this.#pending = [...catchUp, ...this.#pending].sort((a, b) => a.id - b.id);
    // No header: a rotation is creating the newest segment right now, and its "created" event makes it the active.
    const header =
      this.#active === undefined && newest !== undefined ? await this.#readNewestHeader(newest.path) : null;
    if (header !== null && newest !== undefined) {
      if (header.sealed) {
        if (!sealedInStore.has(newest.id) && !queued.has(newest.id)) {
          this.#pending.push({ id: newest.id, path: newest.path, baseLsn: header.baseLsn });
        }
      } else {
        // Checked above: every piece of it holds this file's bytes.
        const from = Math.max(0, ...(piecesInStore.get(newest.id) ?? []).map((p) => p.to));
        this.#active = {
          id: newest.id,
          path: newest.path,
          baseLsn: header.baseLsn,
          shippedTo: from,
          shippedLsn: from === 0 ? header.baseLsn - 1 : await lastLsnBefore(this.#fs, newest.path, from),
        };
      }
    }
    await this.#recomputeArchived();
  }

  /**
   * A sealed segment in the store must hold this file's bytes. Compared byte for byte, fetched: the CRC-32 its key
   * names cannot tell two histories apart, since every record (and the header) ends with the CRC-32 of the bytes
   * before it, which makes the CRC-32 of a whole segment depend on its record sizes only.
   */
  async #checkSealedBytes(archived: { path: string; key: string }): Promise<void> {
    const stored = await this.#fetchListed(archived.key);
    if (!sameBytes(stored, await readWhole(this.#fs, archived.path))) {
      throw diverged(archived.key, `it holds ${archived.path} with the same size and base lsn but other bytes`);
    }
  }

  /**
   * Every piece the store holds of a local segment must hold this file's bytes, the header's sealed flag aside (see
   * `holdsPiece`): a log restored to an earlier point (or another log) has other bytes there, and pieces
   * shipped after them, or the segment sealed from them, would not join up with the store's.
   */
  async #checkPieces(path: string, header: SegmentHeader | null, pieces: StoredPiece[]): Promise<void> {
    pieces.sort((a, b) => a.from - b.from || a.to - b.to);
    const last = pieces.reduce((a, b) => (b.to > a.to ? b : a));
    if (header === null) throw diverged(last.key, `it holds pieces of ${path}, which has no header yet`);
    for (const piece of pieces) {
      if (piece.baseLsn !== header.baseLsn) {
        throw diverged(
          piece.key,
          `its pieces of ${path} name base lsn ${piece.baseLsn}, the file says ${header.baseLsn}`,
        );
      }
    }
    const size = (await this.#fs.stat(path))?.size ?? 0;
    if (size < last.to) {
      throw diverged(last.key, `its pieces of ${path} hold bytes up to ${last.to}, the file has ${size}`);
    }
    // One read for all of them: they hold consecutive ranges of one segment, so this is at most the segment.
    const bytes = await readRange(this.#fs, path, 0, last.to);
    for (const piece of pieces) {
      if ((await pieceCrcIn(bytes, header.sealed, piece)) !== piece.crc32 >>> 0) {
        throw diverged(piece.key, `its piece of ${path} (bytes ${piece.from} to ${piece.to}) does not match the file`);
      }
    }
    // The CRC-32s tell other record sizes apart, not other records of the same sizes (every record ends with its own
    // CRC-32), so the last piece is fetched and compared byte for byte. That one is enough: a log restored to a point
    // inside this segment holds the store's bytes up to the point and its own after it, and the last piece ends past
    // the point unless the restore was to the newest one (where the two agree).
    const stored = await this.#fetchListed(last.key);
    if (!holdsPiece(stored, bytes, last)) {
      throw diverged(last.key, `its last piece of ${path} (bytes ${last.from} to ${last.to}) holds other bytes`);
    }
  }

  /**
   * An object the catch-up listing named, fetched and checked against the size and CRC-32 its key names;
   * `WAL_ARCHIVE_MISSING` when it is gone since. A read that does not match its key (a body cut short without an
   * error, which a connection closed early can give) is retried like a failed call: compared as it came, it would
   * latch a healthy archiver in `WAL_ARCHIVE_DIVERGED` for good.
   */
  async #fetchListed(key: string): Promise<Uint8Array> {
    const bytes = await this.#call("get", async (signal) => {
      const got = await this.#store.get(key, { signal });
      if (got !== null) await checkAgainstKey(this.#store, key, got);
      return got;
    });
    if (bytes === null) {
      // Pruned meanwhile: the next pass catches up again from a new listing.
      throw new WalError("WAL_ARCHIVE_MISSING", `${key} was listed but is gone from ${this.#store.name}`, {
        details: { object: key },
      });
    }
    return bytes;
  }

  /**
   * The header of the newest segment, `null` when it has none (yet): the handle's rotation creates the file and
   * then writes its header, and catch-up can list the directory in between (see `lookAgainAtNewest`).
   */
  async #readNewestHeader(path: string): Promise<SegmentHeader | null> {
    try {
      return await readHeader(this.#fs, path);
    } catch (error) {
      const look = await lookAgainAtNewest(this.#fs, path, error, () => readHeader(this.#fs, path));
      return look.kind === "opened" ? look.value : null;
    }
  }

  async #ensureSlot(): Promise<void> {
    try {
      await readSlot(this.#dir, this.#slot, { fs: this.#fs });
    } catch (error) {
      if (!isWalError(error, "WAL_SLOT_NOT_FOUND")) throw error;
      await createSlot(this.#dir, this.#slot, { fs: this.#fs }).catch((e: unknown) => {
        if (!isWalError(e, "WAL_SLOT_EXISTS")) throw e;
      });
    }
  }

  /**
   * Catch up when not done yet (a failed catch-up is tried again by the next pass), upload the sealed segments in
   * order, then ship the active segment's durable prefix.
   */
  async #pass(): Promise<void> {
    // Found once, for good: trying again would fetch the objects compared (a segment's worth) every intervalMs.
    if (this.#diverged !== undefined) throw this.#diverged;
    if (!this.#caughtUp) {
      await this.#catchUp();
      this.#caughtUp = true;
    }
    while (this.#pending.length > 0 && !this.#stop.signal.aborted) {
      const next = this.#pending[0] as Pending;
      if (next.id > this.#sealedDoneThrough && (await this.#uploadSealed(next))) this.#uploadedSegments++;
      this.#sealedDoneThrough = Math.max(this.#sealedDoneThrough, next.id);
      this.#pending.shift();
      await this.#recomputeArchived();
    }
    if (this.#shipDue && !this.#stop.signal.aborted) {
      this.#shipDue = false;
      try {
        await this.#shipActive();
      } catch (error) {
        this.#shipDue = true;
        throw error;
      }
    }
    // A whole pass succeeded: a failure reported before (a store outage, a local read) is over.
    if (this.#state !== "running" && this.#state !== "stopped" && this.#failuresInRow === 0) {
      this.#setState("running");
    }
    // A flush also moves the slot file, so truncation frees what it archived once it resolves; a file left behind
    // by the throttle catches up on a later pass (the timer's), also when that pass had nothing new to ship.
    await this.#writeSlotFile(this.#flushWaiters.length > 0);
    this.#settleFlushes();
  }

  /**
   * Segments truncated from the log while no archiver ran (the slot dropped, or invalidated in an earlier run), after
   * the newest the store holds: a gap, reported as one met while running. The rest of a segment the store holds as
   * pieces only counts too (its sealed upload never happened). A store holding nothing yet is no gap: an archive may
   * start anywhere in a log.
   */
  #reportGapBefore(
    oldestLocal: number | undefined,
    sealedInStore: ReadonlyMap<number, unknown>,
    piecesInStore: ReadonlyMap<number, unknown>,
  ): void {
    if (oldestLocal === undefined) return;
    let newestStored = -1;
    for (const id of sealedInStore.keys()) newestStored = Math.max(newestStored, id);
    for (const id of piecesInStore.keys()) newestStored = Math.max(newestStored, id);
    if (newestStored < 0) return;
    const firstMissing = sealedInStore.has(newestStored) ? newestStored + 1 : newestStored;
    if (oldestLocal <= firstMissing) return;
    this.#skipped += oldestLocal - firstMissing;
    const which =
      oldestLocal - firstMissing === 1 ? `segment ${firstMissing}` : `segments ${firstMissing} to ${oldestLocal - 1}`;
    this.#lastError = new WalError(
      "WAL_ARCHIVE_MISSING",
      `${which} of ${this.#dir} ${oldestLocal - firstMissing === 1 ? "was" : "were"} truncated before ${oldestLocal - firstMissing === 1 ? "it was" : "they were"} archived (${firstMissing === newestStored ? `${this.#store.name} holds only pieces of segment ${firstMissing}` : `${this.#store.name} ends with segment ${newestStored}`}, the log now starts at segment ${oldestLocal}; no archiver kept them: its slot was dropped or invalidated meanwhile): the archive has a gap there; restore from a snapshot taken after it`,
      { details: { path: this.#dir } },
    );
  }

  /** Upload a sealed segment whole; false when it was gone from the directory (a gap in the archive). */
  async #uploadSealed(segment: Pending): Promise<boolean> {
    let bytes: Uint8Array;
    try {
      bytes = await readWhole(this.#fs, segment.path);
    } catch (error) {
      if (!isMissingFileError(error)) throw error;
      // Truncation removed it unarchived: only possible once the slot was invalidated (maxSlotRetainedBytes).
      this.#skipped++;
      this.#lastError = new WalError(
        "WAL_ARCHIVE_MISSING",
        `segment ${segment.path} (base lsn ${segment.baseLsn}) was removed before it was archived (the archiver's slot was invalidated by maxSlotRetainedBytes): the archive has a gap there; restore from a snapshot taken after it`,
        { cause: error, details: { path: segment.path, lsn: segment.baseLsn } },
      );
      return false;
    }
    const checksum = await crc32InSlices(bytes);
    const key = archiveKey({
      kind: "segment",
      id: segment.id,
      baseLsn: segment.baseLsn,
      size: bytes.byteLength,
      crc32: checksum,
    });
    // Listed before the upload, so that a piece of another history is found before this one joins it in the store.
    const superseded = await this.#piecesOf(segment, bytes);
    await this.#call("put", (signal) => this.#store.put(key, bytes, { crc32: checksum, signal }));
    this.#uploadedBytes += bytes.byteLength;
    // The pieces shipped while it was active are superseded; removing them is tidiness, not correctness.
    // Bounded like every store call, and stopped by stop(): tidiness must never stall archiving.
    const { signal, release } = callSignal(this.#stop.signal, this.#callTimeout, this.#clock);
    try {
      for (const p of superseded) await bounded(this.#store.delete(p, { signal }), signal);
    } catch {
      // Left behind: restore prefers the whole segment.
    } finally {
      release();
    }
    return true;
  }

  /**
   * The keys of the store's pieces of `segment`, each checked to hold a prefix of `bytes` (the sealed segment) as
   * it was while active; none when a store call fails (they are left behind, and restore checks them the same way).
   * A piece this run shipped is checked by its key's CRC-32; any other is also fetched and compared byte for byte:
   * the CRC-32 of whole records depends on their sizes only (each ends with its own CRC-32), so a piece another
   * writer put with records of the log's sizes passes it. Catch-up's check does not cover those: it ran before they
   * were put, and compared only the last piece it found byte for byte. So a run fetches no piece it shipped itself,
   * and at most the pieces present when it attached (once) and any that another writer put. What this cannot tell
   * is another writer's piece put under the very key of one this run shipped (same range, records of the same
   * sizes): it replaced this run's piece, and it is deleted as superseded.
   * @throws {@link WalError} `WAL_ARCHIVE_DIVERGED` for a piece that holds other bytes: another history of this
   *   segment is in the store, and deleting it would leave this one looking like the only one.
   */
  async #piecesOf(segment: Pending, bytes: Uint8Array): Promise<string[]> {
    const shipped = this.#shippedPieces.get(segment.id) ?? new Set<string>();
    this.#shippedPieces.delete(segment.id);
    const disagrees = (key: string) =>
      diverged(key, `its piece of segment ${segment.id} disagrees with ${segment.path}, sealed`);
    try {
      const listed = await this.#tidyCall((signal) => this.#store.list(pieceKeyPrefix(segment.id), { signal }));
      const keys: string[] = [];
      for (const { key } of listed) {
        const k = parseArchiveKey(key);
        if (k?.kind !== "piece" || k.id !== segment.id) continue; // not ours to check or delete
        if (
          k.baseLsn !== segment.baseLsn ||
          k.to > bytes.byteLength ||
          (await pieceCrcIn(bytes, true, k)) !== k.crc32
        ) {
          throw disagrees(key);
        }
        if (!shipped.has(key)) {
          const stored = await this.#tidyCall((signal) => this.#store.get(key, { signal }));
          if (stored === null) continue; // gone since the listing: nothing to delete
          // A body that does not match its key (cut short) tells nothing about the history: left behind.
          if (stored.byteLength !== k.to - k.from || (await crc32InSlices(stored)) !== k.crc32 >>> 0) return [];
          if (!holdsPiece(stored, bytes, k)) throw disagrees(key);
        }
        keys.push(key);
      }
      return keys;
    } catch (error) {
      if (isWalError(error, "WAL_ARCHIVE_DIVERGED")) throw error;
      return [];
    }
  }

  /** One store call for tidiness: bounded like every store call and stopped by stop(), but not retried. */
  async #tidyCall<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { signal, release } = callSignal(this.#stop.signal, this.#callTimeout, this.#clock);
    try {
      return await bounded(call(signal), signal);
    } finally {
      release();
    }
  }

  async #shipActive(): Promise<void> {
    const active = this.#active;
    if (active === undefined || this.#durable <= active.shippedLsn) return;
    const start = Math.max(active.shippedTo, SEGMENT_HEADER_BYTES);
    const known = this.#durablePrefix;
    const { end, lastLsn } =
      known !== undefined && known.segmentId === active.id && known.offset > start
        ? { end: known.offset, lastLsn: known.lsn }
        : await this.#scanDurable(active, start);
    if (end <= start) return;
    const from = active.shippedTo;
    const bytes = await readRange(this.#fs, active.path, from, end);
    const checksum = await crc32InSlices(bytes);
    const k: ArchiveKey = { kind: "piece", id: active.id, baseLsn: active.baseLsn, from, to: end, crc32: checksum };
    const key = archiveKey(k);
    await this.#call("put", (signal) => this.#store.put(key, bytes, { crc32: checksum, signal }));
    const shipped = this.#shippedPieces.get(active.id);
    if (shipped === undefined) this.#shippedPieces.set(active.id, new Set([key]));
    else shipped.add(key);
    active.shippedTo = end;
    // A reported prefix may hold a few durable records past its LSN (written before that fdatasync began): its LSN is
    // a lower bound, never a step back.
    active.shippedLsn = Math.max(active.shippedLsn, lastLsn);
    this.#uploadedPieces++;
    this.#uploadedBytes += bytes.byteLength;
    await this.#recomputeArchived();
  }

  /**
   * Where the active segment's durable records end after `start`, found by reading them (when the handle did not
   * report the durable prefix's size: right after attaching, or after a rotation).
   */
  async #scanDurable(active: Active, start: number): Promise<{ end: number; lastLsn: number }> {
    const reader = await SegmentReader.open(this.#fs, active.path, { startOffset: start });
    let end = start;
    let lastLsn = active.shippedLsn;
    const durable = this.#durable;
    try {
      scan: for (;;) {
        // Records already in the read buffer cost no promise each: a piece every second under load covers
        // hundreds of thousands of records, and a promise per record would cost the writer's process real CPU.
        for (let lsn = reader.peekBufferedLsn(); lsn !== undefined; lsn = reader.peekBufferedLsn()) {
          if (lsn > durable) break scan;
          const record = reader.nextBufferedRecord(rawCodec);
          if (record === undefined) break;
          end = reader.position;
          lastLsn = record.lsn;
        }
        const lsn = await reader.peekLsn();
        if (lsn === undefined || lsn > durable) break;
        const step = await reader.next(rawCodec);
        if (step.kind !== "record") break;
        end = reader.position;
        lastLsn = step.record.lsn;
      }
    } finally {
      await reader.close();
    }
    return { end, lastLsn };
  }

  /** Everything below the first unarchived segment, plus what the active segment's pieces hold. */
  async #recomputeArchived(): Promise<void> {
    const firstPending = this.#pending[0];
    let archived: number;
    if (firstPending !== undefined) archived = firstPending.baseLsn - 1;
    else if (this.#active !== undefined) archived = this.#active.shippedLsn;
    else archived = this.#archivedLsn;
    if (archived > this.#archivedLsn) this.#archivedLsn = archived;
    const slotLsn = firstPending !== undefined ? firstPending.baseLsn - 1 : (this.#active?.baseLsn ?? 1) - 1;
    if (slotLsn > this.#holdLsn) this.#holdLsn = slotLsn;
    await this.#writeSlotFile(false);
    this.#durableTimes.archivedThrough(this.#archivedLsn);
  }

  /**
   * Move the slot file up to the in-process hold when it lags and an interval has passed since it was last written,
   * or at once with `now`. The hold protects this process at once; the file, for truncation by another process or
   * after a restart, may lag by about intervalMs (it then keeps more, never less) because each write costs two fsyncs.
   */
  async #writeSlotFile(now: boolean): Promise<void> {
    if (this.#slotWriter.written >= this.#holdLsn) return;
    const at = this.#clock.now();
    if (!now && at - this.#slotWrittenAt < this.#interval) return;
    this.#slotWrittenAt = at;
    await this.#slotWriter.advance(this.#holdLsn);
    this.#reportSlotProblem();
  }

  /**
   * Look at the slot file (from the interval, outside the passes: a pass stuck retrying a store that is down writes
   * no slot, and that is when the archive lacks most). Another consumer can move the slot at any time; the archiver
   * only writes it when what it holds back moves on.
   */
  #lookAtSlot(): void {
    if (this.#slotLook !== undefined || !this.#caughtUp || this.#stop.signal.aborted) return;
    this.#slotLook = this.#slotWriter
      .look()
      .then(() => {
        if (!this.#stop.signal.aborted) this.#reportSlotProblem();
      })
      .catch(() => undefined)
      .finally(() => {
        this.#slotLook = undefined;
      });
  }

  /** Say a slot problem found (in `lastError`) or gone, through `onStateChange`, once per change. */
  #reportSlotProblem(): void {
    const problem = this.#slotWriter.problem;
    if (problem === this.#reportedSlotProblem) return;
    this.#reportedSlotProblem = problem;
    if (problem !== null) this.#lastError = problem;
    this.#onStateChange?.(this.status());
  }

  #settleFlushes(): void {
    if (this.#flushWaiters.length === 0 || !this.#caughtUp) return;
    const keep = [];
    for (const w of this.#flushWaiters) {
      if (this.#archivedLsn >= w.lsn) w.resolve();
      else keep.push(w);
    }
    this.#flushWaiters = keep;
  }

  /** One store call with a time-out, retried with backoff until it succeeds or the archiver stops. */
  async #call<T>(op: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.#stop.signal.throwIfAborted();
      const { signal, release } = callSignal(this.#stop.signal, this.#callTimeout, this.#clock);
      this.#callInFlight = true;
      const callNumber = ++this.#callsStarted;
      try {
        // A store that ignores the signal must not stall archiving or stop(): the call is abandoned all the same.
        const result = await bounded(call(signal), signal).finally(release);
        this.#callInFlight = false;
        this.#retryAsked = false;
        if (this.#failuresInRow > 0 || this.#state !== "running") {
          this.#failuresInRow = 0;
          this.#setState("running");
        }
        return result;
      } catch (error) {
        if (this.#stop.signal.aborted) {
          this.#callInFlight = false;
          throw error;
        }
        // The store may throw anything: shownError never throws, so every failed call is counted and retried.
        this.#failures++;
        this.#failuresInRow++;
        const failing = this.#failuresInRow >= this.#failingAfter;
        this.#lastError = failing
          ? new WalError(
              "WAL_ARCHIVE_UNAVAILABLE",
              `archive store ${this.#store.name} failed ${this.#failuresInRow} times in a row (${op}): ${shownError(error)}`,
              { cause: error },
            )
          : isWalError(error)
            ? error
            : storeIoError(`archive store ${this.#store.name}`, op, undefined, error);
        // Still in flight through the state change: a flush made from onStateChange counts as made during the call.
        this.#setState(failing ? "failing" : "retrying");
        // A flush came while this call ran: it asked for an attempt after this one's start, so the call is retried
        // at once, and that flush waits for the retry (a failure from before it is not its answer). The flushes made
        // before this call began have their answer now: kept, they would wait as long as each retry had a flush of
        // its own come during it (an application flushing once per call), while the store was called again and again.
        const retryAsked = this.#retryAsked;
        this.#retryAsked = false;
        this.#callInFlight = false;
        if (failing) {
          const lastError = this.#lastError;
          const keep = [];
          for (const w of this.#flushWaiters) {
            if (w.call < callNumber) w.reject(lastError);
            else keep.push(w);
          }
          this.#flushWaiters = keep;
        }
        if (retryAsked) continue;
        const wait = Math.min(this.#maxBackoff, this.#initialBackoff * 2 ** Math.min(attempt, 20));
        await sleep(this.#clock, wait * (0.5 + this.#clock.random() / 2), this.#stop.signal, (wake) => {
          this.#retryNow = wake;
        });
        this.#retryNow = undefined;
      }
    }
  }

  /**
   * A failure outside the store (reading a segment, the slot): it is not retried call by call, but the next pass
   * (the timer's) tries again, and until one succeeds the state says `failing` with the cause.
   */
  #localFailure(error: unknown): void {
    if (this.#stop.signal.aborted) return;
    // A divergence already found is only said again by each pass: no call failed this time.
    if (error !== this.#diverged) this.#failures++;
    if (isWalError(error, "WAL_ARCHIVE_DIVERGED")) this.#diverged = error;
    // Another history in the store is the caller's to resolve (a new prefix): said as it is, not as an outage.
    this.#lastError = isWalError(error, "WAL_ARCHIVE_DIVERGED")
      ? error
      : new WalError("WAL_ARCHIVE_UNAVAILABLE", `archiving ${this.#dir} failed: ${shownError(error)}`, {
          cause: error,
        });
    this.#setState("failing");
    const lastError = this.#lastError;
    for (const w of this.#flushWaiters.splice(0)) w.reject(lastError);
  }

  #setState(state: ArchiverStatus["state"]): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#onStateChange?.(this.status());
  }
}

/** The slots of the archivers running on each handle, until their `stop` settles: one archiver per slot. */
const slotsInUse = new WeakMap<ArchivableWal, Set<string>>();

/** `wal` has what the archiver calls (a `Wal` handle has), or `WAL_INVALID_ARGUMENT`. */
function checkWal(wal: unknown): asserts wal is ArchivableWal {
  const w = wal as Partial<Record<keyof ArchivableWal, unknown>> | null;
  // Read as the caller's value: a getter, a proxy trap or a revoked proxy throws its own error otherwise.
  const isWal = readCallerValue(
    () =>
      typeof w === "object" &&
      w !== null &&
      typeof w.dir === "function" &&
      typeof w.fsyncedLsn === "function" &&
      typeof w.onLifecycle === "function" &&
      (w.retain === undefined || typeof w.retain === "function") &&
      (w.fs === undefined || typeof w.fs === "function"),
    "WAL_INVALID_ARGUMENT",
    "startArchiver: reading wal",
  );
  if (!isWal) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      "startArchiver: wal must be a Wal handle (an object with dir, fsyncedLsn and onLifecycle functions, and retain and fs functions when it has them)",
    );
  }
}

/**
 * The seam the handle reads and writes through (`wal.fs()`), or Node's for a handle without one.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` when `fs()` throws or answers something that is not a seam.
 */
function fileSystemOf(wal: ArchivableWal): WalFileSystem {
  if (wal.fs === undefined) return fileSystemOption(undefined, "Archiver");
  const fs = readCallerValue(() => wal.fs?.(), "WAL_INVALID_ARGUMENT", "startArchiver: wal.fs()");
  checkFileSystemArgument(fs, "startArchiver: wal.fs()");
  return fs;
}

/**
 * The options with their defaults, or the first mistake (`WAL_INVALID_OPTION`); see {@link ArchiverOptions}. Every
 * refusal of the options is here, so that none comes after the handle is called or anything is built.
 */
function checkOptions(given: ArchiverOptions) {
  const bad = (what: string) => new WalError("WAL_INVALID_OPTION", `startArchiver: ${what}`);
  const o = checkOptionNames(given, ARCHIVER_OPTION_NAMES, "startArchiver");
  checkArchiveStore(o.store, "WAL_INVALID_OPTION", "startArchiver");
  const slot: unknown = optionOr<unknown>(o.slot, "archive");
  if (!isSlotName(slot)) {
    const shown = typeof slot === "string" ? JSON.stringify(slot.slice(0, 80)) : shownValue(slot);
    throw bad(`slot must be a replication slot name, 1 to 64 letters, digits, "_" or "-"; got ${shown}`);
  }
  if (o.onStateChange !== undefined && typeof o.onStateChange !== "function") {
    throw bad("onStateChange must be a function");
  }
  if (o.retry !== undefined && (typeof o.retry !== "object" || o.retry === null)) throw bad("retry must be an object");
  const retry =
    o.retry === undefined ? undefined : checkOptionNames(o.retry, RETRY_OPTION_NAMES, "startArchiver retry");
  // Timer delays may be fractions (setTimeout takes them); a count and the call timeout (AbortSignal.timeout
  // takes only integers) may not.
  const ranged = (name: string, value: unknown, fallback: number, min: number, max: number, integer: boolean) => {
    const v = optionOr(value, fallback);
    if (typeof v !== "number" || !(v >= min && v <= max) || (integer && !Number.isInteger(v))) {
      throw bad(
        `${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got ${shownValue(value)}`,
      );
    }
    return v;
  };
  return {
    read: o,
    slot,
    intervalMs: ranged("intervalMs", o.intervalMs, 1000, 1, MAX_TIMER_MS, false),
    initialMs: ranged("retry.initialMs", retry?.initialMs, 100, 0, MAX_TIMER_MS, false),
    maxMs: ranged("retry.maxMs", retry?.maxMs, 30_000, 0, MAX_TIMER_MS, false),
    failingAfter: ranged("retry.failingAfter", retry?.failingAfter, 5, 1, Number.MAX_SAFE_INTEGER, true),
    callTimeoutMs: ranged("callTimeoutMs", o.callTimeoutMs, 30_000, 1, MAX_TIMER_MS, true),
    // Left out, it is the handle's (see `fileSystemOf`), looked at only once every option has passed.
    fs: o.fs === undefined ? undefined : fileSystemOption(o.fs, "Archiver"),
    // The testing clock sits under a symbol key, which the copy leaves out.
    clock: clockOf(given),
  };
}

/**
 * The signal of one store call: aborted when `stop` aborts (with its reason) or after `ms` (a `TimeoutError`, as
 * `AbortSignal.timeout` gives), until `release()`, which the caller calls once the call has settled. Not
 * `AbortSignal.any([stop, AbortSignal.timeout(ms)])`: Node 20 keeps an entry in `stop` for every signal composed from
 * it for as long as `stop` lives (nodejs/node#55351), even once collected, and `stop` lives as long as the archiver,
 * which makes a call a second while a log is busy; each call's timer also stayed pending until it fired.
 */
function callSignal(
  stop: AbortSignal,
  ms: number,
  clock: ArchiverClock,
): { readonly signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onStop = () => controller.abort(stop.reason);
  const cancelTimer = clock.timeout(
    () => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")),
    ms,
    false,
  );
  if (stop.aborted) onStop();
  else stop.addEventListener("abort", onStop, { once: true });
  return {
    signal: controller.signal,
    release() {
      cancelTimer();
      stop.removeEventListener("abort", onStop);
    },
  };
}

/** `work`, or a rejection with the signal's reason as soon as `signal` aborts, whichever comes first. */
function bounded<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(error);
      },
    );
  });
}

/**
 * @throws {@link WalError} `WAL_ARCHIVE_CORRUPT` naming `key` when `bytes` do not have the size and CRC-32 the
 *   archive key `key` names.
 */
async function checkAgainstKey(store: ArchiveStore, key: string, bytes: Uint8Array): Promise<void> {
  const k = parseArchiveKey(key);
  if (k === null) return;
  const size = k.kind === "segment" ? k.size : k.to - k.from;
  const crc = bytes.byteLength === size ? await crc32InSlices(bytes) : undefined;
  if (crc === k.crc32 >>> 0) return;
  const got = crc === undefined ? `${bytes.byteLength} bytes` : `CRC-32 ${crc.toString(16).padStart(8, "0")}`;
  throw new WalError("WAL_ARCHIVE_CORRUPT", `${store.name}: get ${key} gave ${got}, not what its key names`, {
    details: { object: key },
  });
}

function diverged(object: string, why: string): WalError {
  return new WalError(
    "WAL_ARCHIVE_DIVERGED",
    `the archive holds another history of this log: ${why} (${object}); archive this log under a new prefix or directory`,
    { details: { object } },
  );
}

function stoppedError(): WalError {
  return new WalError("WAL_CLOSED", "the archiver is stopped");
}

/** Sleep `ms`, ended early by `signal` or by calling the function handed to `onWake` (for as long as it sleeps). */
function sleep(
  clock: ArchiverClock,
  ms: number,
  signal: AbortSignal,
  onWake: (wake: () => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      cancelTimer();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const cancelTimer = clock.timeout(done, ms, true);
    signal.addEventListener("abort", done, { once: true });
    onWake(done);
  });
}

/** Decodes no payloads: the archiver needs record boundaries and LSNs only. */
const rawCodec = {
  name: "raw",
  encodeEvent: () => new Uint8Array(0),
  encodeBatch: () => new Uint8Array(0),
  decodeEvent: () => undefined,
  decodeBatch: () => [],
};

async function readHeader(fs: WalFileSystem, path: string) {
  const reader = await SegmentReader.open(fs, path);
  const header = reader.header;
  await reader.close();
  return header;
}

async function readWhole(fs: WalFileSystem, path: string): Promise<Uint8Array> {
  const file = await fs.open(path, "read");
  try {
    const size = await file.size();
    return await readFrom(file, 0, size);
  } finally {
    await file.close();
  }
}

async function readRange(fs: WalFileSystem, path: string, from: number, to: number): Promise<Uint8Array> {
  const file = await fs.open(path, "read");
  try {
    return await readFrom(file, from, to);
  } finally {
    await file.close();
  }
}

async function readFrom(
  file: Awaited<ReturnType<WalFileSystem["open"]>>,
  from: number,
  to: number,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(to - from);
  let got = 0;
  while (got < bytes.byteLength) {
    const n = await file.read(bytes, got, bytes.byteLength - got, from + got);
    if (n === 0) throw new WalError("WAL_IO", `unexpected end of ${file.path} at ${from + got} (wanted ${to})`);
    got += n;
  }
  return bytes;
}

/** The LSN of the last record that ends at or before `offset` (a piece boundary). */
async function lastLsnBefore(fs: WalFileSystem, path: string, offset: number): Promise<number> {
  const reader = await SegmentReader.open(fs, path);
  let last = reader.header.baseLsn - 1;
  try {
    while (reader.position < offset) {
      const step = await reader.next(rawCodec);
      if (step.kind !== "record") break;
      last = step.record.lsn;
    }
  } finally {
    await reader.close();
  }
  return last;
}
