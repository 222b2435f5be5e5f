/**
 * `followDir`: the live change feed for a consumer in another process than the writer. Read-only and lock-free, so
 * it runs beside a live `Wal` handle or a live LoraDB process.
 *
 * How it learns what is durable: a `@lora/wal` writer publishes its durable LSN in the directory's durable mark
 * (`.lora-wal.durable`, one pwrite of at most 76 bytes after each fsync that advanced it, never fsynced itself;
 * LoraDB ignores the file). When no live writer publishes one (LoraDB, a writer that crashed, a closed log), the
 * follower makes what it read durable itself (an fdatasync of the segments and the directory) before delivering it.
 *
 * How it is woken: a file-system watch on the directory (inotify on Linux) reports the mark's rewrites, appends,
 * new and removed segments at once; a polling timer is the fallback (network file systems, seams other than the
 * Node file system).
 */

import { type FSWatcher, watch } from "node:fs";
import {
  checkOptionNames,
  checkPath,
  checkPayloadCodec,
  checkSignal,
  isWalError,
  MAX_TIMER_MS,
  optionNames,
  optionOr,
  type PayloadCodec,
  shownValue,
  WalError,
} from "@lora/wal-codec";
import {
  DURABLE_MARK_FILE,
  DurableMarkReader,
  dataEndOf,
  fileSystemOption,
  isMissingFileError,
  type WalFileSystem,
} from "@lora/wal-segment";
import { CoalescedSlotMoves } from "./coalesced-slot-moves.js";
import { CommitFollower, type FollowDurability, type FollowSource } from "./commit-follower.js";
import { checkLogDir } from "./log-dir-check.js";
import { checkRestartLsn } from "./replay-options.js";
import type { CommittedTransaction } from "./replay-types.js";
import { advanceSlotToDelivered, isSlotName, readSlot } from "./replication-slots.js";
import { WatchWakeFilter } from "./watch-wake-filter.js";

/** Options of {@link followDir}. */
export interface FollowDirOptions<E> {
  /** Decodes mutation payloads. */
  readonly codec: PayloadCodec<E>;
  /**
   * The resume token's commit LSN: deliver the transactions committed above it (the `commitLsn` of the last one
   * processed) and, without `restartLsn`, begun above it. Not allowed with `slot`, which supplies the token.
   * @default 0
   */
  readonly after?: number;
  /**
   * The resume token's restart point (the `restartLsn` of the same transaction): the transactions begun at or above
   * it and committed above `after` are delivered, so one that began before `after` and committed after it
   * (low-level transactions used concurrently) is delivered whole. Between 1 and `after + 1`. @default after + 1
   */
  readonly restartLsn?: number;
  /** Resume from this replication slot's token; {@link Follower.confirm} advances it. */
  readonly slot?: string;
  /**
   * `durable` (default): deliver only what a crash cannot take back. `written`: deliver a transaction as soon as it
   * is whole in the file (lower latency; a crash of the machine may lose what was delivered).
   */
  readonly durability?: "durable" | "written";
  /** Stops the follower: the iteration ends (done), it does not throw. */
  readonly signal?: AbortSignal;
  /** How often to look for changes when no watch event comes. @default 250 */
  readonly pollIntervalMs?: number;
  /**
   * How long a live writer's published durable LSN may stay behind a whole transaction before the follower syncs
   * it itself (a writer in `none` mode never publishes one). @default 1000
   */
  readonly selfSyncAfterMs?: number;
  /** The file-system seam. @default Node's */
  readonly fs?: WalFileSystem;
  /**
   * Watch the directory for changes (inotify on Linux) besides polling. Needs the directory to be a real one: on by
   * default with Node's file system, off with another `fs` unless it is a wrapper over real files. @default !fs
   */
  readonly watch?: boolean;
}

/** Every option `followDir` reads; any other name is refused (`WAL_INVALID_OPTION`). */
export const FOLLOW_DIR_OPTION_NAMES = optionNames<FollowDirOptions<unknown>>()(
  "codec",
  "after",
  "restartLsn",
  "slot",
  "durability",
  "signal",
  "pollIntervalMs",
  "selfSyncAfterMs",
  "fs",
  "watch",
);

/** A resume token: what a {@link CommittedTransaction} carries. */
export interface ResumeToken {
  readonly commitLsn: number;
  readonly restartLsn: number;
}

/** A live change feed: an async iterable of committed transactions that waits for new ones. */
export interface Follower<E> extends AsyncIterableIterator<CommittedTransaction<E>> {
  /** The commit LSN of the last transaction delivered: the token's commit LSN (`after` before the first). */
  readonly position: number;
  /** The restart point of the last transaction delivered: the token's other half (the start's before the first). */
  readonly restartLsn: number;
  /**
   * Stop following (what a `break` out of `for await` calls): a waiting `next()` answers done, and so does every
   * `next()` after it, also when it is called before the first `next()` (the follower then never starts).
   */
  return(): Promise<IteratorResult<CommittedTransaction<E>>>;
  /**
   * Record in the slot the follower was opened with that everything up to a delivered transaction is processed,
   * durably (the writer's truncation keeps what a resume needs). Pass the transaction (or its token) for an exact
   * position. A bare commit LSN is matched to the token of the transaction delivered with it among the last
   * {@link CONFIRMABLE_TOKENS}; for any other LSN the slot keeps its restart point (nothing is lost, more is kept).
   * What was delivered is judged when `confirm` is called. The slot is written one write at a time; the calls made
   * while a write runs are written together by the next one, at their highest position (and highest restart point),
   * so a consumer may confirm every transaction without awaiting each and pays two fsyncs per write, not per call.
   * Each call resolves once a position at or above its own is durable (its own or a later call's); a failed write
   * rejects every call it was to cover, and the calls made after it are written by the next. The slot never moves
   * back through this follower: a call below an earlier one is refused whether that one is written yet or not.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` without a slot, for a position below the slot's or above the
   *   last transaction delivered ({@link Follower.position}: nothing changes), or for a token without a restart
   *   point or whose restart point lies above its commit LSN + 1, `WAL_SLOT_INVALIDATED`, `WAL_SLOT_NOT_FOUND`,
   *   `WAL_IO`.
   */
  confirm(position: number | ResumeToken): Promise<void>;
}

/** How many of the latest delivered transactions' tokens a follower with a slot remembers for `confirm(commitLsn)`. */
export const CONFIRMABLE_TOKENS = 4096;

/**
 * Follow the log in `dir` from another process: yields committed transactions after the resume token (`after`,
 * `restartLsn`, or the slot's) in commit order, each with its own token, waits for new ones, follows rotation, and
 * ends only when `signal` aborts or `return()` is called (a `break` out of `for await`), or when it fails: a `next()`
 * that rejects ends the follower (as an async generator's throw does), and every later `next()` is done; follow
 * again (from the slot, or from the last token) to go on. The committed transactions read before a failure (a hole in
 * the segment ids, truncation, damage) are delivered before it: the `next()` after the last of them rejects. Each
 * transaction is delivered once; by default only once it is durable, so a writer crash and recovery never take back a
 * delivered transaction, and a writer restart never makes one delivered twice or skipped.
 * @throws {@link WalError} (from the iteration) `WAL_TRUNCATED` when truncation removed records it still needed
 *   (`details.oldestRetainedLsn`; for segment ids missing mid-log, the base LSN of the segment after the hole),
 *   `WAL_SLOT_INVALIDATED`, `WAL_SLOT_NOT_FOUND`, `WAL_CORRUPT`, `WAL_MALFORMED`,
 *   `WAL_BAD_HEADER`, `WAL_IO`; at once `WAL_INVALID_ARGUMENT` for a `dir` that is not a non-empty string and
 *   `WAL_INVALID_OPTION` for bad options. A log directory that does not exist, or a file, is `WAL_IO` (`details.errno`
 *   `ENOENT` or `ENOTDIR`, "... is not a log directory", as `createSlot` says it) from the first `next()`, before a
 *   slot is read: a mistyped path fails rather than waits.
 */
export function followDir<E>(dir: string, given: FollowDirOptions<E>): Follower<E> {
  checkPath(dir);
  // Each option read once: what is checked is what the follower uses.
  const options = checkOptionNames(given, FOLLOW_DIR_OPTION_NAMES, "followDir");
  checkPayloadCodec(options.codec, "read");
  checkSignal(options.signal);
  const after = optionOr(options.after, 0);
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new WalError("WAL_INVALID_OPTION", `after must be a non-negative safe integer, got ${shownValue(after)}`);
  }
  const slotName: unknown = options.slot; // a caller's value, whatever its declared type
  if (slotName !== undefined && !isSlotName(slotName)) {
    const shown = typeof slotName === "string" ? JSON.stringify(slotName.slice(0, 80)) : typeof slotName;
    throw new WalError(
      "WAL_INVALID_OPTION",
      `followDir: slot must be a replication slot name (1 to 64 letters, digits, "_" or "-"), got ${shown}`,
    );
  }
  if (options.slot !== undefined && (options.after !== undefined || options.restartLsn !== undefined)) {
    throw new WalError("WAL_INVALID_OPTION", "give either after or slot: a slot supplies its own position");
  }
  checkRestartLsn(after, options.restartLsn);
  const durability = optionOr(options.durability, "durable");
  if (durability !== "durable" && durability !== "written") {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `durability must be "durable" or "written", got ${shownValue(durability)}`,
    );
  }
  const poll = optionOr(options.pollIntervalMs, 250);
  const selfSyncAfter = optionOr(options.selfSyncAfterMs, 1000);
  // The poll interval is a timer's delay, and a timer past 2^31 - 1 ms fires after 1 ms in Node: a poll every
  // millisecond instead of almost never. selfSyncAfterMs is only compared with the clock: any finite number >= 0.
  if (typeof poll !== "number" || !(poll >= 0) || poll > MAX_TIMER_MS) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `pollIntervalMs must be a number from 0 to 2^31 - 1, got ${shownValue(poll)}`,
    );
  }
  if (typeof selfSyncAfter !== "number" || !Number.isFinite(selfSyncAfter) || selfSyncAfter < 0) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `selfSyncAfterMs must be a non-negative number, got ${shownValue(selfSyncAfter)}`,
    );
  }
  if (options.watch !== undefined && typeof options.watch !== "boolean") {
    throw new WalError("WAL_INVALID_OPTION", `watch must be a boolean, got ${shownValue(options.watch)}`);
  }
  const fs = fileSystemOption(options.fs, "followDir");
  const watchable = optionOr(options.watch, options.fs === undefined);
  const source = new DirSource(dir, fs, watchable, poll, selfSyncAfter, durability === "durable");
  return new DirFollower<E>(dir, fs, options, after, durability, source);
}

class DirFollower<E> implements Follower<E> {
  readonly #dir: string;
  readonly #fs: WalFileSystem;
  readonly #slot: string | undefined;
  readonly #start: () => Promise<CommitFollower<E>>;
  #inner: Promise<CommitFollower<E>> | undefined;
  #ready: CommitFollower<E> | undefined;
  readonly #source: DirSource;
  #fallbackPosition: number;
  #fallbackRestart: number;
  /** `return()` was called: a follower not started yet never starts (the engine answers done once it ran). */
  #returned = false;
  /** The caller's signal: aborted before the first `next()`, the follower never starts either. */
  readonly #signal: AbortSignal | undefined;
  /**
   * The `confirm` writes, each after the one before it has settled (run side by side, each read the slot and renamed
   * its own file over it, so an earlier position renamed last won, after a later call had resolved), and the calls
   * made during one written together at their highest position: two fsyncs per write, not per call.
   */
  #confirms: CoalescedSlotMoves | undefined;

  constructor(
    dir: string,
    fs: WalFileSystem,
    options: FollowDirOptions<E>,
    after: number,
    durability: "durable" | "written",
    source: DirSource,
  ) {
    this.#dir = dir;
    this.#fs = fs;
    this.#slot = options.slot;
    this.#signal = options.signal;
    this.#source = source;
    this.#fallbackPosition = after;
    this.#fallbackRestart = optionOr(options.restartLsn, after + 1);
    this.#start = async () => {
      // Looked at first: a mistyped path fails rather than waits, and with a slot fails as the path it is, not as a
      // slot missing from it.
      await checkLogDir(fs, dir, "a follower follows an existing log; it does not wait for one to be created");
      let from = after;
      let restartLsn = options.restartLsn;
      if (options.slot !== undefined) {
        const slot = await readSlot(dir, options.slot, { fs });
        if (slot.invalidated !== null) throw slotInvalidated(dir, options.slot, slot.invalidated.oldestRetainedLsn);
        from = slot.confirmedLsn;
        restartLsn = slot.restartLsn;
        this.#fallbackPosition = from;
        this.#fallbackRestart = restartLsn;
      }
      const follower = new CommitFollower<E>({
        dir,
        fs,
        codec: options.codec,
        after: from,
        ...(restartLsn === undefined ? {} : { restartLsn }),
        ...(options.slot === undefined ? {} : { rememberTokens: CONFIRMABLE_TOKENS }),
        durability,
        source,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onTruncated: (error) => this.#slotError(error),
        // Ended in any way (done, failed, returned): the watch and the mark's file are released.
        onEnd: () => source.close(),
      });
      this.#ready = follower;
      return follower;
    };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  get position(): number {
    return this.#ready?.position ?? this.#fallbackPosition;
  }

  get restartLsn(): number {
    return this.#ready?.restartLsn ?? this.#fallbackRestart;
  }

  next(): Promise<IteratorResult<CommittedTransaction<E>>> {
    // Once started, straight to the engine: a follower catching up takes hundreds of thousands of transactions a
    // second, and a wrapping promise per transaction would cost a third of that. The engine closes the source when
    // it ends (onEnd).
    const ready = this.#ready;
    if (ready !== undefined) return ready.next();
    // Stopped before it started: an iterator's `next()` after `return()` is done (a shutdown that came before the
    // iteration must not start a follower that delivers everything after the token). So is one whose signal aborted
    // first: it would read the slot, and fail if it was gone, though a signal ends the iteration without an error.
    if (this.#inner === undefined && (this.#returned || this.#signal?.aborted === true)) {
      this.#source.close();
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#inner === undefined) {
      this.#inner = this.#start().catch((error: unknown) => {
        this.#source.close();
        throw error;
      });
      return this.#inner.then((inner) => inner.next());
    }
    // A start under way or failed. Failed, the follower is over, as the engine is after it throws (and an async
    // generator after a throw): the call that started it rejects with the error, this one and every later one are
    // done. Repeating the error made a consumer that logs a failure and asks again loop on it.
    return this.#inner.then(
      (inner) => inner.next(),
      () => ({ value: undefined, done: true }),
    );
  }

  async return(): Promise<IteratorResult<CommittedTransaction<E>>> {
    this.#returned = true;
    this.#source.close();
    if (this.#inner !== undefined) await (await this.#inner.catch(() => undefined))?.return();
    return { value: undefined, done: true };
  }

  confirm(position: number | ResumeToken): Promise<void> {
    let move: { readonly slot: string; readonly commitLsn: number; readonly restartLsn: number };
    try {
      move = this.#confirmation(position);
    } catch (error) {
      return Promise.reject(error);
    }
    // One write at a time: a call resolves with the slot at its position or a higher one, never moved back by an
    // earlier call still writing. A failed write does not stop the ones after it.
    const slot = move.slot;
    this.#confirms ??= new CoalescedSlotMoves(
      async ({ commitLsn, restartLsn }) => {
        await advanceSlotToDelivered(this.#dir, slot, commitLsn, { fs: this.#fs, restartLsn });
      },
      // What advanceSlot says once the earlier call is written, said before: the same answer whatever the timing.
      (behind, ahead) =>
        new WalError(
          "WAL_INVALID_ARGUMENT",
          `replication slot "${slot}" is being moved to LSN ${ahead.commitLsn} by an earlier confirm; it cannot move back to ${behind.commitLsn}`,
          { details: { slot, lsn: behind.commitLsn } },
        ),
    );
    return this.#confirms.request(move);
  }

  /**
   * What `confirm(position)` writes, decided when it is called (what the follower has delivered then, the token it
   * remembers then), each field of a token read once; throws its refusal.
   */
  #confirmation(position: number | ResumeToken): { slot: string; commitLsn: number; restartLsn: number } {
    const slot = this.#slot;
    if (slot === undefined) {
      throw new WalError("WAL_INVALID_ARGUMENT", "confirm needs a follower opened with a slot");
    }
    const token = typeof position === "object" && position !== null;
    const commitLsn = token ? position.commitLsn : position;
    // Only what was delivered can be processed: a slot moved past it would skip transactions on resume.
    if (typeof commitLsn === "number" && commitLsn > this.position) {
      throw new WalError(
        "WAL_INVALID_ARGUMENT",
        `cannot confirm commit lsn ${commitLsn}: this follower has delivered up to ${this.position}; confirm a delivered transaction`,
        { details: { lsn: commitLsn } },
      );
    }
    if (token) {
      const restartLsn = position.restartLsn;
      // Not defaulted to `commitLsn + 1` (what advanceSlot does without one): a transaction open at the token would
      // be skipped on resume. A bare commit LSN is the way to confirm without a restart point.
      if (restartLsn === undefined || restartLsn === null) {
        throw new WalError(
          "WAL_INVALID_ARGUMENT",
          `cannot confirm a token without its restartLsn (commit lsn ${shownValue(commitLsn)}): pass the delivered transaction, its { commitLsn, restartLsn }, or the commit LSN alone`,
          { details: { lsn: commitLsn } },
        );
      }
      return { slot, commitLsn, restartLsn };
    }
    // Not a token this follower remembers: the lowest restart point, which advanceSlot raises to the slot's own (it
    // keeps the higher of the two), so the slot keeps its restart point and never loses a transaction.
    return { slot, commitLsn, restartLsn: this.#ready?.tokenOf(commitLsn) ?? 1 };
  }

  /** Behind truncation with a slot: the slot's invalidation is the cause to report, when it is one. */
  async #slotError(error: WalError): Promise<WalError> {
    if (this.#slot === undefined) return error;
    try {
      const slot = await readSlot(this.#dir, this.#slot, { fs: this.#fs });
      if (slot.invalidated !== null) {
        return slotInvalidated(this.#dir, this.#slot, slot.invalidated.oldestRetainedLsn);
      }
    } catch (e) {
      if (!isWalError(e)) throw e;
    }
    return new WalError(error.code, error.message, { details: { ...error.details, slot: this.#slot } });
  }
}

function slotInvalidated(dir: string, slot: string, oldestRetainedLsn: number | null | undefined): WalError {
  return new WalError(
    "WAL_SLOT_INVALIDATED",
    `replication slot ${slot} of ${dir} was invalidated: it held back more of the log than the writer allows, and the segments it needed were removed; start again from a new base`,
    {
      details: {
        path: dir,
        slot,
        ...(oldestRetainedLsn === null || oldestRetainedLsn === undefined ? {} : { oldestRetainedLsn }),
      },
    },
  );
}

/** Durability from the durable mark; wake-ups from a directory watch and a timer. */
class DirSource implements FollowSource {
  readonly #dir: string;
  readonly #fs: WalFileSystem;
  readonly #watchable: boolean;
  readonly #pollMs: number;
  readonly selfSyncAfterMs: number;
  #watcher: FSWatcher | undefined;
  /** Kept open across wake-ups: one positional read per look instead of a stat, an open, a read and a close. */
  readonly #mark: DurableMarkReader;
  #dirty = false;
  #wake: (() => void) | undefined;
  #closed = false;
  readonly #wakes: WatchWakeFilter;

  constructor(
    dir: string,
    fs: WalFileSystem,
    watchable: boolean,
    pollMs: number,
    selfSyncAfterMs: number,
    durableOnly: boolean,
  ) {
    this.#wakes = new WatchWakeFilter(durableOnly, selfSyncAfterMs);
    this.#dir = dir;
    this.#fs = fs;
    this.#watchable = watchable;
    this.#pollMs = pollMs;
    this.selfSyncAfterMs = selfSyncAfterMs;
    this.#mark = new DurableMarkReader(fs, dir);
  }

  durability(): Promise<FollowDurability | null> {
    this.#ensureWatch();
    return this.#mark.read();
  }

  changed(signal: AbortSignal): Promise<void> {
    this.#ensureWatch();
    if (this.#dirty || signal.aborted) {
      this.#dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#wake = undefined;
        this.#dirty = false;
        resolve();
      };
      const timer = setTimeout(() => {
        // No event for a whole interval (or no watch at all): the mark may have been replaced unseen.
        this.#mark.reopen();
        done();
      }, this.#pollMs);
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }

  async selfSync(paths: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const sizes = new Map<string, number>();
    for (const path of paths) {
      let file: Awaited<ReturnType<WalFileSystem["open"]>>;
      try {
        file = await this.#fs.open(path, "read");
      } catch (error) {
        if (isMissingFileError(error)) continue; // truncated meanwhile
        throw error;
      }
      try {
        // Measured first: every byte below the data's end was written before the fdatasync began, so it covers
        // them. Not the file's size: a preallocating writer's zeros past its records may be written over later.
        const size = await dataEndOf(file, await file.size());
        await file.datasync();
        sizes.set(path, size);
      } finally {
        await file.close();
      }
    }
    await this.#fs.syncDir(this.#dir);
    return sizes;
  }

  close(): void {
    this.#closed = true;
    void this.#mark.close();
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#wake?.();
  }

  #ensureWatch(): void {
    if (this.#watcher !== undefined || !this.#watchable || this.#closed) return;
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, (event, name) => {
        // The mark removed or created: the open file may no longer be the one in the directory.
        if (event === "rename" && name === DURABLE_MARK_FILE) this.#mark.reopen();
        if (!this.#wakes.wakes(event, name, performance.now())) return;
        this.#dirty = true;
        this.#wake?.();
      });
      // A watch that fails later (the directory removed) leaves the timer to poll.
      this.#watcher.on("error", () => {
        this.#watcher?.close();
      });
    } catch {
      // No watch possible here (no directory yet, no inotify): the timer polls.
    }
  }
}
