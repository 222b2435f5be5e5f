/**
 * The engine of the live change feed, shared by `followDir` (another process) and `wal.follow` (the writer's own
 * process): it reads committed transactions from the segments as a writer appends them, follows rotation, and
 * hands a transaction out only once the source says it is durable. What differs between the two, how durability
 * is learned and how the follower is woken, comes from a {@link FollowSource}.
 *
 * Delivery rules, which hold across writer crashes and restarts:
 * - exactly the committed transactions with `beginLsn >= restartLsn` (by default `beginLsn > after`) and
 *   `commitLsn > after`, in commit order, each once, each with its exact resume token;
 * - by default only durable ones, so recovery can never take back a transaction that was delivered;
 * - records the follower read ahead of durability are dropped when the writer restarts (a new session, a first mark
 *   after reading without one, the file cut under the reader, also when it grew back past the reader's position
 *   before it looked, or, for a source that self-syncs, the file no longer at its path: moved aside by a
 *   `point-in-time` recovery) and read again from a point before every undelivered transaction: a torn tail that recovery
 *   cut and wrote over is never delivered;
 * - truncation that removed records the follower still needs is `WAL_TRUNCATED`, never a silent gap.
 */

import {
  isWalError,
  optionOr,
  type PayloadCodec,
  returnsFreshBatches,
  WalError,
  type WalRecord,
} from "@lora/wal-codec";
import {
  isMissingFileError,
  listSegments,
  type SegmentEntry,
  SegmentReader,
  type WalFileSystem,
} from "@lora/wal-segment";
import { checkCommitFollowerOptions } from "./commit-follower-options.js";
import { classifyHeaderFailure } from "./damage-rules.js";
import { FollowAssembler } from "./follow-assembler.js";
import { ReadBufferRelay } from "./read-buffer-relay.js";
import type { CommittedTransaction } from "./replay-types.js";
import { segmentHoleError } from "./segment-hole.js";
import {
  canRestartFrom,
  isLoneMissingLsn,
  locateSegment,
  oldestRetainedLsn,
  readBaseLsn,
  type SegmentLocation,
  truncatedError,
} from "./segment-locate.js";

/**
 * A follower's listings: a restore running into the directory (its `.restoring` files, no segment in place yet) is a
 * log not there yet, to wait for, as an empty directory is; the readers that open a log refuse it.
 */
const FOLLOWER_LISTING = { restoreLeftovers: "ignore" } as const;

/** What a follower knows about the writer's durability. */
export interface FollowDurability {
  /** Changes when the writer restarts (a new open of the log). */
  readonly session: number;
  /** Every record at or below this LSN is durable. */
  readonly durableLsn: number;
  /** The writer closed the log: everything it wrote is durable and no more will come from it. */
  readonly closed: boolean;
  /**
   * The first LSN of the writer's current session (0 or absent: unknown). A transaction begun below it and still
   * open can never commit, so it does not hold resume tokens back.
   */
  readonly sessionStartLsn?: number;
}

/** Where a follower learns durability and is woken. */
export interface FollowSource {
  /** The writer's durability as known now; `null` when nothing is known (no writer publishes it). */
  durability(): Promise<FollowDurability | null>;
  /** Resolves when the log may have changed, or after a polling interval; promptly when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void>;
  /**
   * Make the bytes the follower has read durable itself (an fdatasync of `paths` and of the directory); absent
   * when the source always knows durability. May resolve with each path's size measured before its fdatasync:
   * every byte below it is then durable too, read or not. The follower relies on that only for a segment that had a
   * successor then (sealed whole before it): the newest one's bytes past what was read can be a crashed writer's
   * torn tail, which the next session cuts and writes over without syncing.
   */
  selfSync?(paths: readonly string[]): Promise<ReadonlyMap<string, number> | undefined>;
  /** Milliseconds a known, live writer's durable LSN may stay behind before the follower syncs itself. */
  readonly selfSyncAfterMs?: number;
  /** True once the source will produce nothing more (the in-process handle closed): the follower then ends. */
  ended?(): boolean;
}

/**
 * Transactions the writer's own process holds in memory (`wal.follow`): a follower at the live end takes them
 * from here instead of reading the segment back.
 */
export interface FollowMemory<E> {
  /**
   * The committed transactions after `position` with `beginLsn > after` (the caller passes its restart point minus
   * one), deliverable now under `durability`, at most `max`, in commit order; `[]` when there are none yet; `null`
   * when memory cannot say what follows `position` (read the file).
   */
  take(
    position: number,
    after: number,
    durability: "durable" | "written",
    max: number,
  ): CommittedTransaction<E>[] | null;
  /** The follower ended: it takes nothing more. Called once. */
  release(): void;
}

/** Options of the engine. */
export interface CommitFollowerOptions<E> {
  readonly dir: string;
  readonly fs: WalFileSystem;
  readonly codec: PayloadCodec<E>;
  readonly after: number;
  /** The resume token's restart point (at most `after + 1`). @default after + 1 */
  readonly restartLsn?: number;
  /** `durable` (default): deliver what the source says is durable; `written`: whatever is whole in the file. */
  readonly durability: "durable" | "written";
  readonly source: FollowSource;
  readonly signal?: AbortSignal;
  /** Maps `WAL_TRUNCATED` to the error the caller wants (a slot's invalidation). */
  readonly onTruncated?: (error: WalError) => Promise<WalError>;
  /** The writer's recent transactions, when the follower runs in the writer's process. */
  readonly memory?: FollowMemory<E>;
  /** Called once when the follower ends: done, failed, or stopped by `return()`. */
  readonly onEnd?: () => void;
  /**
   * Remember the tokens of this many of the latest delivered transactions (see `tokenOf`), at most
   * 1,048,576 (16 bytes each). @default 0
   */
  readonly rememberTokens?: number;
}

/** Transactions read ahead before a pump hands control back to deliver them. */
const QUEUE_LIMIT = 1024;

/**
 * Wake-ups in a row whose search for where to read found listed segments gone each time (nine listings each)
 * before the follower takes it for a file that stays missing rather than churn, and throws.
 */
const LOCATE_MISSES_TOLERATED = 16;

/**
 * Truncation removed the segments after the one read, and the follower reads again from the one LSN missing (see
 * `#successor`).
 */
const RESTARTED = Symbol("restarted");

/**
 * The follower itself, for building a change feed over a source of your own (`followDir` and `wal.follow` build
 * theirs on it): iterate it for committed transactions under the delivery rules above; `return()` stops it.
 */
export class CommitFollower<E> implements AsyncIterableIterator<CommittedTransaction<E>> {
  readonly #o: CommitFollowerOptions<E>;
  /** Transactions begun below it are not delivered: the start token's restart point. */
  readonly #restartFloor: number;
  readonly #stop = new AbortController();
  /** Listens on the caller's signal until the follower ends (the signal may outlive many followers). */
  readonly #onOuterAbort = (): void => this.#stop.abort();
  #lastDelivered: number;
  /** The restart point of the last transaction delivered (the start token's before the first). */
  #lastRestart: number;
  /** Open transactions begun below it can never commit (see {@link FollowDurability.sessionStartLsn}). */
  #deadBelow = 0;
  /** A ring of the latest delivered tokens (commit LSN, restart LSN), when asked to remember them. */
  readonly #tokens: { commits: Float64Array; restarts: Float64Array; next: number } | undefined;
  #reader: SegmentReader | undefined;
  #segmentId = 0;
  #assembler: FollowAssembler<E> | undefined;
  /** The read buffer handed from each segment's reader to the next. */
  readonly #readBuffers = new ReadBufferRelay();
  /** Read and not yet handed out, in commit order (from `#queueHead`). */
  readonly #queue: CommittedTransaction<E>[] = [];
  #queueHead = 0;
  /** Paths read since the last self-sync (the segment being read and any it moved on from). */
  readonly #readPaths = new Set<string>();
  #session: number | undefined;
  #durable = 0;
  #selfSynced = 0;
  /**
   * Per segment path, a size below which every byte is known durable and final (measured before a self-sync's
   * fdatasync); only for segments that had a successor at that sync.
   */
  readonly #syncedSizes = new Map<string, number>();
  #durableSince = 0;
  #durableChangedAt = 0;
  #closedByWriter = false;
  #stuckAt = "";
  /** Wake-ups in a row whose search for where to read ended on files gone meanwhile (see `#locate`). */
  #locateMisses = 0;
  /**
   * The last listing of the directory (ascending by id) and where the search for a successor left off in it:
   * catching up through many segments takes each successor from it rather than listing the directory once per
   * segment (each listing names every segment, so that made a catch-up quadratic in their count). See `#successor`.
   */
  #listing: readonly SegmentEntry[] = [];
  #listingAt = 0;
  /** Where to read again from after a reset whose reopen had to wait (see `#reset`). */
  #restartFrom: number | undefined;
  /**
   * The error the assembler throws at a record of a transaction begun at the one LSN missing where reading started
   * (see `#openAt`), made the caller's (`onTruncated`) when it ends the follower.
   */
  #lostError: WalError | undefined;
  /**
   * What ended reading (a hole in the segment ids, truncation that overtook the follower, damage) while committed
   * transactions read before it were still queued: they are whole and in the log, so they are delivered (once
   * durable) before it is thrown. Reading stops meanwhile; a reset, which drops the queue, drops it too (reading
   * again meets it again).
   */
  #failure: WalError | undefined;
  /** A mutation record decoded (so a later undecodable one is corruption, not the wrong codec). */
  #decodedAny = false;
  #done = false;
  /** Delivering from {@link FollowMemory}: no segment is open; leaving it reads the file from the position on. */
  #fromMemory = false;
  #running: Promise<IteratorResult<CommittedTransaction<E>>> | undefined;
  /** Calls of `next` not answered yet. */
  #inFlight = 0;

  /**
   * @throws {@link WalError} `WAL_INVALID_OPTION` for an `after` or `restartLsn` that is not a valid token, a
   *   `durability` other than `"durable"` or `"written"`, or a `rememberTokens` that is not an integer from 0 to
   *   1,048,576; nothing is read.
   */
  constructor(options: CommitFollowerOptions<E>) {
    checkCommitFollowerOptions(options);
    this.#o = options;
    this.#lastDelivered = options.after;
    this.#restartFloor = optionOr(options.restartLsn, options.after + 1);
    this.#lastRestart = this.#restartFloor;
    const remember = optionOr(options.rememberTokens, 0);
    this.#tokens =
      remember > 0 ? { commits: new Float64Array(remember), restarts: new Float64Array(remember), next: 0 } : undefined;
    // An exact token below after + 1: the first read starts there, so a transaction straddling it is read whole.
    if (this.#restartFloor <= options.after) this.#restartFrom = this.#restartFloor;
    const outer = options.signal;
    if (outer !== undefined) {
      if (outer.aborted) this.#stop.abort();
      else outer.addEventListener("abort", this.#onOuterAbort, { once: true });
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The commit LSN of the last transaction handed out (the resume token); `after` before the first. */
  get position(): number {
    return this.#lastDelivered;
  }

  /** The restart point of the last transaction handed out (the token's other half); the start's before the first. */
  get restartLsn(): number {
    return this.#lastRestart;
  }

  /** The restart point of the delivered transaction committed at `commitLsn`, if it is among those remembered. */
  tokenOf(commitLsn: number): number | undefined {
    if (commitLsn === this.#lastDelivered) return this.#lastRestart;
    const ring = this.#tokens;
    if (ring === undefined) return undefined;
    const n = ring.commits.length;
    // Newest first: a consumer confirms what it processed last, nearly always one of the latest.
    for (let k = 1; k <= n; k++) {
      const i = (ring.next - k + n) % n;
      const commit = ring.commits[i] as number;
      if (commit === commitLsn) return ring.restarts[i];
      if (commit < commitLsn) return undefined;
    }
    return undefined;
  }

  /** The next committed transaction; waits for one. Ends (done) on the signal, `return()`, or the source's end. */
  next(): Promise<IteratorResult<CommittedTransaction<E>>> {
    // With no call in flight and a deliverable transaction queued, answer at once: a follower catching up takes
    // most transactions this way, without the chain of promises a call that has to wait goes through.
    if (this.#inFlight === 0 && !this.#done) {
      const ready = this.#take();
      if (ready !== undefined) return Promise.resolve({ value: ready, done: false });
    }
    // Calls are answered in order, one at a time.
    this.#inFlight++;
    const run = (this.#running ?? Promise.resolve()).then(
      () => this.#next(),
      () => this.#next(),
    );
    this.#running = run;
    const settled = () => {
      this.#inFlight--;
    };
    run.then(settled, settled);
    return run;
  }

  /** Stop following and release the segment. */
  async return(): Promise<IteratorResult<CommittedTransaction<E>>> {
    this.#stop.abort();
    await this.#running?.catch(() => undefined);
    await this.#finish();
    return { value: undefined, done: true };
  }

  async #next(): Promise<IteratorResult<CommittedTransaction<E>>> {
    try {
      for (;;) {
        if (this.#done) return { value: undefined, done: true };
        const ready = this.#take();
        if (ready !== undefined) return { value: ready, done: false };
        if (this.#stop.signal.aborted) break;
        const failure = this.#failure;
        // What was read before the failure is delivered: only then does it end the follower.
        if (failure !== undefined && this.#queueHead === this.#queue.length) throw failure;
        const memory = this.#takeFromMemory();
        if (memory === "queued") continue;
        if (memory === "caught-up") {
          if (this.#o.source.ended?.() === true) break;
          await this.#o.source.changed(this.#stop.signal);
          continue;
        }
        let progressed = false;
        if (this.#queueHead < this.#queue.length) {
          // Read ahead and waiting for durability: a newer durable LSN may be all it takes, with no file read.
          progressed = await this.#observeDurability();
          const early = this.#take();
          if (early !== undefined) return { value: early, done: false };
          if (this.#failure === undefined) progressed = (await this.#read(false)) || progressed;
        } else {
          progressed = await this.#read(true);
        }
        const now = this.#take();
        if (now !== undefined) return { value: now, done: false };
        if (this.#stop.signal.aborted) break;
        if (await this.#trySelfSync()) continue;
        if (!progressed && this.#o.source.ended?.() === true) break;
        if (!progressed) await this.#o.source.changed(this.#stop.signal);
      }
      await this.#finish();
      return { value: undefined, done: true };
    } catch (error) {
      await this.#finish();
      const lost = this.#lostError;
      if (lost !== undefined && error === lost && this.#o.onTruncated !== undefined) {
        throw await this.#o.onTruncated(lost);
      }
      throw error;
    }
  }

  /**
   * `#pump`, with a failure met while transactions read before it wait in the queue kept for after them (see
   * `#failure`); true then, as the read progressed up to it.
   */
  async #read(observe: boolean): Promise<boolean> {
    try {
      return await this.#pump(observe);
    } catch (error) {
      if (!isWalError(error) || this.#queueHead === this.#queue.length) throw error;
      this.#failure = error;
      return true;
    }
  }

  async #finish(): Promise<void> {
    if (!this.#done) {
      this.#o.memory?.release();
      this.#o.onEnd?.();
    }
    this.#done = true;
    this.#o.signal?.removeEventListener("abort", this.#onOuterAbort);
    const reader = this.#reader;
    this.#reader = undefined;
    this.#readBuffers.release();
    await reader?.close().catch(() => undefined);
  }

  /** The next queued transaction if it may be delivered now. */
  #take(): CommittedTransaction<E> | undefined {
    // Once the signal has aborted (or `return()` was called), nothing more is handed over, read ahead or not.
    if (this.#stop.signal.aborted) return undefined;
    const head = this.#queue[this.#queueHead];
    if (head === undefined) return undefined;
    if (this.#o.durability === "durable" && head.commitLsn > this.#deliverable()) return undefined;
    this.#queueHead++;
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    }
    this.#lastDelivered = head.commitLsn;
    this.#lastRestart = head.restartLsn;
    const ring = this.#tokens;
    if (ring !== undefined) {
      ring.commits[ring.next] = head.commitLsn;
      ring.restarts[ring.next] = head.restartLsn;
      ring.next = (ring.next + 1) % ring.commits.length;
    }
    return head;
  }

  /**
   * At the live end in the writer's process, take what memory holds instead of reading the file: "queued" when it
   * queued transactions, "caught-up" when memory covers the position and has nothing more yet, "file" otherwise
   * (no memory, a transaction half read from the file, or a position memory cannot vouch for).
   */
  #takeFromMemory(): "queued" | "caught-up" | "file" {
    const memory = this.#o.memory;
    // A restart still to be read (an exact start token, a reset): only the file has what lies before the position.
    if (memory === undefined || this.#queueHead !== this.#queue.length || this.#restartFrom !== undefined) {
      return "file";
    }
    const assembler = this.#assembler;
    if (assembler?.anyOpen) return "file";
    const txs = memory.take(this.#lastDelivered, this.#restartFloor - 1, this.#o.durability, QUEUE_LIMIT);
    if (txs === null) {
      this.#fromMemory = false;
      return "file";
    }
    if (!this.#fromMemory) {
      // The file reader stops here; if memory ever cannot vouch again, reading resumes at the position.
      this.#fromMemory = true;
      const reader = this.#reader;
      this.#reader = undefined;
      this.#readBuffers.release();
      this.#assembler = undefined;
      this.#restartFrom = undefined;
      this.#stuckAt = "";
      reader?.close().catch(() => undefined);
    }
    const last = txs[txs.length - 1];
    if (last === undefined) return "caught-up";
    for (const tx of txs) this.#queue.push(tx);
    // Memory hands out only what is deliverable under the follower's durability.
    this.#durable = Math.max(this.#durable, last.commitLsn);
    return "queued";
  }

  #deliverable(): number {
    return Math.max(this.#durable, this.#selfSynced);
  }

  /**
   * When the head of the queue waits for durability that the writer does not report (no mark, a closed or stale
   * one), sync the bytes read so far from here and deliver them. True when it did.
   */
  async #trySelfSync(): Promise<boolean> {
    const source = this.#o.source;
    const head = this.#queue[this.#queueHead];
    if (source.selfSync === undefined || head === undefined || this.#o.durability !== "durable") return false;
    const live = this.#session !== undefined && !this.#closedByWriter;
    if (live && Date.now() - this.#durableChangedAt < (source.selfSyncAfterMs ?? 1000)) return false;
    const readUpTo = this.#assembler?.lastLsn ?? 0;
    // The segments not read yet are synced too, up to their sizes now: one sync then covers every sealed segment of a
    // closed log instead of one per segment (each with a directory fsync, a journal commit).
    const paths = new Set(this.#readPaths);
    // The sizes worth keeping: the segment being read and the ones ahead. A segment already passed is never read
    // again (a reset starts from no sizes), and kept, its size stayed for the follower's life: one per segment
    // passed before each self-sync, when the follower runs behind a writer that publishes no durability.
    const ahead = new Set<string>();
    if (this.#reader !== undefined) ahead.add(this.#reader.path);
    const listed = await listSegments(this.#o.fs, this.#o.dir, FOLLOWER_LISTING);
    for (const entry of listed) {
      if (entry.id <= this.#segmentId) continue;
      paths.add(entry.path);
      ahead.add(entry.path);
    }
    // Not the newest segment's: it may end in a crashed writer's torn tail, which the next session cuts and writes
    // new records over, unsynced, maybe before the follower learns of that session. Its records read so far are
    // covered by `readUpTo`; a segment with a successor was sealed whole before it.
    ahead.delete(listed[listed.length - 1]?.path ?? "");
    const sizes = await source.selfSync([...paths]);
    // The sync went by path. A writer's recovery that moved the file read aside before it (two writers that publish
    // no mark: nothing else tells) synced another file, and what was read is no part of the log any more: read again
    // from the log as it is now. Looked at after the sync, so the file synced was the one read when it still is.
    if (!(await this.#stillAtPath())) {
      await this.#reset(true);
      return true;
    }
    for (const [path, size] of sizes ?? []) {
      if (ahead.has(path) && size > (this.#syncedSizes.get(path) ?? -1)) this.#syncedSizes.set(path, size);
    }
    this.#readPaths.clear();
    if (this.#reader !== undefined) this.#readPaths.add(this.#reader.path);
    this.#selfSynced = Math.max(this.#selfSynced, readUpTo);
    return head.commitLsn <= this.#deliverable();
  }

  /**
   * Read what the log has now, until the queue holds {@link QUEUE_LIMIT} transactions (so a follower far behind
   * delivers as it reads, in bounded memory). True when anything new was read or the durable LSN moved.
   */
  async #pump(observe: boolean): Promise<boolean> {
    let progressed = observe ? await this.#observeDurability() : false;
    if (this.#reader === undefined && !(await this.#openAt(this.#restartFrom ?? this.#restartLsn()))) return progressed;
    this.#restartFrom = undefined;
    let reader = this.#reader as SegmentReader;
    const codec = this.#o.codec;
    let refreshed = false;
    let finalCheck = false;
    /** A record was read in this pump: the file is not one a writer's recovery moved aside (that one never grows). */
    let read = false;
    for (;;) {
      if (this.#queue.length - this.#queueHead >= QUEUE_LIMIT) return progressed;
      // Whole records already in the read buffer cost no promise each (replay's fast path).
      for (let r = reader.nextBufferedRecord(codec); r !== undefined; r = reader.nextBufferedRecord(codec)) {
        this.#apply(r, reader.path);
        progressed = read = true;
        if (this.#queue.length - this.#queueHead >= QUEUE_LIMIT) return true;
      }
      const step = await reader.next(codec);
      if (step.kind === "record") {
        this.#apply(step.record, reader.path);
        progressed = read = true;
        continue;
      }
      if (!refreshed) {
        // The end of the file as the reader knew it: look again (a live writer appends; a seal may have come).
        refreshed = true;
        const { fileSize, rewritten } = await reader.refresh();
        if (fileSize < reader.position || rewritten) {
          // The file shrank under the reader, or was cut and written again past where it read (a preallocating
          // writer's zero-fill grows it back at once): a writer's recovery cut records we had read ahead.
          await this.#reset();
          return true;
        }
        continue;
      }
      if (step.kind === "damaged" && step.frameValid) throw this.#undecodable(step.error);
      // Rotation seals a segment before it creates the next one: only a sealed segment can have a successor.
      const next = reader.sealed ? await this.#successor() : undefined;
      if (next === RESTARTED) return true; // read on from where the reset reopened, at the next pump
      if (next === undefined) {
        // Nothing new in the file: it may be one a restarted writer's recovery moved aside, which never changes
        // again. Two writers in a row that publish no mark say nothing else of it.
        if (!read && !(await this.#stillAtPath())) {
          await this.#reset(true);
          return true;
        }
        if (step.kind === "damaged") this.#checkStuck(reader, step.error);
        return progressed;
      }
      if (!finalCheck) {
        // A newer segment exists, so this one is complete: read it once more to its final end. No cut to look for
        // here: the reader saw the seal at or before this pump's first refresh, which looked, and a writer seals only
        // records it has made durable, which a later session cuts only in `point-in-time` recovery of corruption.
        // That cut also moves this segment's successors aside and creates one in their place whose base lies at or
        // below what the follower read past the cut: opening it below is refused (`WAL_MALFORMED`), never read on.
        finalCheck = true;
        await reader.refresh();
        continue;
      }
      if (step.kind === "damaged") {
        throw new WalError(
          "WAL_CORRUPT",
          `WAL corruption: ${step.error.message} in ${reader.path}, which is followed by ${next.path}`,
          {
            cause: step.error,
            details: { path: reader.path, segment: reader.path, offset: step.offset },
          },
        );
      }
      const opened = await this.#openSuccessor(next);
      if (opened === RESTARTED) return true;
      if (!opened) return progressed;
      reader = this.#reader as SegmentReader;
      finalCheck = false;
      refreshed = false;
      progressed = true;
    }
  }

  /**
   * Whether the segment being read is still the file at its path; true when there is no reader, or for a source
   * that always knows durability (the writer's own process: its files are never moved under it). Two writers in a
   * row that publish no mark leave only this to tell a `point-in-time` recovery that moved the file aside: the path
   * names another file, or none. None is also a truncation that removed the segment, which the follower reads on
   * through the file it has open: truncation removes segments oldest first, so the file was moved aside only when a
   * segment below it is still listed (the one the recovery cut).
   */
  async #stillAtPath(): Promise<boolean> {
    const reader = this.#reader;
    if (reader === undefined || this.#o.source.selfSync === undefined) return true;
    const there = await reader.atPath(this.#o.fs);
    if (there !== "none") return there === "same";
    const entries = await listSegments(this.#o.fs, this.#o.dir, FOLLOWER_LISTING);
    return !((entries[0]?.id ?? Number.POSITIVE_INFINITY) < this.#segmentId);
  }

  /** Apply one record; queue the transaction it commits when it is one to deliver. */
  #apply(record: WalRecord<E>, path: string): void {
    const kind = record.kind;
    if (kind === "mutation" || kind === "mutationBatch") this.#decodedAny = true;
    const tx = (this.#assembler as FollowAssembler<E>).apply(record, path);
    if (tx === undefined) return;
    if (tx.beginLsn >= this.#restartFloor && tx.commitLsn > this.#lastDelivered) this.#queue.push(tx);
    // Its commit ends below what a self-sync covered in this segment (and what came before it was read, so synced,
    // earlier): durable without another fdatasync. A follower catching up on a closed log syncs once per sealed
    // segment, and once per read-ahead of the newest.
    const synced = this.#syncedSizes.get(path);
    if (synced !== undefined && (this.#reader?.position ?? Number.POSITIVE_INFINITY) <= synced) {
      if (tx.commitLsn > this.#selfSynced) this.#selfSynced = tx.commitLsn;
    }
  }

  /**
   * Damage at the end of the newest segment is a write in progress, or a crashed writer's torn tail that its next
   * open will cut; the follower waits. But when the writer reports durable records beyond it twice in a row in the
   * same session, the bytes were written whole: it is corruption.
   */
  #checkStuck(reader: SegmentReader, error: WalError): void {
    const lastRead = this.#assembler?.lastLsn ?? 0;
    if (this.#session === undefined || this.#durable <= lastRead) {
      this.#stuckAt = "";
      return;
    }
    const here = `${this.#session}:${reader.path}:${reader.position}`;
    if (this.#stuckAt === here) {
      throw new WalError(
        "WAL_CORRUPT",
        `WAL corruption: ${error.message}, while the writer reports lsn ${this.#durable} durable`,
        {
          cause: error,
          details: { path: reader.path, segment: reader.path, offset: reader.position },
        },
      );
    }
    this.#stuckAt = here;
  }

  /**
   * A CRC-valid record that cannot be used was written whole, so waiting will not change it: the wrong codec when
   * nothing decoded before it, corruption otherwise (replay's rule).
   */
  #undecodable(error: WalError): WalError {
    const where = error.details;
    if (!this.#decodedAny) {
      return new WalError(
        "WAL_CODEC_MISMATCH",
        `the log's records do not decode with the ${this.#o.codec.name} codec: ${error.message}; follow it with the codec it was written with`,
        { cause: error, details: where },
      );
    }
    return new WalError("WAL_CORRUPT", `WAL corruption: ${error.message}`, { cause: error, details: where });
  }

  /** Read the source's durability; a new writer session drops what was read ahead. */
  async #observeDurability(): Promise<boolean> {
    const d = await this.#o.source.durability();
    if (d === null) return false;
    const start = d.sessionStartLsn ?? 0;
    if (start > this.#deadBelow) {
      this.#deadBelow = start;
      this.#assembler?.deadBelow(start);
    }
    let moved = false;
    // A first mark after reading without one is a writer that opened the log since: its recovery may have cut what
    // was read, or moved the segment being read aside (`point-in-time`) with no change to the file held open.
    const firstAfterReading = this.#session === undefined && this.#reader !== undefined;
    if ((this.#session !== undefined && d.session !== this.#session) || firstAfterReading) {
      this.#session = d.session;
      this.#durable = d.durableLsn;
      this.#closedByWriter = d.closed;
      this.#durableChangedAt = Date.now();
      await this.#reset(true);
      return true;
    }
    if (this.#session === undefined) this.#durableChangedAt = Date.now();
    this.#session = d.session;
    if (d.durableLsn !== this.#durableSince || d.closed !== this.#closedByWriter) {
      this.#durableSince = d.durableLsn;
      this.#durableChangedAt = Date.now();
      moved = d.durableLsn > this.#durable;
    }
    this.#durable = d.durableLsn;
    this.#closedByWriter = d.closed;
    return moved;
  }

  /**
   * The LSN from which reading again reproduces every transaction not yet delivered: the one after the last
   * delivered, the begin of a queued (committed, undelivered) transaction that began before it, and, at a new
   * session, the begin of a transaction of that session still open.
   *
   * A reset happens only when a writer session ended: a new one's recovery cut the file under the reader, or a new
   * one published its mark. A session never commits a transaction an earlier one began, so a transaction still
   * open once the follower has read every record of its session never commits, and does not pull the point lower
   * (pinning to a dead transaction's begin sent a follower back to a segment truncation had rightly removed, its
   * slot confirmed past it: a false `WAL_TRUNCATED`); the assembler forgets those. Two cases keep one alive, and
   * both come with a new session's mark:
   * - a new session writes before its first mark, and a follower may read (and, syncing itself, deliver) its
   *   records before it learns of the session: a transaction that session began is alive;
   * - a follower that learns of a new session before it has read the end of the earlier one has not seen whether
   *   a transaction open so far committed: it may have.
   * Either must be read again from its begin, which may lie in an earlier segment than the last delivered. A cut
   * under the reader comes from a later session's recovery, below what the follower has read: all it read was
   * written by sessions that ended, and nothing open then is alive.
   * Truncation that removed the segments after the one read (see `#successor`) is no session's end either: what is
   * open may still commit, so it holds the point back too, as it holds back the resume token.
   * @param sessionChanged a new session's mark caused the reset (not a cut under the reader), or truncation did.
   */
  #restartLsn(sessionChanged = false): number {
    let lsn = this.#lastDelivered + 1;
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      lsn = Math.min(lsn, (this.#queue[i] as CommittedTransaction<E>).beginLsn);
    }
    // The assembler has already forgotten what is known dead (see `FollowAssembler.deadBelow`).
    if (sessionChanged) for (const begin of this.#assembler?.openBegins() ?? []) if (begin < lsn) lsn = begin;
    // A transaction that may have begun at the LSN missing where reading started, and may still be open: read again
    // from there, so that a record of it still fails as truncated instead of being skipped as begun before reading.
    const lost = this.#assembler?.lostOpenBegin;
    if (lost !== undefined && lost < lsn) lsn = lost;
    return lsn;
  }

  /**
   * Forget what was read ahead and read again from before every undelivered transaction.
   * @param sessionChanged as for `#restartLsn`.
   */
  async #reset(sessionChanged = false): Promise<void> {
    const from = this.#restartFrom ?? this.#restartLsn(sessionChanged);
    // Kept until a segment is open again: the queue and the open transactions it was computed from are dropped.
    this.#restartFrom = from;
    const reader = this.#reader;
    this.#reader = undefined;
    await reader?.close().catch(() => undefined);
    this.#queue.length = 0;
    this.#queueHead = 0;
    this.#failure = undefined;
    this.#assembler = undefined;
    this.#selfSynced = Math.min(this.#selfSynced, this.#lastDelivered);
    // A restarted writer may have cut and rewritten a file: sizes measured before are no promise any more.
    this.#syncedSizes.clear();
    this.#stuckAt = "";
    if (await this.#openAt(from)) this.#restartFrom = undefined;
  }

  /**
   * Open the segment holding `lsn`; false when there is nothing to open yet, to be tried again at the next wake-up:
   * the log has no segment yet, or the segment was replaced or had no header at this look (see `#headerStillComing`).
   */
  async #openAt(lsn: number): Promise<boolean> {
    const where = await this.#locate(lsn);
    const entry = where?.entries[where.index];
    if (where === null || entry === undefined || where.oldestBaseLsn === null) return false;
    // Records from `lsn` up to the oldest segment are gone (or were never in this log): never a silent gap. When
    // `lsn` alone is missing, reading starts, and a record of a transaction begun at it fails as truncated.
    let lost: { readonly begin: number; readonly error: WalError } | undefined;
    if (lsn < where.oldestBaseLsn) {
      if (!isLoneMissingLsn(lsn, where.oldestBaseLsn)) await this.#truncated(lsn - 1, where.oldestBaseLsn);
      lost = { begin: lsn, error: truncatedError(this.#o.dir, lsn - 1, where.oldestBaseLsn) };
    }
    this.#lostError = lost?.error;
    // Reading starts at `lsn`: a transaction begun before it was delivered, is dead, or lies before the token.
    this.#assembler = new FollowAssembler<E>(lsn, this.#deadBelow, returnsFreshBatches(this.#o.codec), lost);
    try {
      await this.#openSegment(entry, undefined);
    } catch (error) {
      this.#assembler = undefined;
      if (isMissingFileError(error)) {
        const again = await this.#locate(lsn);
        const oldest = again?.oldestBaseLsn ?? null;
        if (oldest !== null && !canRestartFrom(lsn, oldest)) await this.#truncated(lsn - 1, oldest);
        return false; // a truncation or a recovery replaced it meanwhile: look again at the next wake-up
      }
      // A writer's recovery removing and creating the newest segment again: it has no header for a moment.
      if (await this.#headerStillComing(entry, error)) return false;
      throw error;
    }
    return true;
  }

  /**
   * Locate the segment holding `lsn`; `null` when segments it listed kept vanishing before it read them, past the
   * locate's own retries (truncations or a restarting writer's recoveries, one after another): a follower outlives
   * such churn and looks again at the next wake-up, where a one-shot read reports it. Not past
   * {@link LOCATE_MISSES_TOLERATED} wake-ups in a row (a file that stays missing, such as a dangling link named like
   * a segment, is no churn), and never for the directory itself: a missing log directory is `WAL_IO` as ever.
   */
  async #locate(lsn: number): Promise<SegmentLocation | null> {
    try {
      const where = await locateSegment(this.#o.fs, this.#o.dir, lsn - 1, FOLLOWER_LISTING);
      this.#locateMisses = 0;
      return where;
    } catch (error) {
      if (!isMissingFileError(error) || ++this.#locateMisses > LOCATE_MISSES_TOLERATED) throw error;
      if ((await this.#o.fs.stat(this.#o.dir)) === null) throw error;
      return null;
    }
  }

  /**
   * After a failed open of `entry`: true when looking again at the next wake-up is right, false when the failure is
   * to be thrown.
   * - It is the newest segment and still has no header: the writer is creating it, or died doing so (wait for it).
   * - The header landed between the failed read and this look (a live writer creating the segment, which may have
   *   created the next one too by now, so it need not be the newest any more): a second open succeeds.
   * - The file is gone: a writer's recovery removed it as headerless (a segment of that id comes again), or
   *   truncation removed it (the next look reports `WAL_TRUNCATED`, as for a file missing at the open).
   */
  async #headerStillComing(entry: SegmentEntry, error: unknown): Promise<boolean> {
    if (!isWalError(error, "WAL_BAD_HEADER")) return false;
    try {
      const entries = await listSegments(this.#o.fs, this.#o.dir, FOLLOWER_LISTING);
      const newest = entries[entries.length - 1]?.id === entry.id;
      if ((await classifyHeaderFailure(this.#o.fs, entry.path, error, newest))?.kind === "headerless") return true;
      const probe = await SegmentReader.open(this.#o.fs, entry.path);
      await probe.close();
      return true;
    } catch (again) {
      if (isMissingFileError(again)) return true;
      if (isWalError(again, "WAL_BAD_HEADER")) return false; // still damaged: throw the first failure
      throw again;
    }
  }

  async #truncated(after: number, oldest: number): Promise<never> {
    throw await this.#mapped(truncatedError(this.#o.dir, after, oldest));
  }

  /** `error` to throw, a `WAL_TRUNCATED` mapped as the caller wants (a slot's invalidation). */
  async #mapped(error: WalError): Promise<WalError> {
    return error.code === "WAL_TRUNCATED" && this.#o.onTruncated !== undefined
      ? await this.#o.onTruncated(error)
      : error;
  }

  /**
   * The segment ids between `id` (read last) and `next` are missing mid-log: `WAL_TRUNCATED` resuming after the hole
   * (see {@link segmentHoleError}). When `next`'s header cannot be read (removed or replaced meanwhile), the hole is
   * reported against the oldest segment as before.
   */
  async #hole(id: number, entries: readonly SegmentEntry[], next: SegmentEntry, lastLsn: number): Promise<void> {
    let nextBaseLsn: number;
    try {
      nextBaseLsn = await readBaseLsn(this.#o.fs, next.path);
    } catch {
      return;
    }
    const current = entries.find((e) => e.id === id) ?? { id, path: this.#reader?.path ?? this.#o.dir };
    throw await this.#mapped(segmentHoleError({ dir: this.#o.dir, current, next, nextBaseLsn, lastLsn }));
  }

  /**
   * Open `entry` as the segment to read; false, with nothing changed, when moving on from the segment being read
   * (`previousId`) finds it no longer at its path: a writer's recovery moved it aside, and `entry` may be a segment
   * of the new history, which does not follow what was read (the caller reads again from the log as it is).
   */
  async #openSegment(entry: SegmentEntry, previousId: number | undefined): Promise<boolean> {
    // The segment read before hands its read buffer on (it is not read again once the next one opens; if this open
    // fails it stays the current reader, and the new one has read nothing into the buffer: `SegmentReader.open`
    // reads the header into an array of its own and fills the buffer only on the first read): no fresh 1 MiB per
    // segment, whose first touch cost the kernel a page fault per page.
    const old = this.#reader;
    if (previousId !== undefined && old !== undefined) this.#readBuffers.keepFrom(old);
    const reader = await SegmentReader.open(this.#o.fs, entry.path, this.#readBuffers.readerOptions(undefined));
    try {
      // Looked at after the successor's open: a file this opened is the old log's successor if the one left is
      // still in place now (a recovery moves every segment after the one it cuts, and only recovery moves them).
      if (previousId !== undefined && !(await this.#stillAtPath())) {
        await reader.close();
        return false;
      }
      (this.#assembler as FollowAssembler<E>).enterSegment(reader.header.baseLsn, entry.path);
    } catch (error) {
      await reader.close();
      throw error;
    }
    this.#reader = reader;
    this.#segmentId = entry.id;
    // Moving on with everything read already durable (the writer's mark said so): no self-sync needs the segments
    // read so far. Kept, they grew by a path per segment for as long as no self-sync ran (a writer publishing its
    // mark never makes one run), and the first one synced them all.
    if (previousId !== undefined && (this.#assembler?.lastLsn ?? 0) <= this.#deliverable()) this.#readPaths.clear();
    this.#readPaths.add(entry.path);
    if (previousId !== undefined && old !== undefined) {
      // Its records are all read: its synced size is never looked at again (a reset that reads it again starts
      // from no sizes). Kept, they grew by one per segment synced for as long as the follower ran.
      this.#syncedSizes.delete(old.path);
      await old.close().catch(() => undefined);
    }
    return true;
  }

  /**
   * Move on to `next`; false while it cannot be opened yet, to be tried again at the next wake-up: it is the newest
   * segment and has no header yet (the writer is creating it, or died doing so and its next open will heal it; the
   * follower waits, as replay would take it for no records), or it was replaced or removed meanwhile (see
   * `#headerStillComing`; a truncation past it is reported at the next look as `WAL_TRUNCATED`); {@link RESTARTED}
   * when a truncation that removed it leaves only the LSN the follower reads again from missing (see `#successor`),
   * or when the segment being left is no longer the file at its path (the follower read again from the log as it is).
   */
  async #openSuccessor(next: SegmentEntry): Promise<boolean | typeof RESTARTED> {
    let opened: boolean;
    try {
      opened = await this.#openSegment(next, this.#segmentId);
    } catch (error) {
      // Deleted between the listing and the open: truncation overtook the follower (never a silent gap).
      if (isMissingFileError(error)) {
        // Throws WAL_TRUNCATED when the segments it needs are gone, or reads again from the one LSN missing.
        if ((await this.#successor(true)) === RESTARTED) return RESTARTED;
        return false; // otherwise it was replaced meanwhile: open it at the next wake-up
      }
      if (await this.#headerStillComing(next, error)) return false;
      throw error;
    }
    if (opened) return true;
    // The segment left is no longer at its path: what follows it there is another history's. Read that from the
    // restart point, as after a new session's mark.
    await this.#reset(true);
    return RESTARTED;
  }

  /**
   * The segment after the current one, when it exists; `WAL_TRUNCATED` when truncation removed it already, unless
   * all that is gone of what the follower still needs is the one LSN a fresh follower from its token may start
   * without (see `isLoneMissingLsn`): then it starts again from there as such a follower would ({@link RESTARTED}),
   * so that a record of a transaction begun at that LSN still fails `WAL_TRUNCATED` (moving on into the retained
   * segment would take it for one begun nowhere, `WAL_MALFORMED`). A successor named by an earlier listing is taken
   * from it, without listing again: it existed, and whether it still does its open finds out (`#openSuccessor` then
   * asks with a new listing, `fresh`). Only the next id is taken so: a gap, or nothing after the current segment, is
   * looked at in a new listing.
   */
  async #successor(fresh = false): Promise<SegmentEntry | typeof RESTARTED | undefined> {
    const id = this.#segmentId;
    const listed = fresh ? undefined : this.#listedSuccessor(id);
    if (listed !== undefined && listed.id === id + 1) return listed;
    const entries = await listSegments(this.#o.fs, this.#o.dir, FOLLOWER_LISTING);
    this.#listing = entries;
    this.#listingAt = 0;
    const next = this.#listedSuccessor(id);
    if (next === undefined) return undefined;
    if (next.id !== id + 1) {
      // Read again rather than taken from the listing: truncation may be removing more meanwhile (oldest first).
      const oldest = await oldestRetainedLsn(this.#o.dir, { fs: this.#o.fs });
      if (oldest === null) return undefined; // every segment gone: look again at the next wake-up
      // Where the follower needs the records from: the one after the last delivered, or the begin of a transaction
      // it read open (its token restarts there too; the records of one begun before a reset's point are skipped) or
      // holds undelivered. When only that LSN is gone, read again from it, as a follower started now would.
      if (isLoneMissingLsn(this.#restartLsn(true), oldest)) {
        await this.#reset(true);
        return RESTARTED;
      }
      const lastLsn = this.#assembler?.lastLsn ?? this.#lastDelivered;
      // The oldest segment still holds the records after what was read: the ids are missing in the middle, which
      // truncation (oldest first) never leaves while it runs. What is left to resume from starts after the hole.
      if (oldest <= lastLsn + 1) await this.#hole(id, entries, next, lastLsn);
      await this.#truncated(lastLsn, oldest);
    }
    return next;
  }

  /**
   * The first entry of the last listing with an id above `id`. The search goes on from where the last one stopped
   * (the current segment's id only rises between listings, and a reset starts a new listing), so a catch-up through
   * the whole listing costs one pass over it.
   */
  #listedSuccessor(id: number): SegmentEntry | undefined {
    const listing = this.#listing;
    let at = this.#listingAt;
    if (at > 0 && (listing[at - 1] as SegmentEntry).id > id) at = 0;
    while (at < listing.length && (listing[at] as SegmentEntry).id <= id) at++;
    this.#listingAt = at;
    return listing[at];
  }
}
