/**
 * Group commit. Appends are synchronous and only fill the active segment's buffer; this pipeline turns "make LSN n
 * written" and "make LSN n durable" requests into as few writes and fdatasyncs as possible:
 *
 * - one write loop hands buffered bytes to the OS, one write at a time, so records land in LSN order and two
 *   writes never interleave;
 * - one sync loop runs fdatasync; each round covers exactly the bytes written before it began, so a caller's
 *   promise resolves only after an fsync that began after its bytes were written. While a sync is in flight, new
 *   commits are encoded and written, and the next round covers all of them.
 *
 * The first failure of a write or sync rejects every waiting caller with that error and is reported to the handle,
 * which poisons itself; nothing is retried over a possibly half-written buffer.
 *
 * Cost per commit matters here (it is most of a `none`-mode commit and what limits 64 concurrent writers): a request
 * is one waiter and one promise; the write run is a plain microtask that writes synchronously where the file allows;
 * when the round blocks ({@link SyncPlacement}) the fdatasync runs on this thread in the event loop's next check
 * phase, so no thread-pool round trip remains and the loop still turns between rounds. A commit
 * acknowledged once written (`none`, `group`) that finds the pipeline idle is written in the caller's own turn
 * ({@link CommitPipeline.writeThrough}): no waiter and no run, which was a fifth of a lone `none` commit.
 */

import { performance } from "node:perf_hooks";
// The timers module's own setImmediate, not the global: test suites' fake timers replace the global, and a round
// or a turn waiting on a faked setImmediate would never run (these are turns of the event loop, not timers).
import { setImmediate } from "node:timers";
import { optionOr } from "@lora/wal-codec";
import type { SegmentWriter, WrittenRecord } from "@lora/wal-segment";
import { PipelineStats } from "./io-stats.js";
import { type BlockingSyncInput, SyncPlacement } from "./sync-placement.js";
import { type Failpoint, TESTING_BUILD } from "./testing-hooks.js";

/**
 * Runs are queued as reactions of one settled promise: Node's `queueMicrotask` wraps each callback in an
 * AsyncResource, which cost more than the write it schedules in a `none`-mode commit.
 */
const RESOLVED = Promise.resolve();

interface Waiter {
  readonly lsn: number;
  /** Only a sync round that starts after this one may resolve the waiter (forced syncs). */
  readonly afterRound: number;
  /** What the promise resolves with (a commit's `CommitInfo`, so callers need no `.then` of their own). */
  readonly value: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface PipelineEvents {
  /** A write or sync failed: the handle must poison. */
  onFailure(error: unknown): void;
  /** LSNs up to `lsn` were handed to the OS. */
  onWritten(lsn: number): void;
  /**
   * LSNs up to `lsn` are covered by an fdatasync; `bytes`, when known, is how much of the active segment that
   * fdatasync covered (it ends on a record boundary at or after `lsn`'s record: everything written before it began);
   * `record`, when the writer knows it, is the record that ends there (what the durable mark binds to).
   */
  onSynced(lsn: number, bytes?: number, record?: WrittenRecord): void;
  /** A sync round of the pipeline completed: its fdatasync took `ms` and covers up to `lsn`. */
  onSyncRound?(lsn: number, ms: number): void;
  failpoint: Failpoint;
  /**
   * Planted bug `retry-fsync-after-eio` only: after a failed fdatasync, fsync again and carry on when that
   * succeeds (what fsyncgate taught never to do). Undefined in every real handle.
   */
  retrySyncAfterFailure?: (() => Promise<void>) | undefined;
  /** Planted bug `sync-covers-later-writes` only: a round marks synced what was written when it ended. */
  syncCoversLaterWrites?: boolean | undefined;
  /**
   * Planted bug `sync-beside-background-sync` only: a thread-pool round's fdatasync does not wait for the one in
   * flight (it blocks the thread at once, with the writer's unchecked `syncNow`).
   */
  syncBesideBackgroundSync?: boolean | undefined;
}

export interface PipelineOptions {
  /**
   * Run sync rounds with a blocking fdatasync on the event-loop thread, in the event loop's next check phase, where
   * the file offers one: always, never, or while fsyncs are quick (see {@link SyncPlacement}). Same guarantees; a
   * blocking round has no thread-pool round trip and stalls the event loop for its fsync. @default false (the
   * handle passes its own option, `"auto"` unless set)
   */
  readonly blockingSync?: BlockingSyncInput;
  /** Milliseconds on a monotonic clock, timing sync rounds (a test's clock in a testing build). @default `performance.now()` */
  readonly now?: () => number;
}

export class CommitPipeline {
  #writer: SegmentWriter;
  readonly #events: PipelineEvents;
  readonly #placement: SyncPlacement;
  /** Times sync rounds (see {@link PipelineOptions.now}). */
  readonly #now: () => number;
  #appended: number;
  #written: number;
  #synced: number;
  #writeWaiters: Waiter[] = [];
  #syncWaiters: Waiter[] = [];
  /** Waiters that do not ask for a sync; a sync someone else runs resolves them (group mode's `whenDurable`). */
  #passiveWaiters: Waiter[] = [];
  /** A run (see {@link CommitPipeline.#run}) is queued as a microtask. */
  #scheduled = false;
  /** {@link CommitPipeline.writeThrough} wrote in this turn: later commits of the turn share a run instead. */
  #wroteThisTurn = false;
  /** An asynchronous write loop, when the file has no synchronous write or one is in flight. */
  #writing: Promise<void> | undefined;
  #syncing: Promise<void> | undefined;
  /** A blocking round is queued for the event loop's next check phase (see {@link CommitPipeline.#blockingRound}). */
  #blockingRoundDue = false;
  #roundsStarted = 0;
  #roundsDone = 0;
  #paused = false;
  #failure: unknown;
  /** The newest commit record appended, and the newest one handed to the OS (acknowledged in group and none mode). */
  #appendedCommit: number;
  #writtenCommit: number;
  /**
   * The newest LSN an fdatasync covers: the synced LSN, or more when a rotation sealed its segment (fsyncing every
   * record) and then failed before its acknowledgement point. Only `close()`'s check of a poisoned handle reads it;
   * nothing is acknowledged by it.
   */
  #fsyncCovered: number;
  /** Counters and the fdatasync latency histogram (`wal.ioStats()`). */
  readonly stats = new PipelineStats();

  constructor(writer: SegmentWriter, durableLsn: number, events: PipelineEvents, options: PipelineOptions = {}) {
    this.#writer = writer;
    this.#events = events;
    // A sync retried after a failure is an asynchronous step: such a pipeline keeps every round on the pool.
    this.#placement = new SyncPlacement(
      events.retrySyncAfterFailure === undefined ? optionOr(options.blockingSync, false) : false,
    );
    this.#now = optionOr(options.now, () => performance.now());
    this.#appended = durableLsn;
    this.#written = durableLsn;
    this.#synced = durableLsn;
    this.#appendedCommit = durableLsn;
    this.#writtenCommit = durableLsn;
    this.#fsyncCovered = durableLsn;
  }

  get writer(): SegmentWriter {
    return this.#writer;
  }

  get appendedLsn(): number {
    return this.#appended;
  }

  get writtenLsn(): number {
    return this.#written;
  }

  get syncedLsn(): number {
    return this.#synced;
  }

  /** The newest commit record handed to the OS: in `group` and `none` mode, the newest acknowledged commit. */
  get writtenCommitLsn(): number {
    return this.#writtenCommit;
  }

  /**
   * The newest LSN whose record an fdatasync covers: at least {@link CommitPipeline.syncedLsn}, and everything a
   * rotation sealed even when the rotation then failed. For `close()`'s durability check only: it never resolves a
   * waiter, so no commit is acknowledged by it.
   */
  get fsyncCoveredLsn(): number {
    return this.#fsyncCovered;
  }

  /** Record that LSNs up to `lsn` are now in the writer's buffer; `commit` when `lsn` is a commit record. */
  noteAppended(lsn: number, commit = false): void {
    this.#appended = lsn;
    if (commit) this.#appendedCommit = lsn;
  }

  /**
   * Hand the buffer to the OS now, synchronously, if nothing stands in the way (no pause, no write in flight, a
   * synchronous write available). Long runs of buffered appends call this so the buffer stays small instead of
   * growing (and being copied) up to a whole segment.
   * @throws the write's error, after failing the pipeline (the handle poisons).
   */
  spill(): void {
    if (this.#canWriteHere()) this.#writeAppendedNow();
  }

  /** Nothing stands in the way of a synchronous write now: no pause, no failure, no write in flight. */
  #canWriteHere(): boolean {
    return !this.#paused && this.#failure === undefined && this.#writing === undefined && this.#writer.canWriteNow;
  }

  /**
   * {@link CommitPipeline.whenWritten} for a commit acknowledged once written (`none`, `group`): when nothing else
   * waits and nothing is queued, the bytes are written right here, in the caller's turn, and the promise comes back
   * settled, with no waiter and no run. The first commit of a turn takes this path and the rest of the turn waits
   * for one shared run, so concurrent committers still share writes.
   */
  writeThrough<T>(lsn: number, value: T): Promise<T> {
    if (
      this.#wroteThisTurn ||
      this.#scheduled ||
      this.#writeWaiters.length > 0 ||
      this.#syncWaiters.length > 0 ||
      !this.#canWriteHere()
    ) {
      return this.whenWritten(lsn, value);
    }
    try {
      this.#writeAppendedNow();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#wroteThisTurn = true;
    void RESOLVED.then(this.#endTurn);
    return Promise.resolve(value);
  }

  readonly #endTurn = (): void => {
    this.#wroteThisTurn = false;
  };

  /** Resolves with `value` once every byte up to `lsn` has been handed to the OS. */
  whenWritten<T = void>(lsn: number, value?: T): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#written >= lsn) return Promise.resolve(value as T);
    return new Promise<T>((resolve, reject) => {
      this.#writeWaiters.push({ lsn, afterRound: -1, value, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  /**
   * Resolves with `value` once an fdatasync that began after the bytes of `lsn` were written has completed. With
   * `force`, a new sync round runs even if `lsn` is already covered.
   */
  whenSynced<T = void>(lsn: number, force = false, value?: T): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!force && this.#synced >= lsn) return Promise.resolve(value as T);
    return new Promise<T>((resolve, reject) => {
      const afterRound = force ? this.#roundsStarted : -1;
      this.#syncWaiters.push({ lsn, afterRound, value, resolve: resolve as (v: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Resolves once a sync started by anyone else covers `lsn`; never starts one itself. */
  whenSyncedPassively(lsn: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#synced >= lsn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#passiveWaiters.push({ lsn, afterRound: -1, value: undefined, resolve, reject });
    });
  }

  /**
   * Stop starting rounds, wait for the ones in flight, run `work` (which may replace the writer), then resume.
   * Used by rotation and close.
   */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    this.#paused = true;
    try {
      while (this.#writing !== undefined || this.#syncing !== undefined) {
        await Promise.allSettled([this.#writing, this.#syncing]);
      }
      return await work();
    } finally {
      this.#paused = false;
      if (this.#writeNeeded() || this.#syncNeeded()) this.#schedule();
    }
  }

  /**
   * Inside {@link CommitPipeline.exclusive}: the current writer was sealed (flushed and fsynced), so everything
   * appended is written and durable; switch to `next`.
   */
  sealedAndReplaced(next: SegmentWriter): void {
    this.#markWritten(this.#appended, this.#appendedCommit);
    this.#markSynced(this.#appended, true);
    this.#writer = next;
  }

  /**
   * Inside {@link CommitPipeline.exclusive}, during a rotation: the current writer was sealed, so every record
   * appended is fsynced in a segment whose name was made durable before anything was acknowledged in it, and
   * survives a power loss even if making the next segment fails. Only {@link CommitPipeline.fsyncCoveredLsn} moves:
   * waiters are resolved once the rotation completes ({@link CommitPipeline.sealedAndReplaced}), after the new
   * segment's directory fsync, as the rotation orders acknowledgements.
   */
  sealed(): void {
    if (this.#appended > this.#fsyncCovered) this.#fsyncCovered = this.#appended;
  }

  /** Inside `exclusive`: everything appended was flushed and fsynced by the caller. */
  flushedOutside(): void {
    this.#markWritten(this.#appended, this.#appendedCommit);
    this.#markSynced(this.#appended, true, this.#writer.writtenBytes, this.#writer.lastWrittenRecord);
  }

  /** Mark the pipeline failed from outside (a failure the handle saw first). */
  fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    const waiters = [...this.#writeWaiters, ...this.#syncWaiters, ...this.#passiveWaiters];
    this.#writeWaiters = [];
    this.#syncWaiters = [];
    this.#passiveWaiters = [];
    for (const w of waiters) w.reject(error);
    this.#events.onFailure(error);
  }

  /** Queue one run on a microtask, so every commit appended in this turn of the event loop shares its write. */
  #schedule(): void {
    if (this.#scheduled || this.#failure !== undefined) return;
    this.#scheduled = true;
    void RESOLVED.then(this.#run);
  }

  /**
   * Write what waiters need (synchronously where possible), then start or run the sync round they need. Anything
   * that cannot finish here (an asynchronous write, a thread-pool fdatasync) continues in a loop that re-schedules
   * a run when it ends.
   */
  readonly #run = (): void => {
    this.#scheduled = false;
    if (!this.#writeThenNeedSync() || this.#blockingRoundDue) return;
    if (this.#syncing === undefined && this.#placement.blocks && this.#writer.canSyncNow) {
      this.#blockingRoundDue = true;
      setImmediate(this.#blockingRound);
    } else {
      this.#kickSync();
    }
  };

  /**
   * A blocking round, run from the event loop's check phase rather than the microtask that wrote: a loop of awaited
   * commits whose rounds all ran in microtasks would never let the event loop turn (no I/O, no timers, for as long
   * as it commits). It writes what came in since and syncs everything written, so it covers every commit appended
   * before it runs.
   */
  readonly #blockingRound = (): void => {
    this.#blockingRoundDue = false;
    if (!this.#writeThenNeedSync()) return;
    if (this.#syncing === undefined && this.#writer.canSyncNow) this.#syncRoundNow();
    else this.#kickSync();
  };

  /** The first step of a run: write what waiters need where the pipeline may; true if a sync round is needed next. */
  #writeThenNeedSync(): boolean {
    if (this.#paused || this.#failure !== undefined) return false;
    if (this.#writing === undefined && !this.#writeNow()) return false;
    return this.#syncNeeded();
  }

  /** Write synchronously while waiters need bytes; false if it failed or had to hand over to the async loop. */
  #writeNow(): boolean {
    while (this.#writeNeeded()) {
      if (!this.#writer.canWriteNow) {
        this.#kickAsyncWrite();
        return false;
      }
      try {
        this.#writeAppendedNow();
      } catch {
        return false;
      }
    }
    return true;
  }

  /** One synchronous write of everything appended, between its failpoints. A failure fails the pipeline first. */
  #writeAppendedNow(): void {
    const target = this.#appended;
    const commitTarget = this.#appendedCommit;
    try {
      if (TESTING_BUILD) this.#events.failpoint("commit.beforeWrite");
      this.stats.writes++;
      this.stats.bytesWritten += this.#writer.pendingBytes;
      this.#writer.writeNow();
      if (TESTING_BUILD) this.#events.failpoint("commit.afterWrite");
    } catch (error) {
      this.fail(error);
      throw error;
    }
    this.#markWritten(target, commitTarget);
  }

  /** One blocking sync round on this thread: covers everything written, which is all that is waited for. */
  #syncRoundNow(): void {
    const target = this.#written;
    const targetBytes = this.#writer.writtenBytes;
    const targetRecord = this.#writer.lastWrittenRecord;
    this.#roundsStarted++;
    try {
      if (TESTING_BUILD) this.#events.failpoint("commit.beforeFsync");
      this.stats.syncs++;
      const started = this.#now();
      // Callers checked canSyncNow with no await since, so the writer's refusal beside a flush cannot meet this call.
      this.#writer.syncNow();
      this.#syncRoundDone(target, this.#now() - started);
      this.#roundsDone = this.#roundsStarted;
      if (TESTING_BUILD) this.#events.failpoint("commit.afterFsync");
    } catch (error) {
      this.fail(error);
      return;
    }
    this.#markSynced(target, false, targetBytes, targetRecord);
  }

  #kickAsyncWrite(): void {
    if (this.#writing !== undefined || this.#paused || this.#failure !== undefined) return;
    this.#writing = this.#writeLoop().finally(() => {
      this.#writing = undefined;
      // A request that arrived while the loop was finishing must not be stranded.
      if (this.#writeNeeded() || this.#syncNeeded()) this.#schedule();
    });
  }

  #kickSync(): void {
    if (this.#syncing !== undefined || this.#paused || this.#failure !== undefined) return;
    this.#syncing = this.#syncLoop().finally(() => {
      this.#syncing = undefined;
      // As in #kickAsyncWrite: a request that came in while the loop was finishing must not be stranded.
      if (this.#syncNeeded()) this.#schedule();
    });
  }

  /** Someone waits for bytes that are appended but not yet written, and the pipeline may run. */
  #writeNeeded(): boolean {
    return (
      !this.#paused &&
      this.#failure === undefined &&
      this.#written < this.#appended &&
      (this.#writeWaiters.length > 0 || this.#syncWaiters.length > 0)
    );
  }

  #syncNeeded(): boolean {
    return !this.#paused && this.#failure === undefined && this.#syncWaiters.length > 0;
  }

  async #writeLoop(): Promise<void> {
    while (this.#writeNeeded()) {
      const target = this.#appended;
      const commitTarget = this.#appendedCommit;
      try {
        if (TESTING_BUILD) this.#events.failpoint("commit.beforeWrite");
        this.stats.writes++;
        this.stats.bytesWritten += this.#writer.pendingBytes;
        await this.#writer.write();
        if (TESTING_BUILD) this.#events.failpoint("commit.afterWrite");
      } catch (error) {
        this.fail(error);
        return;
      }
      this.#markWritten(target, commitTarget);
    }
  }

  async #syncLoop(): Promise<void> {
    while (this.#syncNeeded()) {
      let need = 0;
      for (const w of this.#syncWaiters) need = Math.max(need, w.lsn);
      if (this.#written < need) {
        // Bytes appended while the last round ran: write them (synchronously if possible), then sync. The loop
        // condition ends this when the pipeline pauses or fails.
        if (this.#writing === undefined && this.#writeNow()) continue;
        if (this.#writing === undefined) return;
        await this.#writing;
        continue;
      }
      const target = this.#written;
      // Bytes whose write completed before the fdatasync begins are covered by it: a record boundary.
      const targetBytes = this.#writer.writtenBytes;
      const targetRecord = this.#writer.lastWrittenRecord;
      this.#roundsStarted++;
      const started = this.#now();
      try {
        if (TESTING_BUILD) this.#events.failpoint("commit.beforeFsync");
        this.stats.syncs++;
        if (TESTING_BUILD && this.#events.syncBesideBackgroundSync === true) {
          // The writer's unchecked twin of syncNow, keyed outside its typed API.
          const writer = this.#writer as unknown as Record<symbol, () => void>;
          (writer[Symbol.for("@lora/wal-segment.syncNowBesideInFlight")] as () => void).call(writer);
        } else await this.#writer.sync();
      } catch (error) {
        const retry = this.#events.retrySyncAfterFailure;
        if (retry === undefined) {
          this.fail(error);
          return;
        }
        try {
          await retry();
        } catch (again) {
          this.fail(again);
          return;
        }
      }
      this.#syncRoundDone(target, this.#now() - started);
      this.#roundsDone = this.#roundsStarted;
      if (TESTING_BUILD) this.#events.failpoint("commit.afterFsync");
      const covered = TESTING_BUILD && this.#events.syncCoversLaterWrites === true ? this.#written : target;
      this.#markSynced(covered, false, targetBytes, targetRecord);
      // A quick round: the next one blocks, from a run (which the loop's end schedules if anyone waits).
      if (this.#placement.blocks && this.#writer.canSyncNow) return;
    }
  }

  #syncRoundDone(lsn: number, ms: number): void {
    this.#placement.observe(ms);
    this.stats.recordSync(ms);
    this.#events.onSyncRound?.(lsn, ms);
  }

  #markWritten(lsn: number, commitLsn: number): void {
    if (lsn > this.#written) this.#written = lsn;
    if (commitLsn > this.#writtenCommit) this.#writtenCommit = commitLsn;
    this.#events.onWritten(this.#written);
    if (this.#writeWaiters.length > 0) this.#writeWaiters = settle(this.#writeWaiters, this.#written);
  }

  #markSynced(lsn: number, roundCompleted: boolean, bytes?: number, record?: WrittenRecord): void {
    if (roundCompleted) this.#roundsDone = ++this.#roundsStarted;
    if (lsn > this.#synced) this.#synced = lsn;
    if (this.#synced > this.#fsyncCovered) this.#fsyncCovered = this.#synced;
    // The bytes describe this round's LSN only: an older round finishing late says nothing of the newest.
    if (lsn === this.#synced) this.#events.onSynced(lsn, bytes, record);
    else this.#events.onSynced(this.#synced);
    if (this.#syncWaiters.length > 0) this.#syncWaiters = settle(this.#syncWaiters, this.#synced, this.#roundsDone);
    if (this.#passiveWaiters.length > 0) this.#passiveWaiters = settle(this.#passiveWaiters, this.#synced);
  }
}

/**
 * Resolve the waiters whose LSN is covered (and, for forced syncs, whose round has completed); return the rest in
 * order. Allocates nothing when every waiter is resolved, the common case.
 */
function settle(waiters: Waiter[], coveredLsn: number, roundsDone = Number.POSITIVE_INFINITY): Waiter[] {
  let kept = 0;
  for (const w of waiters) {
    if (w.lsn <= coveredLsn && roundsDone > w.afterRound) w.resolve(w.value);
    else waiters[kept++] = w;
  }
  waiters.length = kept;
  return waiters;
}
