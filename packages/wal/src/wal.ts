/**
 * The `Wal` handle: one writer per directory, LoraDB's on-disk format, three sync modes with group commit,
 * rotation at transaction boundaries, checkpoint truncation, and poisoning on the first failed write or fsync.
 */

import { performance } from "node:perf_hooks";
import {
  ByteWriter,
  checkPath,
  encodeCommitTxInto,
  errnoOf,
  isWalError,
  type PayloadCodec,
  shownError,
  WalError,
  type WalRecord,
} from "@lora/wal-codec";
import type { MutationEvent } from "@lora/wal-codec/lora";
import {
  type HeldLock,
  lockDirectory,
  lockTargetOf,
  probeDirectoryLock,
  type ReleaseFailure,
  releaseOutcome,
} from "@lora/wal-lock";
import { TransactionSpans } from "@lora/wal-replay";
import {
  isMissingFileError,
  SEGMENT_HEADER_BYTES,
  unfinishedRestoreError,
  type WalFileSystem,
} from "@lora/wal-segment";
import { Admission } from "./admission.js";
import { CommitPipeline } from "./commit-pipeline.js";
import { createDurably } from "./create-durably.js";
import {
  commitChannel,
  poisonChannel,
  recoverChannel,
  rotateChannel,
  syncChannel,
  truncateChannel,
} from "./diagnostics.js";
import { copyOfEvents, eventsArgument } from "./events-argument.js";
import { fsyncAgain } from "./fsync-again.js";
import { GroupFlusher } from "./group-flusher.js";
import { InProcessFeed, type WalFollower } from "./in-process-follow.js";
import type { IoStats } from "./io-stats.js";
import { assertLsnArgument } from "./lsn-argument.js";
import { normalizeOpenOptions } from "./open-options.js";
import { nextLsnOfSegment } from "./recover-dir.js";
import { recoverForWriting } from "./recover-for-writing.js";
import type { LifecycleListener, SegmentInfo, SegmentLifecycle } from "./segment-lifecycle.js";
import { SpillTurns } from "./spill-turns.js";
import type { SyncMode } from "./sync-mode.js";
import { type PlantedBug, TESTING_BUILD } from "./testing-hooks.js";
import { TransactionLedger } from "./transaction-ledger.js";
import type { WalInit } from "./wal-init.js";
import type { CheckpointInfo, CommitInfo, OpenResult, WalFollowOptions, WalOptions } from "./wal-options.js";

export {
  type CheckpointInfo,
  type CommitInfo,
  DEFAULT_PREALLOCATE_BYTES,
  DEFAULT_SEGMENT_TARGET_BYTES,
  type OpenResult,
  type WalFollowOptions,
  type WalOptions,
} from "./wal-options.js";

/**
 * Buffered appends (`begin`/`append`/`appendBatch`/...) hand the buffer to the OS once it holds this much, rather
 * than letting it grow to a whole segment before the next flush: the buffer is copied on every doubling, and a
 * smaller one stays in the CPU cache. Nothing about durability changes (written is not synced).
 */
const SPILL_BYTES = 512 * 1024;
/**
 * A buffered append that leaves this much waiting to be written resolves only once it is handed to the OS. A spill
 * cannot write while the unsynced window is full, and the fsync that empties the window completes only when the
 * event loop turns, which a loop of appends (each resolving at once) never lets it do: without this its buffer grew
 * to a whole segment. The record itself is appended at once, like any other (its LSN in call order, covered by any
 * later `sync` or `flush`); only its promise waits, which is what gives the loop its turn. Before this, appends
 * held back by the window take a turn now and then ({@link SpillTurns}), which usually lets the spill write first.
 */
const BACKPRESSURE_BYTES = 4 * SPILL_BYTES;

/**
 * The highest LSN the handle gives a record: one below `Number.MAX_SAFE_INTEGER`, because recovery resumes at the
 * newest record's LSN + 1 and refuses a log where that is not a safe integer. A record at the last safe integer
 * itself would make every acknowledged commit before it unopenable.
 */
const LAST_WRITABLE_LSN = Number.MAX_SAFE_INTEGER - 1;

/** The refusal of an append whose last record would lie past {@link LAST_WRITABLE_LSN} (nothing written). */
function assertLsnsLeft(first: number, count: number): void {
  if (first + count - 1 <= LAST_WRITABLE_LSN) return;
  throw new WalError(
    "WAL_ENCODE",
    `the LSN space is exhausted: ${count} record(s) from LSN ${first} would pass ${LAST_WRITABLE_LSN}, the last LSN a log can resume after`,
  );
}

/**
 * What `close()` throws when only the lock's release failed: everything before it succeeded, so the log is closed and
 * durable, and the message must say so (a caller must not take it for lost commits) and that the lock may be held.
 */
function lockReleaseFailed(dir: string, error: unknown): WalError {
  return new WalError(
    "WAL_IO",
    `the WAL in ${dir} is closed and durable (every acknowledged commit is on disk), but releasing its directory lock failed: ${shownError(error)}; this process may still hold the lock, and a Wal.open of ${dir} in it may be refused with WAL_LOCKED until it exits`,
    { cause: error, details: { path: dir } },
  );
}

type Structural = Promise<unknown>;

/**
 * A write-ahead log directory opened for writing: one handle per directory (the lock is LoraDB's), records in LSN
 * order, transactions committed whole, and durability as the sync mode says. Create one with {@link Wal.open}.
 *
 * @remarks
 * Any failed write or fsync poisons the handle: every later call rejects `WAL_POISONED` with the first failure as
 * `cause`, and nothing is retried over a possibly half-written buffer. Reopen to recover.
 *
 * @example
 * ```ts
 * const { wal, events } = await Wal.open("./data/wal", { codec: jsonCodec });
 * for (const event of events) apply(event);
 * await wal.commitTx([{ put: "a", value: 1 }]); // durable when it resolves (perCommit)
 * await wal.close();
 * ```
 */
export class Wal<E = MutationEvent> {
  readonly #dir: string;
  readonly #fs: WalFileSystem;
  readonly #codec: PayloadCodec<E>;
  readonly #syncMode: SyncMode;
  readonly #target: number;
  /**
   * Set at open when the fence lies above the active segment's next LSN (see `WalInit`); cleared by a rotation.
   * While set the segment counts as full, so the first record (a `begin`, a `commitTx` or a marker: no transaction
   * can be open yet, a new session finishes none of an earlier one's) rotates first; appends into a transaction
   * cannot come first, and are refused as such without I/O.
   */
  #rotateBeforeFirstRecord: boolean;
  readonly #lock: HeldLock;
  readonly #pipeline: CommitPipeline;
  readonly #segments: SegmentLifecycle;
  readonly #bugs: ReadonlySet<PlantedBug>;
  /** Planted bug `double-batch-after-recovery`: the next `commitTx` writes its events twice. */
  #doubleNextBatch = false;
  #nextLsn: number;
  #durableLsn: number;
  /** The in-process followers (`follow`), and the newest commits they take from memory. */
  readonly #feed: InProcessFeed<E>;
  /**
   * Which LSNs at or above the checkpoint floor lie inside a finished (or abandoned) transaction; shared with
   * `#tx`, so the commit path marks its transactions here without a call.
   */
  readonly #spans: TransactionSpans;
  /** The low-level transactions open in this handle, the checkpoint floor, and the fence checks on both. */
  readonly #tx: TransactionLedger;
  /** Calls admitted before `close()` that still wait for a rotation or structural change; close lets them finish. */
  readonly #admission = new Admission();
  #poison: unknown;
  #closed = false;
  /** The synced LSN followers were last woken for (see the pipeline's `onSynced`). */
  #wokeForSynced: number;
  /** `close()` has reported `closed` to the lifecycle listeners: no listener or hold is taken any more. */
  #lifecycleOver = false;
  #closing: Promise<void> | undefined;
  #structural: Structural | undefined;
  /** The group-commit timer (`group` mode only). */
  #flusher: GroupFlusher | undefined;
  /** Turns for buffered appends whose spill the unsynced window holds back. */
  readonly #spillTurns = new SpillTurns();
  /** A held-back spill tried again on its turn; once close has begun, its flush writes the buffer instead. */
  readonly #spill = (): void => {
    if (!this.#closed) this.#pipeline.spill();
  };

  private constructor(init: WalInit<E>) {
    this.#dir = init.dir;
    this.#fs = init.fs;
    this.#codec = init.codec;
    this.#syncMode = init.syncMode;
    this.#target = init.target;
    this.#lock = init.lock;
    this.#nextLsn = init.nextLsn;
    this.#rotateBeforeFirstRecord = init.rotateBeforeFirstRecord;
    this.#durableLsn = init.durableLsn;
    this.#wokeForSynced = init.durableLsn;
    this.#segments = init.segments;
    this.#segments.noteDurable(init.durableLsn);
    this.#spans = init.spans;
    this.#tx = new TransactionLedger(init.dir, init.floor, init.oldestFence, init.spans, init.bugs);
    this.#bugs = init.bugs;
    if (TESTING_BUILD) {
      this.#doubleNextBatch = init.bugs.has("double-batch-after-recovery") && init.replayedTransactions > 0;
    }
    // Every LSN below nextLsn is settled at open (it survived, or it is a gap: a fence or segment base above
    // the last record). Seeding the pipeline lower would make a flush before the first append wait forever for
    // LSNs that are never appended.
    this.#pipeline = new CommitPipeline(
      init.writer,
      init.nextLsn - 1,
      {
        failpoint: init.failpoint,
        onFailure: (error) => this.#poisonWith(error),
        onWritten: (lsn) => {
          if (this.#syncMode.mode === "none" && lsn > this.#durableLsn) {
            this.#durableLsn = lsn;
            this.#feed.wake();
          }
        },
        onSyncRound: (lsn, ms) => {
          if (syncChannel.hasSubscribers) syncChannel.publish({ dir: this.#dir, lsn, durationMs: ms });
        },
        onSynced: (lsn, bytes, record) => {
          // Published before the commits it covers are acknowledged (the pipeline resolves them after this).
          this.#segments.noteDurable(lsn, bytes, record);
          if (lsn > this.#durableLsn) this.#durableLsn = lsn;
          // Followers deliver what an fsync covers: wake them when a round moves it, also in `none` mode, where the
          // write already moved `durableLsn` (and woke them too early to deliver it).
          if (lsn > this.#wokeForSynced) {
            this.#wokeForSynced = lsn;
            this.#feed.wake();
          }
        },
        retrySyncAfterFailure:
          TESTING_BUILD && init.bugs.has("retry-fsync-after-eio")
            ? () => fsyncAgain(this.#fs, this.#pipeline.writer.path)
            : undefined,
        syncCoversLaterWrites: TESTING_BUILD && init.bugs.has("sync-covers-later-writes"),
        syncBesideBackgroundSync: TESTING_BUILD && init.bugs.has("sync-beside-background-sync"),
      },
      {
        blockingSync: init.blockingSync,
        ...(TESTING_BUILD && init.clock !== undefined ? { now: init.clock.now.bind(init.clock) } : {}),
      },
    );
    this.#feed = new InProcessFeed(
      init.dir,
      init.fs,
      init.codec,
      this.#pipeline,
      () => this.#nextLsn - 1,
      init.nextLsn,
    );
    if (this.#syncMode.mode === "group") {
      this.#flusher = new GroupFlusher(
        this.#syncMode.intervalMs,
        this.#pipeline,
        init.failpoint,
        () => this.#poison !== undefined || this.#closed || this.#structural !== undefined,
        TESTING_BUILD ? init.clock : undefined,
      );
    }
    // The lock file removed and the directory taken by another process (see dir-lock.ts): stop writing at once.
    init.lock.onLost((error) => this.#poisonWith(error));
  }

  /**
   * Open (or create) the log in `dir`: create the directory, take the lock, replay, heal (docs/recovery.md), act on a
   * torn tail as `recovery` says, and resume at `max(maxLsn + 1, active base, checkpointLsn + 1)`.
   *
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` (a `dir` that is not a non-empty string), `WAL_INVALID_OPTION`,
   *   `WAL_LOCKED` (another handle, in any process, holds the directory, or a `restore` of `@lora/wal-archive` is
   *   running into it: nothing is created or changed), `WAL_CORRUPT`, `WAL_TORN_TAIL` (absolute mode),
   *   `WAL_MALFORMED` (also for a directory a restore did not finish putting in place: segment files still named
   *   `*.restoring` and no segment at or above them, and no restore holding the lock; nothing is created or changed,
   *   and running the restore again finishes it), `WAL_BAD_HEADER`, `WAL_IO`;
   *   `WAL_CODEC_MISMATCH` in every mode, before any segment is changed, cut or moved.
   *   The lock is released before any error is thrown; a release that fails then does not replace the open's error.
   */
  static async open<E = MutationEvent>(dir: string, options: WalOptions<E> = {}): Promise<OpenResult<E>> {
    const openedAt = performance.now();
    checkPath(dir);
    const o = normalizeOpenOptions(options);
    const { codec, syncMode, target, fence, blockingSync, fs, failpoint, bugs, clock } = o;
    // Which lock `fs` takes, looked at once: a seam property that throws is refused before the directory is created.
    const lockTarget = lockTargetOf(fs);

    // Before anything is created (the directory, the lock file): a restore that did not finish is refused as found.
    const look = async () =>
      unfinishedRestoreError(
        dir,
        await fs.readdir(dir).catch((error: unknown) => {
          // A missing directory is created below; one that is a file is refused there, as before.
          if (isMissingFileError(error) || errnoOf(error) === "ENOTDIR") return [];
          throw error;
        }),
      );
    if ((await look()) !== undefined) {
      // A restore running into `dir` holds its lock while its `.restoring` files are there: refused as it is, locked,
      // not as a restore that did not finish (probed without taking the lock or creating its file).
      const locked = await probeDirectoryLock(lockTarget, dir);
      if (locked !== null) throw locked;
      // Free: the restore may have renamed its log into place and let go since that look, so the one that counts is
      // taken now.
      const unfinished = await look();
      if (unfinished !== undefined) throw unfinished;
    }
    await createDurably(fs, dir);
    const lock = await lockDirectory(lockTarget, dir, o.lockRetryMs);
    // From here on every throw, the failpoint's too, releases the lock below before it leaves.
    try {
      if (TESTING_BUILD) failpoint("lock.afterAcquire");
      // Under the lock, recovery lists `dir` again first (`listSegments` refuses a restore's leftovers, changing
      // nothing): a restore that started after the check above and died before this open took the lock is seen there.
      const { r, segments } = await recoverForWriting(dir, o);
      const wal = new Wal<E>({
        dir,
        fs,
        codec,
        syncMode,
        blockingSync,
        target,
        lock,
        writer: r.writer,
        nextLsn: r.nextLsn,
        rotateBeforeFirstRecord: r.nextLsn > nextLsnOfSegment(r.writer, r.maxLsn),
        // LoraDB's rule: everything readable at open survived to this open.
        durableLsn: r.maxLsn,
        segments,
        floor: Math.max(fence, r.outcome?.newestSnapshotLsn ?? 0),
        // Above the floor only with allowTruncatedHistory; without segments the fresh one starts after the fence.
        oldestFence: r.outcome?.oldestFence ?? 0,
        spans: r.outcome?.transactionSpans ?? new TransactionSpans(),
        failpoint,
        bugs,
        clock,
        replayedTransactions: r.outcome?.committedTransactions ?? 0,
      });
      if (recoverChannel.hasSubscribers) {
        recoverChannel.publish({
          dir,
          durationMs: performance.now() - openedAt,
          transactions: r.outcome?.committedTransactions ?? 0,
          nextLsn: r.nextLsn,
          tornTail: r.outcome?.tornTail != null,
          healed: r.healed.length,
        });
      }
      return {
        wal,
        events: r.events,
        replay: r.outcome,
        tornTail: r.outcome?.tornTail ?? null,
        checkpointLsnObserved: r.outcome?.checkpointLsnObserved ?? null,
        healed: r.healed,
      };
    } catch (error) {
      // The open's own failure says what went wrong: a release that fails too must not replace it.
      await releaseOutcome(lock);
      throw error;
    }
  }

  // ---- accessors -------------------------------------------------------------------------------------------

  /** The log directory this handle owns. */
  dir(): string {
    return this.#dir;
  }

  /**
   * The file-system seam this handle reads and writes through: the `fs` given to {@link Wal.open}, or Node's. What
   * a consumer in this process that reads the directory beside the handle (the archiver of `@lora/wal-archive`)
   * takes, so that it reaches the same files without being given the seam again.
   */
  fs(): WalFileSystem {
    return this.#fs;
  }

  /** The sync mode in effect (normalised: `"group"` carries its interval). */
  syncMode(): SyncMode {
    return this.#syncMode;
  }

  /**
   * The highest LSN covered by an fdatasync, in every mode (unlike {@link Wal.durableLsn}, which counts writes in
   * `none`): what no crash can take back. What followers and archiving deliver up to.
   */
  fsyncedLsn(): number {
    return this.#pipeline.syncedLsn;
  }

  /**
   * The highest LSN known durable: advanced by fsyncs in `perCommit` and `group`, by writes in `none` (the mode
   * opts out of crash durability). At open it is the highest LSN that survived (LoraDB's rule).
   */
  durableLsn(): number {
    return this.#durableLsn;
  }

  /** The LSN the next record will get. */
  nextLsn(): number {
    return this.#nextLsn;
  }

  /**
   * The first failure that poisoned the handle (usually a {@link WalError} `WAL_IO` with the OS error as `cause`),
   * or `null` while healthy. Every call after it fails with `WAL_POISONED`, whose `cause` is this error.
   */
  failure(): unknown {
    return this.#poison ?? null;
  }

  /** The message of {@link Wal.failure}; `null` while healthy. */
  bgFailure(): string | null {
    if (this.#poison === undefined) return null;
    return shownError(this.#poison);
  }

  /** Id of the oldest segment still in the directory (rises as `truncateUpTo` deletes segments). */
  oldestSegmentId(): number {
    return this.#segments.oldestId;
  }

  /** Id of the segment being appended to (the highest id). */
  activeSegmentId(): number {
    return this.#segments.activeId;
  }

  /**
   * The segments in the directory, oldest first, with their base LSNs and sizes (a header read and a stat each).
   * Safe beside commits: a segment a rotation is still creating is listed once it is the active one, and one a
   * truncation removes meanwhile is left out.
   * @throws {@link WalError} `WAL_IO`, `WAL_BAD_HEADER` (a damaged header), `WAL_CLOSED` once `close()` has
   *   finished (a poisoned handle still answers: its segments are what a reopen will read).
   */
  async segments(): Promise<SegmentInfo[]> {
    this.#assertNotClosed("segments");
    return await this.#segments.list();
  }

  /**
   * Listen to the segment lifecycle: `sealed` (a segment is complete and fsynced: immutable from now on),
   * `created`, `durable` (every record up to `lsn` is fsynced), `removed` (truncation deleted segments),
   * `slotInvalidated`, `closed`. Each is reported after it is true on disk, synchronously where it happens: keep
   * listeners short, and never throw from one (a throw is reported as a process warning and otherwise ignored).
   * @returns the function that removes the listener.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` for a listener that is not a function; `WAL_CLOSED` once the
   *   handle is closed (its events are over).
   */
  onLifecycle(listener: LifecycleListener): () => void {
    if (typeof listener !== "function") {
      throw new WalError("WAL_INVALID_ARGUMENT", "onLifecycle wants a function");
    }
    this.#assertNotClosed("onLifecycle");
    return this.#segments.on(listener);
  }

  /**
   * Hold segments back from `truncateUpTo` from this process, effective at once (also against a truncation already
   * running, which stops before the next deletion of a segment the hold needs; a deletion already under way completes):
   * while the hold is registered, truncation keeps every segment holding a record above `position()` (called at each
   * truncation), like a replication slot at that LSN but without a file, so it ends with the process. It obeys
   * `maxSlotRetainedBytes`: past it the hold is dropped and `onLifecycle` reports `slotInvalidated` with its name.
   * Continuous archiving uses one from the moment it starts, before its persistent slot exists. A `position()` that
   * throws or returns something that is not an LSN is the holder's mistake: `truncateUpTo` (and `checkpoint`) then fail
   * with `WAL_INVALID_ARGUMENT` naming the hold and delete nothing; the handle stays usable.
   * @returns the function that releases the hold.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` without a name or a function; `WAL_CLOSED` once the handle is
   *   closed.
   */
  retain(name: string, position: () => number): () => void {
    if (typeof name !== "string" || name.length === 0 || typeof position !== "function") {
      throw new WalError("WAL_INVALID_ARGUMENT", "retain wants a name and a function returning an LSN");
    }
    this.#assertNotClosed("retain");
    return this.#segments.retain(name, position);
  }

  /**
   * Follow the log from this process: the committed transactions after the resume token (`after`, and `restartLsn`
   * for an exact one; each delivered transaction carries its own), in commit order, as an async iterable that waits for new commits, follows rotation, and ends when `signal` aborts, on `return()` (a
   * `break`), or after the handle closes (once it has delivered what was durable). By default a transaction is
   * delivered once an fdatasync covers it, so no crash can take it back (in `none` mode: after `sync()`, a rotation
   * or `close()`); `durability: "written"` delivers it once it is in the file. A follower that falls behind
   * truncation fails with `WAL_TRUNCATED`. A follower running when `close()` is called (or taken while it runs)
   * delivers every commit the close made durable and then ends, done, without an error; so does one on a poisoned
   * handle, with what was fsynced before the failure.
   * @throws {@link WalError} at once: `WAL_CLOSED` once `close()` has finished (also a close that rejected: the
   *   handle is over), `WAL_INVALID_OPTION`; from the iteration `WAL_TRUNCATED`, `WAL_CORRUPT`, `WAL_MALFORMED`,
   *   `WAL_IO`.
   */
  follow(options: WalFollowOptions = {}): WalFollower<E> {
    // As `onLifecycle` and `retain`: once the close has reported `closed`, nothing would ever wake the follower, and
    // the directory lock is released, so another writer may own the files it would read.
    this.#assertNotClosed("follow");
    return this.#feed.follow(options);
  }

  /**
   * The commit pipeline's I/O since open: writes and their bytes, fdatasync rounds with a latency histogram
   * (Prometheus-style cumulative buckets), and the bytes buffered now. A snapshot; cheap to call.
   */
  ioStats(): IoStats {
    return this.#pipeline.stats.snapshot(this.#pipeline.writer.pendingBytes);
  }

  // ---- low-level records -----------------------------------------------------------------------------------

  /**
   * Append a `TxBegin` (buffered) and open a transaction named by its LSN. Rotation happens here, so a
   * transaction begun with `begin` starts in the segment it is appended to.
   * @returns the begin LSN, which names the transaction in `append`, `appendBatch`, `commit` and `abort`.
   * @throws {@link WalError} `WAL_CLOSED`, `WAL_POISONED`, `WAL_IO` (rotation failed; the handle is poisoned),
   *   `WAL_ENCODE` (the LSN space is exhausted: no LSN below `Number.MAX_SAFE_INTEGER` is left; nothing written).
   */
  begin(): Promise<number> {
    return this.#buffered(true, (lsn) => ({ kind: "txBegin", lsn }));
  }

  /**
   * Append one event to the open transaction `txBeginLsn` (buffered).
   * @throws {@link WalError} `WAL_TX_NOT_OPEN` (not begun by this handle, or already committed or aborted: nothing
   *   written), `WAL_ENCODE`, and as {@link Wal.begin}.
   */
  append(txBeginLsn: number, event: E): Promise<number> {
    return this.#buffered(false, (lsn) => {
      this.#tx.assertOpenTx(txBeginLsn, "append to");
      return { kind: "mutation", lsn, txBeginLsn, event };
    });
  }

  /**
   * Append several events to the open transaction `txBeginLsn` as one `MutationBatch` record (buffered).
   * @throws {@link WalError} `WAL_TX_NOT_OPEN`, `WAL_INVALID_ARGUMENT` (`events` is not an array), `WAL_ENCODE`
   *   (also for an empty batch), `WAL_RECORD_TOO_LARGE` (also for more events than `MAX_RECORD_BYTES`, before any is
   *   read), and as {@link Wal.begin}. Nothing is written when it throws.
   */
  appendBatch(txBeginLsn: number, events: readonly E[]): Promise<number> {
    return this.#buffered(false, (lsn) => {
      this.#tx.assertOpenTx(txBeginLsn, "append to");
      const read = eventsArgument("appendBatch", events);
      if (read.length === 0) {
        throw new WalError("WAL_ENCODE", "mutation batch must contain at least one event");
      }
      return { kind: "mutationBatch", lsn, txBeginLsn, events: read };
    });
  }

  /**
   * Append a `TxCommit` for the open transaction `txBeginLsn` (buffered; durability comes with `flush`, `sync`
   * or the mode) and close it.
   * @throws {@link WalError} `WAL_TX_NOT_OPEN` (nothing written), and as {@link Wal.begin}.
   */
  commit(txBeginLsn: number): Promise<number> {
    return this.#buffered(false, (lsn) => {
      this.#tx.assertOpenTx(txBeginLsn, "commit");
      return { kind: "txCommit", lsn, txBeginLsn };
    });
  }

  /**
   * Append a `TxAbort` for the open transaction `txBeginLsn` (buffered) and close it. Replay drops the transaction.
   * @throws {@link WalError} `WAL_TX_NOT_OPEN` (nothing written), and as {@link Wal.begin}.
   */
  abort(txBeginLsn: number): Promise<number> {
    return this.#buffered(false, (lsn) => {
      this.#tx.assertOpenTx(txBeginLsn, "abort");
      return { kind: "txAbort", lsn, txBeginLsn };
    });
  }

  /**
   * Append a checkpoint marker saying a snapshot covering every transaction committed at or below `snapshotLsn`
   * exists (buffered; follow with `sync()`, or use {@link Wal.checkpoint}, which does it all). The handle refuses,
   * with nothing written, every snapshot LSN that replay would reject or that would lose history: one below the
   * fence it was opened with or below any marker in the log (fenced ones included), one below what the log still
   * holds (the oldest segment's base LSN minus one: truncation removed the records after it, so an open there fails
   * `WAL_FENCE_TOO_LOW`; `details.oldestRetainedLsn` is that base), one not yet allocated, and one inside a
   * transaction (open, finished or left unfinished by a crash). {@link Wal.safeCheckpointLsn} gives one that is
   * always accepted.
   * @returns the marker's LSN.
   * @throws {@link WalError} `WAL_BAD_CHECKPOINT` (with `details.usableFence`), `WAL_INVALID_ARGUMENT`, and as
   *   {@link Wal.begin}.
   */
  async checkpointMarker(snapshotLsn: number): Promise<number> {
    this.#assertUsable();
    assertLsnArgument("snapshotLsn", snapshotLsn);
    return await this.#admission.admit(() => this.#appendCheckpointMarker(snapshotLsn));
  }

  /** Append the marker (the caller is admitted), or refuse it with nothing written. */
  async #appendCheckpointMarker(snapshotLsn: number): Promise<number> {
    // A marker never rotates a full segment (it may follow a transaction's records in it), except as the first record
    // after a fence above the log's end. Checked before that rotation too, so a refused marker does no I/O.
    this.#tx.assertFence(snapshotLsn, "checkpoint snapshot", this.#nextLsn, this.#durableLsn);
    assertLsnsLeft(this.#nextLsn, 1);
    const rotate = this.#rotateBeforeFirstRecord;
    while (!this.#appendable(rotate, true)) await this.#prepareAppend(rotate);
    this.#tx.assertFence(snapshotLsn, "checkpoint snapshot", this.#nextLsn, this.#durableLsn);
    const lsn = this.#appendRecord((l) => ({ kind: "checkpoint", lsn: l, snapshotLsn }));
    this.#tx.raiseFloor(snapshotLsn);
    return lsn;
  }

  /**
   * The highest LSN at which a snapshot can be taken and marked right now: durable, at or above every marker, the
   * open fence and the oldest segment's base LSN minus one, and not inside any transaction. A store whose state
   * reflects exactly the transactions committed at or below it can pass it to {@link Wal.checkpoint}. With only
   * `commitTx` writers it is {@link Wal.durableLsn}, which in `group` mode lags the acknowledged commits until the
   * next fdatasync: a snapshot of every transaction applied is fenced at the last one's `commitLsn` instead (the
   * checkpoint makes it durable), or taken after `sync()`.
   */
  safeCheckpointLsn(): number {
    return this.#tx.safeCheckpointLsn(this.#durableLsn);
  }

  /**
   * Checkpoint in one call, once the caller's snapshot covers every transaction committed at or below
   * `snapshotLsn`: append the marker, make it durable, and delete the sealed segments the snapshot makes
   * unnecessary (`truncateUpTo(snapshotLsn)`). Reopen with `checkpointLsn: snapshotLsn`.
   * @throws {@link WalError} as {@link Wal.checkpointMarker} (nothing written), {@link Wal.forceFsync} and
   *   {@link Wal.truncateUpTo}. A truncation that fails (a damaged slot file, `WAL_CORRUPT`, or a segment header that
   *   cannot be read) rejects the checkpoint after its marker is durable: the marker stands, nothing is deleted, and
   *   the handle stays usable; once the cause is repaired, `truncateUpTo(snapshotLsn)` finishes the job.
   */
  async checkpoint(snapshotLsn: number): Promise<CheckpointInfo> {
    this.#assertUsable();
    assertLsnArgument("snapshotLsn", snapshotLsn);
    // One admitted call: a close() that starts meanwhile lets the whole checkpoint finish, so a checkpoint reported
    // as refused never leaves its marker written.
    return await this.#admission.admit(async () => {
      // A broken retain hold would refuse the truncation: refuse the checkpoint before its marker instead.
      this.#segments.holdPositions();
      const markerLsn = await this.#appendCheckpointMarker(snapshotLsn);
      await this.#pipeline.whenSynced(this.#nextLsn - 1, true);
      this.#assertTruncationFence(snapshotLsn);
      const removedSegments = await this.#truncate(snapshotLsn);
      return { markerLsn, snapshotLsn, removedSegments };
    });
  }

  // ---- transactions ----------------------------------------------------------------------------------------

  /**
   * Write a whole transaction (`TxBegin`, one `MutationBatch`, `TxCommit`) atomically into the buffer, then:
   * `perCommit` resolves after an fdatasync that began after these bytes were written (concurrent callers share
   * fsyncs); `group` and `none` resolve once the bytes are handed to the OS. An empty list writes nothing and
   * resolves `null`.
   *
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` (`events` is not an array), `WAL_ENCODE` /
   *   `WAL_RECORD_TOO_LARGE` (also for more events than `MAX_RECORD_BYTES`, before any is read; nothing written, no
   *   LSN used), `WAL_IO` (the write or fsync failed; the handle is now
   *   poisoned), `WAL_POISONED`, `WAL_CLOSED`.
   */
  commitTx(events: readonly E[]): Promise<CommitInfo | null> {
    // The common case stays synchronous up to the one promise the pipeline hands back: no rotation or structural
    // change pending, so the transaction is encoded into the buffer right here.
    try {
      // From here on only `read` is looked at: the caller's value is read once.
      const read = eventsArgument("commitTx", events);
      if (read.length === 0) {
        // No transaction: nothing is written, and nothing is done for it either (a full segment rotates only before
        // a transaction's begin, so waiting for a rotation or starting one would be writes no one asked for).
        this.#assertUsable();
        return Promise.resolve(null);
      }
      if ((TESTING_BUILD && this.#bugs.size > 0) || !this.#appendable(true)) {
        // The slow path encodes the events twice (on the side, then into the segment): each is read once, here.
        const copy = copyOfEvents("commitTx", read);
        return this.#admission.admit(() => this.#commitTxSlow(copy));
      }
      return this.#appendAndAwaitCommit(read);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `commitTx` of one or more events when it must wait for a rotation or a structural change first (or a planted bug
   * is on).
   */
  async #commitTxSlow(events: readonly E[]): Promise<CommitInfo> {
    const mayRotate = !(TESTING_BUILD && this.#bugs.has("rotate-inside-transaction"));
    // A refused transaction must change nothing, and waiting here may rotate (seal, create, fsync the directory):
    // encode it once on the side first, so an event that cannot be encoded is refused before any of that.
    assertLsnsLeft(this.#nextLsn, 3);
    encodeCommitTxInto(this.#nextLsn, events, this.#codec, new ByteWriter(256));
    while (!this.#appendable(mayRotate, true)) await this.#prepareAppend(mayRotate);
    if (TESTING_BUILD && this.#doubleNextBatch) {
      this.#doubleNextBatch = false;
      return await this.#appendAndAwaitCommit([...events, ...events]);
    }
    if (!(TESTING_BUILD && this.#bugs.has("rotate-inside-transaction")))
      return await this.#appendAndAwaitCommit(events);
    const writer = this.#pipeline.writer;
    const mark = writer.mark();
    const begin = this.#nextLsn;
    try {
      writer.append({ kind: "txBegin", lsn: begin }, this.#codec);
      if (writer.size >= this.#target) {
        // Planted bug: commit the buffer and rotate between the begin and the rest of the transaction.
        this.#nextLsn = begin + 1;
        this.#pipeline.noteAppended(begin);
        await this.#rotate();
        return await this.#finishCommitInNewSegment(begin, events);
      }
    } catch (error) {
      writer.rollback(mark);
      throw error;
    }
    writer.rollback(mark);
    return await this.#appendAndAwaitCommit(events);
  }

  /** Encode the transaction into the active writer (all or nothing) and wait as the sync mode says. */
  #appendAndAwaitCommit(events: readonly E[]): Promise<CommitInfo> {
    const begin = this.#nextLsn;
    assertLsnsLeft(begin, 3);
    const writer = this.#pipeline.writer;
    const recent = this.#feed.recent;
    const mark = recent === undefined ? 0 : writer.mark();
    writer.appendCommitTx(begin, events, this.#codec);
    if (recent !== undefined) {
      // With a low-level transaction open, the file's commit order is not the run of whole transactions memory holds.
      if (this.#tx.openTx.size === 0) recent.add(begin, writer.pendingSince(mark));
      else recent.clear();
    }
    const commitLsn = begin + 2;
    this.#nextLsn = begin + 3;
    this.#spans.markInside(begin, begin + 1);
    this.#pipeline.noteAppended(commitLsn, true);
    const acked = this.#awaitCommit(commitLsn, { beginLsn: begin, commitLsn });
    if (commitChannel.hasSubscribers) {
      const message = { dir: this.#dir, beginLsn: begin, commitLsn, events: events.length };
      acked.then(
        () => commitChannel.publish(message),
        () => undefined, // the caller sees the failure; poisoning is published on its own channel
      );
    }
    return acked;
  }

  async #finishCommitInNewSegment(begin: number, events: readonly E[]): Promise<CommitInfo> {
    const writer = this.#pipeline.writer;
    writer.append({ kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events }, this.#codec);
    writer.append({ kind: "txCommit", lsn: begin + 2, txBeginLsn: begin }, this.#codec);
    this.#nextLsn = begin + 3;
    this.#spans.markInside(begin, begin + 1);
    this.#pipeline.noteAppended(begin + 2, true);
    return this.#awaitCommit(begin + 2, { beginLsn: begin, commitLsn: begin + 2 });
  }

  /** Resolves with `info` when the sync mode's acknowledgement point for `commitLsn` is reached. */
  #awaitCommit(commitLsn: number, info: CommitInfo): Promise<CommitInfo> {
    if (this.#syncMode.mode === "perCommit" && !(TESTING_BUILD && this.#bugs.has("ack-before-fsync"))) {
      return this.#pipeline.whenSynced(commitLsn, false, info);
    }
    return this.#pipeline.writeThrough(commitLsn, info);
  }

  // ---- durability ------------------------------------------------------------------------------------------

  /**
   * Flush per the mode: `perCommit` writes and fsyncs (`durableLsn` advances), `group` only writes, `none`
   * writes and advances `durableLsn` without an fsync.
   * @throws {@link WalError} `WAL_IO` (now poisoned), `WAL_POISONED`, `WAL_CLOSED`.
   */
  async flush(): Promise<void> {
    this.#assertUsable();
    const lsn = this.#nextLsn - 1;
    if (this.#syncMode.mode === "perCommit") await this.#pipeline.whenSynced(lsn);
    else await this.#pipeline.whenWritten(lsn);
  }

  /**
   * Write and fdatasync everything appended so far, in every mode; `durableLsn` advances to `nextLsn - 1`.
   * @throws {@link WalError} `WAL_IO` (now poisoned), `WAL_POISONED`, `WAL_CLOSED`.
   */
  async forceFsync(): Promise<void> {
    this.#assertUsable();
    await this.#pipeline.whenSynced(this.#nextLsn - 1, true);
  }

  /**
   * Same as {@link Wal.forceFsync}: data durable.
   * @throws {@link WalError} `WAL_IO` (now poisoned), `WAL_POISONED`, `WAL_CLOSED`.
   */
  sync(): Promise<void> {
    return this.forceFsync();
  }

  /**
   * Resolves once `lsn` is covered by an fdatasync, in every mode. In `perCommit` and `none` this starts a sync
   * round if needed; in `group` it waits for the flusher (at most `intervalMs`).
   * @throws {@link WalError} `WAL_POISONED`, `WAL_CLOSED`; `WAL_INVALID_ARGUMENT` for anything but a
   *   non-negative safe integer, or an LSN not yet allocated.
   */
  async whenDurable(lsn: number): Promise<void> {
    this.#assertUsable();
    assertLsnArgument("lsn", lsn);
    if (lsn >= this.#nextLsn) {
      throw new WalError("WAL_INVALID_ARGUMENT", `lsn ${lsn} has not been allocated (next is ${this.#nextLsn})`, {
        details: { path: this.#dir, lsn },
      });
    }
    if (this.#pipeline.syncedLsn >= lsn) return;
    try {
      if (this.#syncMode.mode === "group") {
        // The flusher (or any sync, rotation or close) will cover it; group mode never fsyncs on demand. While
        // someone waits on it, the flusher's timer keeps the process alive, or the promise could never settle.
        this.#flusher?.hold();
        try {
          await this.#pipeline.whenWritten(lsn);
          await this.#pipeline.whenSyncedPassively(lsn);
        } finally {
          this.#flusher?.release();
        }
      } else {
        await this.#pipeline.whenSynced(lsn);
      }
    } catch (error) {
      if (this.#poison !== undefined && error !== this.#poison) throw error;
      throw this.#poison === undefined ? error : this.#poisonedError();
    }
  }

  // ---- retention -------------------------------------------------------------------------------------------

  /**
   * Delete sealed segments whose every record is at or below `fenceLsn` (usually a checkpoint's snapshot LSN).
   * The active segment and the one before it are always kept. Everything appended so far (a checkpoint marker
   * included) is made durable first, and the directory is fsynced after the deletions. Idempotent.
   *
   * The fence must be written already and, at or above the newest marker, lie outside every transaction: a fence
   * inside one would delete the segment holding its begin while its later records stay, and no fence could then
   * replay it. Such a fence is refused with nothing deleted. A fence below the oldest segment's base LSN minus one
   * has nothing left to delete and is accepted. Reopen with `checkpointLsn` at or above the fence.
   *
   * Valid replication slots and `retain` holds keep what they need. A slot created while the truncation runs (by this
   * process or another, or dropped and created again) counts from the deletion after its file appears: every slot file
   * is read again before each deletion, which stops before the first segment such a slot needs (a deletion already
   * under way completes: a slot whose file appears just before it can be left with its restart point gone, which a
   * follower reports as `WAL_TRUNCATED`). A failure to list or read `slots/` at that point stops the deletions early
   * (the count says how many went; a failure there is not an error of this call), and the next truncation plans again
   * and reports a damaged file.
   * @returns how many segments were deleted.
   * @throws {@link WalError} `WAL_BAD_CHECKPOINT`, `WAL_INVALID_ARGUMENT`, `WAL_IO`, `WAL_BAD_HEADER`,
   *   `WAL_CORRUPT` (a damaged replication slot file), `WAL_POISONED`, `WAL_CLOSED`. A failure to read a segment's
   *   header or a slot's file deletes nothing and leaves the handle usable; a failed deletion or slot invalidation
   *   poisons it (a slot dropped while it was being invalidated is not a failure: it holds back nothing).
   */
  async truncateUpTo(fenceLsn: number): Promise<number> {
    this.#assertUsable();
    assertLsnArgument("fenceLsn", fenceLsn);
    this.#assertTruncationFence(fenceLsn);
    return await this.#admission.admit(() => this.#truncate(fenceLsn));
  }

  /** @throws {@link WalError} `WAL_BAD_CHECKPOINT` for a fence truncation must refuse (nothing deleted). */
  #assertTruncationFence(fenceLsn: number): void {
    // Below the floor every LSN is already fenced off by a boundary at the floor, so deleting there cannot cut a
    // transaction that a reopen at the floor would meet; below the oldest segment's base minus one there is nothing
    // left to delete.
    if (fenceLsn >= this.#tx.lowestFence || fenceLsn >= this.#nextLsn) {
      this.#tx.assertFence(fenceLsn, "truncation fence", this.#nextLsn, this.#durableLsn);
    }
  }

  async #truncate(fenceLsn: number): Promise<number> {
    await this.#pipeline.whenSynced(this.#nextLsn - 1);
    return await this.#exclusive(async () => {
      const oldest = this.#segments.oldestId;
      // Planned before anything is deleted: a failure there (a hold's mistake, a damaged slot file, a read error)
      // changed nothing and is refused as it is; only the deletions and invalidations, which write, poison when they
      // fail.
      const plan = await this.#segments.planTruncation(fenceLsn);
      const { removed, oldestBaseLsn } = await this.#io(() => this.#segments.truncate(plan));
      // No fence below what the log still holds is accepted from now on: the spans there are forgotten.
      if (oldestBaseLsn !== undefined) this.#tx.retainedFrom(oldestBaseLsn);
      if (removed > 0) this.#feed.wake();
      if (removed > 0 && truncateChannel.hasSubscribers) {
        // Truncation removes the oldest segments, in order.
        const removedSegmentIds = Array.from({ length: this.#segments.oldestId - oldest }, (_, i) => oldest + i);
        truncateChannel.publish({ dir: this.#dir, fenceLsn, removedSegmentIds });
      }
      return removed;
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /**
   * Write and fsync what is buffered, stop the flusher, close the segment and release the lock. Idempotent. A
   * poisoned handle skips the final write (its buffer cannot be trusted) but still releases the lock.
   *
   * A resolved close means every commit this handle acknowledged survives a power loss. When that cannot hold
   * (in `group` or `none` mode a commit was acknowledged once written, and the handle was poisoned before an
   * fsync covered it: a background fsync failed, or the lock was lost), close releases the lock and then rejects
   * with `WAL_POISONED`, whose `cause` is the first failure; reopen the log to go on.
   * @throws {@link WalError} `WAL_IO` when the final write or fsync fails (the lock is released anyway);
   *   `WAL_POISONED` as above; `WAL_IO` when only releasing the directory lock failed: the log is then closed and
   *   durable as for a resolved close, the message says so and that this process may still hold the lock (`cause` is
   *   the release's error). Either way the handle is over: every later call is refused `WAL_CLOSED`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  /** `await using` support: the same as {@link Wal.close}. @throws {@link WalError} as {@link Wal.close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #doClose(): Promise<void> {
    this.#flusher?.stop();
    let failure: unknown;
    // A failed release of the lock, thrown only when nothing else failed: the log is closed and durable by then.
    let releaseError: ReleaseFailure | undefined;
    try {
      // Calls made before close() finish first (they may need a rotation); calls made after it were refused.
      while (this.#admission.pending > 0 || this.#structural !== undefined) {
        if (this.#admission.pending > 0) await this.#admission.settled();
        else await this.#structural?.catch(() => undefined);
      }
      this.#closed = true;
      this.#segments.stopSpares();
      const lost = this.#lock.check();
      if (lost !== null) this.#poisonWith(lost);
      if (this.#poison === undefined && !(TESTING_BUILD && this.#bugs.has("drop-pending-on-close"))) {
        await this.#pipeline.exclusive(async () => {
          // A closed log's active segment is as long as its records, as LoraDB leaves one: one step, so the last
          // write is not zero-filled ahead of only for those zeros to be cut off, and one fsync covers the cut.
          await this.#pipeline.writer.flush({ trimZeroTail: true });
          this.#pipeline.flushedOutside();
        });
      }
    } catch (error) {
      failure = error;
      this.#poisonWith(error);
    } finally {
      // Whatever is still buffered here must not reach the file: the handle is poisoned (a lost lock, a failed
      // write) or the flush above already wrote everything. SegmentWriter.close() would write it.
      await this.#pipeline.writer.discardAndClose().catch(() => undefined);
      await this.#segments.close(this.#poison === undefined ? this.#pipeline.syncedLsn : null).catch(() => undefined);
      this.#lifecycleOver = true;
      this.#feed.end();
      releaseError = await releaseOutcome(this.#lock);
      const closed = new WalError("WAL_CLOSED", `WAL is closed: ${this.#dir}`, { details: { path: this.#dir } });
      this.#pipeline.fail(this.#poison ?? closed);
    }
    // The close's own failure (and the poisoned handle's, below) say more than the lock's.
    if (failure !== undefined) throw failure;
    // In perCommit mode nothing is acknowledged before its fsync; in the other modes a commit is once written.
    // A rotation that failed after its seal poisoned the handle, but the seal fsynced everything before it: counted.
    const acked = this.#pipeline.writtenCommitLsn;
    const synced = this.#pipeline.fsyncCoveredLsn;
    if (this.#poison !== undefined && this.#syncMode.mode !== "perCommit" && acked > synced) {
      throw new WalError(
        "WAL_POISONED",
        `WAL closed poisoned: commits up to LSN ${acked} were acknowledged as written and no fsync covers those above ${synced}; reopen the log (it rewrites and fsyncs what the file still holds)`,
        { cause: this.#poison, details: { path: this.#dir, syncedLsn: synced, writtenLsn: acked } },
      );
    }
    if (releaseError !== undefined) throw lockReleaseFailed(this.#dir, releaseError.error);
  }

  // ---- internals -------------------------------------------------------------------------------------------

  /**
   * @param admitted the call was made before `close()`: it may still finish while the close waits for it.
   * @throws {@link WalError} `WAL_CLOSED`, `WAL_POISONED`.
   */
  #assertUsable(admitted = false): void {
    if (this.#closed || (!admitted && this.#closing !== undefined)) {
      throw new WalError("WAL_CLOSED", `WAL is closed: ${this.#dir}`, { details: { path: this.#dir } });
    }
    if (this.#poison !== undefined) throw this.#poisonedError();
  }

  /**
   * A listener or a hold on a closed handle would never hear or hold anything (its `closed` event is reported,
   * truncation cannot run): refused, so a caller such as the archiver does not go on as if attached. Until `close()`
   * has reported `closed`, a closing (or poisoned) handle still accepts them.
   * @throws {@link WalError} `WAL_CLOSED`.
   */
  #assertNotClosed(what: string): void {
    if (this.#lifecycleOver) {
      throw new WalError("WAL_CLOSED", `${what}: WAL is closed: ${this.#dir}`, { details: { path: this.#dir } });
    }
  }

  #poisonedError(): WalError {
    return new WalError("WAL_POISONED", "WAL is poisoned: a previous append failed and the log is no longer durable", {
      cause: this.#poison,
      details: { path: this.#dir },
    });
  }

  #poisonWith(error: unknown): void {
    if (this.#poison !== undefined) return;
    if (isWalError(error, "WAL_CLOSED")) return;
    this.#poison = error;
    this.#pipeline.fail(error);
    if (poisonChannel.hasSubscribers) poisonChannel.publish({ dir: this.#dir, error });
    this.#feed.end();
  }

  /**
   * Whether an append may go into the active writer right now: no rotation or truncation running and, when
   * `mayRotate`, the segment not full. Callers loop `while (!this.#appendable(m)) await this.#prepareAppend(m)`
   * and append in the same synchronous step as the last check: a rotation starting between an awaited check
   * and the append would seal the writer after its final write and drop the appended bytes (found by
   * apps/torture; regression test in wal.append-vs-rotation.test.ts).
   * @throws {@link WalError} `WAL_CLOSED`, `WAL_POISONED`.
   */
  #appendable(mayRotate: boolean, admitted = false): boolean {
    this.#assertUsable(admitted);
    if (this.#structural !== undefined) return false;
    return !(mayRotate && this.#segmentFull());
  }

  /**
   * Whether the active segment has reached the rotation target. One that holds no record yet is never full: with a
   * target at or below the header's size, it would be sealed and replaced by another empty one without end. Nor is
   * the segment with id `Number.MAX_SAFE_INTEGER`.
   */
  #segmentFull(): boolean {
    if (this.#rotateBeforeFirstRecord) return true;
    // The segment with the last safe id has no successor to rotate to (its name could not be listed): it takes every
    // later record past its target, rather than being sealed and leaving a log no open can resume.
    if (this.#segments.activeId >= Number.MAX_SAFE_INTEGER) return false;
    const size = this.#pipeline.writer.size;
    return size >= this.#target && size > SEGMENT_HEADER_BYTES;
  }

  /** Wait out a rotation or truncation, or (when `mayRotate`) rotate a full segment. */
  async #prepareAppend(mayRotate: boolean): Promise<void> {
    if (this.#structural !== undefined) await this.#structural.catch(() => undefined);
    else if (mayRotate && this.#segmentFull()) await this.#rotate();
  }

  /**
   * Append one buffered record: at once when the writer is free (the common case costs one settled promise), else
   * after the rotation or structural change in the way. Errors come back as a rejected promise, never thrown.
   */
  #buffered(mayRotate: boolean, build: (lsn: number) => WalRecord<E>): Promise<number> {
    try {
      if (this.#appendable(mayRotate)) {
        const lsn = this.#appendRecord(build);
        const pending = this.#pipeline.writer.pendingBytes;
        // Below the spill size, or spilled just now: the common case.
        if (pending < SPILL_BYTES) return Promise.resolve(lsn);
        if (pending >= BACKPRESSURE_BYTES) return this.#pipeline.whenWritten(lsn, lsn);
        const written = this.#pipeline.writer.writtenBytes;
        return this.#spillTurns.turn(lsn, pending, written, this.#spill) ?? Promise.resolve(lsn);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#admission.admit(() => this.#bufferedAfterWait(mayRotate, build));
  }

  async #bufferedAfterWait(mayRotate: boolean, build: (lsn: number) => WalRecord<E>): Promise<number> {
    // Before any rotation: a refused record must change nothing (a rotation seals and creates files).
    assertLsnsLeft(this.#nextLsn, 1);
    while (!this.#appendable(mayRotate, true)) await this.#prepareAppend(mayRotate);
    return this.#appendRecord(build);
  }

  #appendRecord(build: (lsn: number) => WalRecord<E>): number {
    const lsn = this.#nextLsn;
    assertLsnsLeft(lsn, 1);
    const writer = this.#pipeline.writer;
    const record = build(lsn);
    writer.append(record, this.#codec);
    this.#nextLsn = lsn + 1;
    const kind = record.kind;
    this.#pipeline.noteAppended(lsn, kind === "txCommit");
    // Transaction bookkeeping once the record is in the buffer (a failed encode changed nothing).
    if (kind === "txBegin") this.#tx.beginTx(lsn);
    else if (kind === "txCommit" || kind === "txAbort") this.#tx.finishTx(record.txBeginLsn, lsn);
    if (writer.pendingBytes >= SPILL_BYTES) this.#pipeline.spill();
    return lsn;
  }

  /** Run `work` with appends held back and the commit pipeline idle. */
  async #exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.#structural !== undefined) await this.#structural.catch(() => undefined);
    // Checked again here, in the same turn as the work starts: a poisoning may have come while waiting. Structural
    // work runs only for calls admitted before any close, so only a finished close refuses it.
    this.#assertUsable(true);
    const run = this.#pipeline.exclusive(work);
    this.#structural = run;
    try {
      return await run;
    } finally {
      if (this.#structural === run) this.#structural = undefined;
    }
  }

  /** Seal the active segment and start the next one with base `nextLsn`. Any failure poisons. */
  #rotate(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#poison !== undefined) throw this.#poisonedError();
      const lost = this.#lock.check();
      if (lost !== null) {
        this.#poisonWith(lost);
        throw this.#poisonedError();
      }
      const old = this.#pipeline.writer;
      if (!this.#segmentFull() && !(TESTING_BUILD && this.#bugs.has("rotate-inside-transaction"))) return;
      const sealedSegmentId = this.#segments.activeId;
      const writer = await this.#io(() => this.#segments.rotate(old, this.#nextLsn, () => this.#pipeline.sealed()));
      this.#rotateBeforeFirstRecord = false;
      if (rotateChannel.hasSubscribers) {
        const newSegmentId = this.#segments.activeId;
        rotateChannel.publish({ dir: this.#dir, sealedSegmentId, newSegmentId, baseLsn: writer.baseLsn });
      }
      this.#pipeline.sealedAndReplaced(writer);
      await old.close().catch(() => undefined);
      this.#feed.wake();
    });
  }

  /** Run an I/O step whose failure poisons the handle. */
  async #io<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.#poisonWith(error);
      throw error;
    }
  }
}
