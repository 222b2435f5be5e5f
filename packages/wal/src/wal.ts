/**
 * The `Wal` handle: one writer per directory, LoraDB's on-disk format, three sync modes with group commit,
 * rotation at transaction boundaries, checkpoint truncation, and poisoning on the first failed write or fsync.
 */

import {
  isWalError,
  loraCodec,
  type MutationEvent,
  type PayloadCodec,
  WalError,
  type WalRecord,
} from "@lora/wal-codec";
import { RECOVERY_MODES, type RecoveryMode, type ReplayedTransaction, type ReplayOutcome } from "@lora/wal-replay";
import {
  createNodeFileSystem,
  listSegments,
  SegmentReader,
  SegmentWriter,
  segmentPath,
  type WalFileSystem,
} from "@lora/wal-segment";
import { CommitPipeline } from "./commit-pipeline.js";
import { type HeldLock, lockDirectory } from "./handle-lock.js";
import { type HealAction, recoverDir } from "./recover-dir.js";
import { normalizeSyncMode, type SyncMode, type SyncModeInput } from "./sync-mode.js";
import { type Failpoint, noFailpoint, type PlantedBug, type WalTestingOptions } from "./testing-hooks.js";

/**
 * Buffered appends (`begin`/`append`/`appendBatch`/...) hand the buffer to the OS once it holds this much, rather
 * than letting it grow to a whole segment before the next flush: the buffer is copied on every doubling, and a
 * smaller one stays in the CPU cache. Nothing about durability changes (written is not synced).
 */
const SPILL_BYTES = 512 * 1024;

/** LoraDB's default segment size. */
export const DEFAULT_SEGMENT_TARGET_BYTES = 8 * 1024 * 1024;

/** Options of {@link Wal.open}. `E` is the event type the codec reads and writes. */
export interface WalOptions<E> {
  /** Payload codec. @default loraCodec (LoraDB's LW1 mutation events) */
  readonly codec?: PayloadCodec<E>;
  /** When `commitTx` resolves and who fsyncs (see {@link SyncMode}). @default "perCommit" */
  readonly syncMode?: SyncModeInput;
  /** Rotate to a new segment at a transaction boundary once the active one holds this many bytes. @default 8 MiB */
  readonly segmentTargetBytes?: number;
  /** The fence: records at or below it are already in the caller's snapshot and are not replayed. @default 0 */
  readonly checkpointLsn?: number;
  /** What to do with damage found at open (see `RecoveryMode`). @default "tolerate-torn-tail" */
  readonly recovery?: RecoveryMode;
  /**
   * Streaming open: each committed transaction is handed here (awaited) instead of being collected into
   * `events`, so memory is bounded by the largest transaction.
   */
  readonly onTransaction?: (tx: ReplayedTransaction<E>) => void | Promise<void>;
  /** The file-system seam. @default the Node file system (with the LoraDB-compatible `flock` lock) */
  readonly fs?: WalFileSystem;
  /** How long to retry a contended directory lock. @default 100 */
  readonly lockRetryMs?: number;
  /**
   * Run fdatasync on the event-loop thread (a blocking call) instead of libuv's thread pool. Durability is the same
   * — `perCommit` still resolves only after an fdatasync that began after the commit's bytes were written — but
   * each fsync stalls the event loop for its duration (tens of microseconds on an SSD's cache, milliseconds on a
   * disk). What it buys: no thread-pool round trip per sync round, which on a small VM is as long as the fsync
   * itself, so one awaiting writer commits up to ~1.8× faster (see apps/bench). For processes that do little but
   * write the log, as with better-sqlite3's synchronous API; leave it off in servers that must stay responsive.
   * Concurrent commits still share a sync round. Ignored (the thread pool is used) when the file-system seam has no
   * `datasyncSync`. @default false
   */
  readonly blockingSync?: boolean;
  /** Crash-testing hooks; never needed in production. */
  readonly testing?: WalTestingOptions;
}

/** What {@link Wal.open} resolves to: the handle and everything recovery found. */
export interface OpenResult<E> {
  /** The open handle; it holds the directory lock until `close()`. */
  readonly wal: Wal<E>;
  /** Committed events in commit order (empty with `onTransaction`). Apply them before writing. */
  readonly events: E[];
  /** Everything replay found (null for a new directory). */
  readonly replay: ReplayOutcome | null;
  /** The torn tail that was cut, if any. */
  readonly tornTail: ReplayOutcome["tornTail"];
  /** The newest checkpoint marker above the fence, if any (informational). */
  readonly checkpointLsnObserved: number | null;
  /** Repairs recovery made (cut tails, healed rotations), each with where the cut bytes were kept. */
  readonly healed: readonly HealAction[];
}

/** What `commitTx` wrote. */
export interface CommitInfo {
  /** LSN of the `TxBegin` record: the transaction's name in the log. */
  readonly beginLsn: number;
  /** LSN of the `TxCommit` record (`beginLsn + 2`). */
  readonly commitLsn: number;
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
  readonly #lock: HeldLock;
  readonly #pipeline: CommitPipeline;
  readonly #failpoint: Failpoint;
  readonly #bugs: ReadonlySet<PlantedBug>;
  #nextLsn: number;
  #durableLsn: number;
  #activeId: number;
  #oldestId: number;
  #lastSnapshot: number;
  #poison: unknown;
  #closed = false;
  #closing: Promise<void> | undefined;
  #structural: Structural | undefined;
  #flusher: ReturnType<typeof setInterval> | undefined;
  /** `whenDurable` calls waiting for the group flusher. */
  #durableWaits = 0;

  private constructor(init: {
    dir: string;
    fs: WalFileSystem;
    codec: PayloadCodec<E>;
    syncMode: SyncMode;
    blockingSync: boolean;
    target: number;
    lock: HeldLock;
    writer: SegmentWriter;
    nextLsn: number;
    durableLsn: number;
    activeId: number;
    oldestId: number;
    lastSnapshot: number;
    failpoint: Failpoint;
    bugs: ReadonlySet<PlantedBug>;
  }) {
    this.#dir = init.dir;
    this.#fs = init.fs;
    this.#codec = init.codec;
    this.#syncMode = init.syncMode;
    this.#target = init.target;
    this.#lock = init.lock;
    this.#nextLsn = init.nextLsn;
    this.#durableLsn = init.durableLsn;
    this.#activeId = init.activeId;
    this.#oldestId = init.oldestId;
    this.#lastSnapshot = init.lastSnapshot;
    this.#failpoint = init.failpoint;
    this.#bugs = init.bugs;
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
          if (this.#syncMode.mode === "none" && lsn > this.#durableLsn) this.#durableLsn = lsn;
        },
        onSynced: (lsn) => {
          if (lsn > this.#durableLsn) this.#durableLsn = lsn;
        },
        retrySyncAfterFailure: init.bugs.has("retry-fsync-after-eio")
          ? () => fsyncAgain(this.#fs, this.#pipeline.writer.path)
          : undefined,
      },
      { blockingSync: init.blockingSync },
    );
    if (this.#syncMode.mode === "group") this.#startFlusher(this.#syncMode.intervalMs);
  }

  /**
   * Open (or create) the log in `dir`: create the directory, take the lock, replay, heal (DESIGN §3.3), act on a
   * torn tail as `recovery` says, and resume at `max(maxLsn + 1, active base, checkpointLsn + 1)`.
   *
   * @throws {@link WalError} `WAL_INVALID_OPTION`, `WAL_LOCKED` (another handle, in any process, holds the
   *   directory), `WAL_CORRUPT`, `WAL_TORN_TAIL` (absolute mode), `WAL_MALFORMED`, `WAL_BAD_HEADER`, `WAL_IO`.
   *   The lock is released before any error is thrown.
   */
  static async open<E = MutationEvent>(dir: string, options: WalOptions<E> = {}): Promise<OpenResult<E>> {
    const codec = (options.codec ?? loraCodec) as PayloadCodec<E>;
    validateCodec(codec);
    const syncMode = normalizeSyncMode(options.syncMode);
    const target = options.segmentTargetBytes ?? DEFAULT_SEGMENT_TARGET_BYTES;
    if (!Number.isSafeInteger(target) || target < 1) {
      throw new WalError("WAL_INVALID_OPTION", `segmentTargetBytes must be a positive integer, got ${String(target)}`);
    }
    const fence = options.checkpointLsn ?? 0;
    if (!Number.isSafeInteger(fence) || fence < 0) {
      throw new WalError(
        "WAL_INVALID_OPTION",
        `checkpointLsn must be a non-negative safe integer, got ${String(fence)}`,
      );
    }
    const recovery = options.recovery ?? "tolerate-torn-tail";
    if (!RECOVERY_MODES.includes(recovery)) {
      throw new WalError("WAL_INVALID_OPTION", `unknown recovery mode ${String(recovery)}`);
    }
    if (options.onTransaction !== undefined && typeof options.onTransaction !== "function") {
      throw new WalError("WAL_INVALID_OPTION", "onTransaction must be a function");
    }
    const blockingSync = options.blockingSync ?? false;
    if (typeof blockingSync !== "boolean") {
      throw new WalError("WAL_INVALID_OPTION", `blockingSync must be a boolean, got ${String(blockingSync)}`);
    }
    const fs = options.fs ?? createNodeFileSystem();
    const failpoint = options.testing?.failpoint ?? noFailpoint;
    const bugs = new Set(options.testing?.plantedBugs ?? []);

    await fs.mkdirp(dir);
    const lock = await lockDirectory(fs, dir, options.lockRetryMs);
    failpoint("lock.afterAcquire");
    try {
      const r = await recoverDir({
        fs,
        dir,
        codec,
        checkpointLsn: fence,
        recovery,
        writerOptions: {},
        onTransaction: options.onTransaction,
        failpoint,
        bugs,
      });
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
        // LoraDB's rule: everything readable at open survived to this open.
        durableLsn: r.maxLsn,
        activeId: r.activeSegmentId,
        oldestId: r.oldestSegmentId,
        lastSnapshot: r.outcome?.checkpointLsnObserved ?? 0,
        failpoint,
        bugs,
      });
      return {
        wal,
        events: r.events,
        replay: r.outcome,
        tornTail: r.outcome?.tornTail ?? null,
        checkpointLsnObserved: r.outcome?.checkpointLsnObserved ?? null,
        healed: r.healed,
      };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  // ---- accessors -------------------------------------------------------------------------------------------

  /** The log directory this handle owns. */
  dir(): string {
    return this.#dir;
  }

  /** The sync mode in effect (normalised: `"group"` carries its interval). */
  syncMode(): SyncMode {
    return this.#syncMode;
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

  /** The first failure that poisoned the handle, as text; `null` while healthy. */
  bgFailure(): string | null {
    if (this.#poison === undefined) return null;
    return this.#poison instanceof Error ? this.#poison.message : String(this.#poison);
  }

  /** Id of the oldest segment still in the directory (rises as `truncateUpTo` deletes segments). */
  oldestSegmentId(): number {
    return this.#oldestId;
  }

  /** Id of the segment being appended to (the highest id). */
  activeSegmentId(): number {
    return this.#activeId;
  }

  /** Write and fsync counts of the commit pipeline (for tests and benchmarks). */
  ioStats(): { readonly writes: number; readonly syncs: number } {
    return { ...this.#pipeline.stats };
  }

  // ---- low-level records -----------------------------------------------------------------------------------

  /**
   * Append a `TxBegin` (buffered). Rotation happens here, so a transaction begun with `begin` starts in the
   * segment it is appended to.
   * @returns the begin LSN, which names the transaction.
   * @throws {@link WalError} `WAL_CLOSED`, `WAL_POISONED`, `WAL_IO` (rotation failed; the handle is poisoned).
   */
  begin(): Promise<number> {
    return this.#buffered(true, (lsn) => ({ kind: "txBegin", lsn }));
  }

  /** Append one event to transaction `txBeginLsn` (buffered). @throws `WAL_ENCODE` and as {@link Wal.begin}. */
  append(txBeginLsn: number, event: E): Promise<number> {
    return this.#buffered(false, (lsn) => ({ kind: "mutation", lsn, txBeginLsn, event }));
  }

  /**
   * Append several events as one `MutationBatch` record (buffered).
   * @throws {@link WalError} `WAL_ENCODE` (also for an empty batch), `WAL_RECORD_TOO_LARGE`, and as {@link Wal.begin}.
   */
  appendBatch(txBeginLsn: number, events: readonly E[]): Promise<number> {
    return this.#buffered(false, (lsn) => {
      if (events.length === 0) throw new WalError("WAL_ENCODE", "mutation batch must contain at least one event");
      return { kind: "mutationBatch", lsn, txBeginLsn, events };
    });
  }

  /**
   * Append a `TxCommit` (buffered; durability comes with `flush`, `sync` or the mode).
   * @throws {@link WalError} as {@link Wal.begin}.
   */
  commit(txBeginLsn: number): Promise<number> {
    return this.#buffered(false, (lsn) => ({ kind: "txCommit", lsn, txBeginLsn }));
  }

  /**
   * Append a `TxAbort` (buffered). Replay drops the transaction.
   * @throws {@link WalError} as {@link Wal.begin}.
   */
  abort(txBeginLsn: number): Promise<number> {
    return this.#buffered(false, (lsn) => ({ kind: "txAbort", lsn, txBeginLsn }));
  }

  /**
   * Append a checkpoint marker saying a snapshot covering everything up to `snapshotLsn` exists (buffered;
   * follow with `sync()`). The snapshot LSN must not be in the future and must not regress below an earlier
   * marker, or replay would reject the log.
   * @throws {@link WalError} `WAL_ENCODE` for such a snapshot LSN, and as {@link Wal.begin}.
   */
  async checkpointMarker(snapshotLsn: number): Promise<number> {
    while (!this.#appendable(false)) await this.#prepareAppend(false);
    if (!Number.isSafeInteger(snapshotLsn) || snapshotLsn < this.#lastSnapshot || snapshotLsn >= this.#nextLsn) {
      throw new WalError(
        "WAL_ENCODE",
        `checkpoint snapshot lsn ${snapshotLsn} must be in [${this.#lastSnapshot}, ${this.#nextLsn - 1}]`,
      );
    }
    const lsn = this.#appendRecord((l) => ({ kind: "checkpoint", lsn: l, snapshotLsn }));
    this.#lastSnapshot = snapshotLsn;
    return lsn;
  }

  // ---- transactions ----------------------------------------------------------------------------------------

  /**
   * Write a whole transaction (`TxBegin`, one `MutationBatch`, `TxCommit`) atomically into the buffer, then:
   * `perCommit` resolves after an fdatasync that began after these bytes were written (concurrent callers share
   * fsyncs); `group` and `none` resolve once the bytes are handed to the OS. An empty list writes nothing and
   * resolves `null`.
   *
   * @throws {@link WalError} `WAL_ENCODE` / `WAL_RECORD_TOO_LARGE` (nothing written, no LSN used),
   *   `WAL_IO` (the write or fsync failed; the handle is now poisoned), `WAL_POISONED`, `WAL_CLOSED`.
   */
  commitTx(events: readonly E[]): Promise<CommitInfo | null> {
    // The common case stays synchronous up to the one promise the pipeline hands back: no rotation or structural
    // change pending, so the transaction is encoded into the buffer right here.
    try {
      if (this.#bugs.size > 0 || !this.#appendable(true)) return this.#commitTxSlow(events);
      if (events.length === 0) return Promise.resolve(null);
      return this.#appendAndAwaitCommit(events);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `commitTx` when it must wait for a rotation or a structural change first (or a planted bug is on). */
  async #commitTxSlow(events: readonly E[]): Promise<CommitInfo | null> {
    const mayRotate = !this.#bugs.has("rotate-inside-transaction");
    while (!this.#appendable(mayRotate)) await this.#prepareAppend(mayRotate);
    if (events.length === 0) return null;
    if (!this.#bugs.has("rotate-inside-transaction")) return await this.#appendAndAwaitCommit(events);
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
    this.#pipeline.writer.appendCommitTx(begin, events, this.#codec);
    const commitLsn = begin + 2;
    this.#nextLsn = begin + 3;
    this.#pipeline.noteAppended(commitLsn);
    return this.#awaitCommit(commitLsn, { beginLsn: begin, commitLsn });
  }

  async #finishCommitInNewSegment(begin: number, events: readonly E[]): Promise<CommitInfo> {
    const writer = this.#pipeline.writer;
    writer.append({ kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events }, this.#codec);
    writer.append({ kind: "txCommit", lsn: begin + 2, txBeginLsn: begin }, this.#codec);
    this.#nextLsn = begin + 3;
    this.#pipeline.noteAppended(begin + 2);
    return this.#awaitCommit(begin + 2, { beginLsn: begin, commitLsn: begin + 2 });
  }

  /** Resolves with `info` when the sync mode's acknowledgement point for `commitLsn` is reached. */
  #awaitCommit(commitLsn: number, info: CommitInfo): Promise<CommitInfo> {
    if (this.#syncMode.mode === "perCommit" && !this.#bugs.has("ack-before-fsync")) {
      return this.#pipeline.whenSynced(commitLsn, false, info);
    }
    return this.#pipeline.whenWritten(commitLsn, info);
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
   * @throws {@link WalError} `WAL_POISONED`, `WAL_CLOSED`; `RangeError` for an LSN not yet allocated.
   */
  async whenDurable(lsn: number): Promise<void> {
    this.#assertUsable();
    if (!Number.isSafeInteger(lsn) || lsn >= this.#nextLsn) {
      throw new RangeError(`lsn ${lsn} has not been allocated (next is ${this.#nextLsn})`);
    }
    if (this.#pipeline.syncedLsn >= lsn) return;
    try {
      if (this.#syncMode.mode === "group") {
        // The flusher (or any sync, rotation or close) will cover it; group mode never fsyncs on demand. While
        // someone waits on it, the flusher's timer keeps the process alive, or the promise could never settle.
        this.#durableWaits++;
        this.#flusher?.ref();
        try {
          await this.#pipeline.whenWritten(lsn);
          await this.#pipeline.whenSyncedPassively(lsn);
        } finally {
          if (--this.#durableWaits === 0) this.#flusher?.unref();
        }
      } else {
        await this.#pipeline.whenSynced(lsn);
      }
    } catch (error) {
      if (this.#poison !== undefined && error !== this.#poison) throw error;
      throw this.#poison === undefined ? error : this.#poisonedError();
    }
  }

  #startFlusher(intervalMs: number): void {
    // The timer never keeps the process alive, and an idle log is not fsynced.
    this.#flusher = setInterval(() => {
      if (this.#poison !== undefined || this.#closed || this.#structural !== undefined) return;
      const appended = this.#pipeline.appendedLsn;
      if (appended <= this.#pipeline.syncedLsn) return;
      this.#failpoint("group.beforeFsync");
      this.#pipeline.whenSynced(appended).then(
        () => this.#failpoint("group.afterFsync"),
        // A failure has already poisoned the handle through the pipeline.
        () => undefined,
      );
    }, intervalMs);
    this.#flusher.unref();
  }

  // ---- retention -------------------------------------------------------------------------------------------

  /**
   * Delete sealed segments whose every record is at or below `fenceLsn` (usually a checkpoint's snapshot LSN).
   * The active segment and the one before it are always kept. Everything appended so far (a checkpoint marker
   * included) is made durable first, and the directory is fsynced after the deletions. Idempotent.
   * @throws {@link WalError} `WAL_IO`, `WAL_BAD_HEADER`, `WAL_POISONED`, `WAL_CLOSED`.
   */
  async truncateUpTo(fenceLsn: number): Promise<void> {
    this.#assertUsable();
    if (!Number.isSafeInteger(fenceLsn) || fenceLsn < 0) {
      throw new RangeError(`fenceLsn must be a non-negative safe integer, got ${fenceLsn}`);
    }
    await this.#pipeline.whenSynced(this.#nextLsn - 1);
    await this.#exclusive(async () => {
      const entries = await listSegments(this.#fs, this.#dir);
      const drop = [];
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i] as (typeof entries)[number];
        if (entry.id >= this.#activeId - 1) break;
        const next = entries[i + 1];
        if (next === undefined) break;
        const reader = await SegmentReader.open(this.#fs, next.path);
        const nextBase = reader.header.baseLsn;
        await reader.close();
        if (nextBase - 1 <= fenceLsn) drop.push(entry);
      }
      if (drop.length === 0) return;
      this.#failpoint("truncate.beforeUnlink");
      // Oldest first, each removal made durable before the next: a crash can then only leave a shorter prefix
      // removed, never a hole in the middle of the segment ids.
      for (const entry of drop) {
        await this.#io(() => this.#fs.unlink(entry.path));
        this.#failpoint("truncate.afterUnlink");
        await this.#io(() => this.#fs.syncDir(this.#dir));
        this.#failpoint("truncate.afterDirFsync");
        if (entry.id >= this.#oldestId) this.#oldestId = entry.id + 1;
      }
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /**
   * Write and fsync what is buffered, stop the flusher, close the segment and release the lock. Idempotent. A
   * poisoned handle skips the final write (its buffer cannot be trusted) but still releases the lock.
   * @throws {@link WalError} `WAL_IO` when the final write or fsync fails (the lock is released anyway).
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
    if (this.#flusher !== undefined) clearInterval(this.#flusher);
    let failure: unknown;
    try {
      while (this.#structural !== undefined) await this.#structural.catch(() => undefined);
      this.#closed = true;
      if (this.#poison === undefined && !this.#bugs.has("drop-pending-on-close")) {
        await this.#pipeline.exclusive(async () => {
          const writer = this.#pipeline.writer;
          await writer.flush();
          this.#pipeline.flushedOutside();
        });
      }
    } catch (error) {
      failure = error;
      this.#poisonWith(error);
    } finally {
      await this.#pipeline.writer.close().catch(() => undefined);
      await this.#lock.release();
      const closed = new WalError("WAL_CLOSED", `WAL is closed: ${this.#dir}`, { details: { path: this.#dir } });
      this.#pipeline.fail(this.#poison ?? closed);
    }
    if (failure !== undefined) throw failure;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  #assertUsable(): void {
    if (this.#closed || this.#closing !== undefined) {
      throw new WalError("WAL_CLOSED", `WAL is closed: ${this.#dir}`, { details: { path: this.#dir } });
    }
    if (this.#poison !== undefined) throw this.#poisonedError();
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
  }

  /**
   * Whether an append may go into the active writer right now: no rotation or truncation running and, when
   * `mayRotate`, the segment not full. Callers loop `while (!this.#appendable(m)) await this.#prepareAppend(m)`
   * and append in the same synchronous step as the last check: a rotation starting between an awaited check
   * and the append would seal the writer after its final write and drop the appended bytes (found by
   * apps/torture; regression test in wal.append-vs-rotation.test.ts).
   * @throws {@link WalError} `WAL_CLOSED`, `WAL_POISONED`.
   */
  #appendable(mayRotate: boolean): boolean {
    this.#assertUsable();
    if (this.#structural !== undefined) return false;
    return !(mayRotate && this.#pipeline.writer.size >= this.#target);
  }

  /** Wait out a rotation or truncation, or (when `mayRotate`) rotate a full segment. */
  async #prepareAppend(mayRotate: boolean): Promise<void> {
    if (this.#structural !== undefined) await this.#structural.catch(() => undefined);
    else if (mayRotate && this.#pipeline.writer.size >= this.#target) await this.#rotate();
  }

  /**
   * Append one buffered record: at once when the writer is free (the common case costs one settled promise), else
   * after the rotation or structural change in the way. Errors come back as a rejected promise, never thrown.
   */
  #buffered(mayRotate: boolean, build: (lsn: number) => WalRecord<E>): Promise<number> {
    try {
      if (this.#appendable(mayRotate)) return Promise.resolve(this.#appendRecord(build));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#bufferedAfterWait(mayRotate, build);
  }

  async #bufferedAfterWait(mayRotate: boolean, build: (lsn: number) => WalRecord<E>): Promise<number> {
    while (!this.#appendable(mayRotate)) await this.#prepareAppend(mayRotate);
    return this.#appendRecord(build);
  }

  #appendRecord(build: (lsn: number) => WalRecord<E>): number {
    const lsn = this.#nextLsn;
    const writer = this.#pipeline.writer;
    writer.append(build(lsn), this.#codec);
    this.#nextLsn = lsn + 1;
    this.#pipeline.noteAppended(lsn);
    if (writer.pendingBytes >= SPILL_BYTES) this.#pipeline.spill();
    return lsn;
  }

  /** Run `work` with appends held back and the commit pipeline idle. */
  async #exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.#structural !== undefined) await this.#structural.catch(() => undefined);
    // Checked again here, in the same turn as the work starts: a close or a poisoning may have come while waiting.
    this.#assertUsable();
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
      const old = this.#pipeline.writer;
      if (old.size < this.#target && !this.#bugs.has("rotate-inside-transaction")) return;
      await this.#io(() => old.seal());
      this.#failpoint("rotate.afterSeal");
      const nextId = this.#activeId + 1;
      // The directory fsync is done here rather than inside create, so a failpoint can sit between the two.
      const writer = await this.#io(() =>
        SegmentWriter.create(this.#fs, segmentPath(this.#dir, nextId), this.#nextLsn, { syncDirectory: false }),
      );
      try {
        this.#failpoint("rotate.afterCreate");
        if (!this.#bugs.has("skip-dir-fsync-on-create")) await this.#io(() => this.#fs.syncDir(this.#dir));
        this.#failpoint("rotate.afterDirFsync");
      } catch (error) {
        await writer.close().catch(() => undefined);
        throw error;
      }
      this.#pipeline.sealedAndReplaced(writer);
      this.#activeId = nextId;
      await old.close().catch(() => undefined);
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

/** Planted bug `retry-fsync-after-eio`: fdatasync the file again through a fresh descriptor. */
async function fsyncAgain(fs: WalFileSystem, path: string): Promise<void> {
  const file = await fs.open(path, "readWrite");
  try {
    await file.datasync();
  } finally {
    await file.close();
  }
}

function validateCodec(codec: unknown): void {
  const c = codec as Partial<PayloadCodec<unknown>> | null;
  if (
    c === null ||
    typeof c !== "object" ||
    typeof c.encodeEvent !== "function" ||
    typeof c.encodeBatch !== "function" ||
    typeof c.decodeEvent !== "function" ||
    typeof c.decodeBatch !== "function"
  ) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      "codec must implement PayloadCodec (encodeEvent, encodeBatch, decodeEvent, decodeBatch)",
    );
  }
}
