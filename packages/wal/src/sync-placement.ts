/**
 * Where a sync round's fdatasync runs: as a blocking call on the event-loop thread, or on libuv's thread pool.
 *
 * The thread pool costs a round trip per round: the fdatasync is handed to a pool thread and its completion comes
 * back through the event loop. On a small VM that hop is a large part of a fast fsync (a hand-off to another thread
 * and back; an awaiting writer committed ~1.35 x faster with the blocking call in apps/bench), while on a slow disk a blocking
 * call would stall the event loop for milliseconds per round. `"auto"` (the default) blocks only while the
 * previous round was quick: a blocking round that took longer than {@link AUTO_BLOCKING_LIMIT_MS} sends the next
 * to the pool, and a pool round seen complete within the limit (its time includes the hop and any wait for the
 * event loop, so it bounds the fsync from above) brings blocking back. A busy event loop therefore keeps its
 * syncs on the pool, and the longest stall auto can cause is one round that turned slow.
 */

/** What `blockingSync` accepts: always block, never block, or block while fsyncs are quick. */
export type BlockingSyncInput = boolean | "auto";

/** In `"auto"`, a round blocks the event loop only if the previous round took at most this long. */
export const AUTO_BLOCKING_LIMIT_MS = 1;

export class SyncPlacement {
  readonly #mode: BlockingSyncInput;
  /** The last round's duration; 0 before the first (which blocks in `"auto"`). */
  #lastMs = 0;

  constructor(mode: BlockingSyncInput) {
    this.#mode = mode;
  }

  /** Whether the next round should run as a blocking fdatasync (where the file offers one). */
  get blocks(): boolean {
    if (this.#mode === "auto") return this.#lastMs <= AUTO_BLOCKING_LIMIT_MS;
    return this.#mode;
  }

  /** A round's duration: a blocking round's fdatasync, or a pool round from its start to its completion seen. */
  observe(ms: number): void {
    this.#lastMs = ms;
  }
}
