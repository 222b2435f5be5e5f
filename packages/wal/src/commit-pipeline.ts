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
 */

import type { SegmentWriter } from "@lora/wal-segment";
import type { Failpoint } from "./testing-hooks.js";

interface Waiter {
  readonly lsn: number;
  /** Only a sync round that starts after this one may resolve the waiter (forced syncs). */
  readonly afterRound: number;
  resolve(): void;
  reject(error: unknown): void;
}

export interface PipelineEvents {
  /** A write or sync failed: the handle must poison. */
  onFailure(error: unknown): void;
  /** LSNs up to `lsn` were handed to the OS. */
  onWritten(lsn: number): void;
  /** LSNs up to `lsn` are covered by an fdatasync. */
  onSynced(lsn: number): void;
  failpoint: Failpoint;
  /**
   * Planted bug `retry-fsync-after-eio` only: after a failed fdatasync, fsync again and carry on when that
   * succeeds (what fsyncgate taught never to do). Undefined in every real handle.
   */
  retrySyncAfterFailure?: (() => Promise<void>) | undefined;
}

export class CommitPipeline {
  #writer: SegmentWriter;
  readonly #events: PipelineEvents;
  #appended: number;
  #written: number;
  #synced: number;
  #writeWaiters: Waiter[] = [];
  #syncWaiters: Waiter[] = [];
  /** Waiters that do not ask for a sync; a sync someone else runs resolves them (group mode's `whenDurable`). */
  #passiveWaiters: Waiter[] = [];
  #writing: Promise<void> | undefined;
  #syncing: Promise<void> | undefined;
  #roundsStarted = 0;
  #roundsDone = 0;
  #paused = false;
  #failure: unknown;
  /** Counters for tests and benchmarks. */
  readonly stats = { writes: 0, syncs: 0 };

  constructor(writer: SegmentWriter, durableLsn: number, events: PipelineEvents) {
    this.#writer = writer;
    this.#events = events;
    this.#appended = durableLsn;
    this.#written = durableLsn;
    this.#synced = durableLsn;
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

  /** Record that LSNs up to `lsn` are now in the writer's buffer. */
  noteAppended(lsn: number): void {
    this.#appended = lsn;
  }

  /** Resolves once every byte up to `lsn` has been handed to the OS. */
  whenWritten(lsn: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#written >= lsn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#writeWaiters.push({ lsn, afterRound: -1, resolve, reject });
      this.#kickWrite();
    });
  }

  /**
   * Resolves once an fdatasync that began after the bytes of `lsn` were written has completed. With `force`, a
   * new sync round runs even if `lsn` is already covered.
   */
  whenSynced(lsn: number, force = false): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!force && this.#synced >= lsn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#syncWaiters.push({ lsn, afterRound: force ? this.#roundsStarted : -1, resolve, reject });
      this.#kickWrite();
      this.#kickSync();
    });
  }

  /** Resolves once a sync started by anyone else covers `lsn`; never starts one itself. */
  whenSyncedPassively(lsn: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#synced >= lsn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#passiveWaiters.push({ lsn, afterRound: -1, resolve, reject });
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
      if (this.#failure === undefined) {
        if (this.#writeNeeded()) this.#kickWrite();
        if (this.#syncWaiters.length > 0) this.#kickSync();
      }
    }
  }

  /**
   * Inside {@link CommitPipeline.exclusive}: the current writer was sealed (flushed and fsynced), so everything
   * appended is written and durable; switch to `next`.
   */
  sealedAndReplaced(next: SegmentWriter): void {
    this.#markWritten(this.#appended);
    this.#markSynced(this.#appended, true);
    this.#writer = next;
  }

  /** Inside `exclusive`: everything appended was flushed and fsynced by the caller. */
  flushedOutside(): void {
    this.#markWritten(this.#appended);
    this.#markSynced(this.#appended, true);
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

  #kickWrite(): void {
    if (this.#writing !== undefined || this.#paused || this.#failure !== undefined) return;
    // Start on the next microtask, so every commit appended in this turn of the event loop shares one write.
    this.#writing = Promise.resolve()
      .then(() => this.#writeLoop())
      .finally(() => {
        this.#writing = undefined;
        // A request that arrived after the loop's last check but before this cleanup found `#writing` still set
        // and did not start a loop: start one for it now, or it would wait forever.
        if (this.#writeNeeded()) this.#kickWrite();
      });
  }

  #kickSync(): void {
    if (this.#syncing !== undefined || this.#paused || this.#failure !== undefined) return;
    this.#syncing = this.#syncLoop().finally(() => {
      this.#syncing = undefined;
      // As in #kickWrite: a request that came in while the loop was finishing must not be stranded.
      if (this.#syncNeeded()) this.#kickSync();
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
      this.#events.failpoint("commit.beforeWrite");
      try {
        this.stats.writes++;
        // A synchronous pwrite when the file offers one (no thread-pool round trip), else the asynchronous write.
        if (!this.#writer.writeNow()) await this.#writer.write();
      } catch (error) {
        this.fail(error);
        return;
      }
      this.#events.failpoint("commit.afterWrite");
      this.#markWritten(target);
    }
  }

  async #syncLoop(): Promise<void> {
    while (this.#syncNeeded()) {
      let need = 0;
      for (const w of this.#syncWaiters) need = Math.max(need, w.lsn);
      if (this.#written < need) {
        this.#kickWrite();
        if (this.#writing === undefined) return;
        await this.#writing;
        continue;
      }
      const target = this.#written;
      this.#roundsStarted++;
      this.#events.failpoint("commit.beforeFsync");
      try {
        this.stats.syncs++;
        await this.#writer.sync();
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
      this.#roundsDone = this.#roundsStarted;
      this.#events.failpoint("commit.afterFsync");
      this.#markSynced(target, false);
    }
  }

  #markWritten(lsn: number): void {
    if (lsn > this.#written) this.#written = lsn;
    this.#events.onWritten(this.#written);
    const still: Waiter[] = [];
    for (const w of this.#writeWaiters) {
      if (w.lsn <= this.#written) w.resolve();
      else still.push(w);
    }
    this.#writeWaiters = still;
  }

  #markSynced(lsn: number, roundCompleted: boolean): void {
    if (roundCompleted) this.#roundsDone = ++this.#roundsStarted;
    if (lsn > this.#synced) this.#synced = lsn;
    this.#events.onSynced(this.#synced);
    const still: Waiter[] = [];
    for (const w of this.#syncWaiters) {
      if (w.lsn <= this.#synced && this.#roundsDone > w.afterRound) w.resolve();
      else still.push(w);
    }
    this.#syncWaiters = still;
    this.#passiveWaiters = this.#passiveWaiters.filter((w) => {
      if (w.lsn > this.#synced) return true;
      w.resolve();
      return false;
    });
  }
}
