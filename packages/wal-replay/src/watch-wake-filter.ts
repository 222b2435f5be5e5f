/**
 * Which directory-watch events wake a `followDir` follower. Every event does, except an append to a segment that
 * a durable-only follower can sleep through: while the writer publishes its durable LSN, it rewrites the durable
 * mark after each fsync that covers the append, and that rewrite wakes the follower anyway. Waking for the append
 * as well would read records that cannot be delivered yet and then wake again for the mark: two wake-ups per
 * commit round instead of one, which under 64 concurrent writers was a third of what a follower cost.
 */

import { DURABLE_MARK_FILE, isSpareSegmentName } from "@lora/wal-segment";

/**
 * How recently the mark must have changed for its writer to count as publishing (at most the follower's
 * `selfSyncAfterMs`). A writer that does not publish after each fsync (a `none`-mode writer rewrites the mark only
 * when it opens and rotates; one that died writes nothing more) gets every append woken for again after this long,
 * so a follower that must sync for itself learns of new records at once; until then the polling timer covers it.
 */
export const MARK_FRESH_MS = 100;

export class WatchWakeFilter {
  readonly #durableOnly: boolean;
  readonly #freshMs: number;
  /** When an event last said the mark changed (the caller's clock, in ms). */
  #markChangedAt = Number.NEGATIVE_INFINITY;

  /**
   * @param durableOnly the follower delivers only what is durable (`written` followers wake for every append).
   * @param selfSyncAfterMs the follower's `selfSyncAfterMs`: the mark counts as fresh for at most that long.
   */
  constructor(durableOnly: boolean, selfSyncAfterMs = Number.POSITIVE_INFINITY) {
    this.#durableOnly = durableOnly;
    this.#freshMs = Math.min(MARK_FRESH_MS, selfSyncAfterMs);
  }

  /**
   * Note one watch event and say whether it should wake the follower. `event` and `name` are what `fs.watch`
   * reports (`name` may be null); `now` is a monotonic time in ms.
   */
  wakes(event: string, name: string | null, now: number): boolean {
    if (name === DURABLE_MARK_FILE) {
      this.#markChangedAt = now;
      return true;
    }
    // A spare segment's events: it holds no records until a rotation renames it, which is reported under the
    // segment's name.
    if (name !== null && isSpareSegmentName(name)) return false;
    // A segment created or removed (a rotation, a truncation), or a file the filter does not know: wake.
    if (event !== "change" || name === null || !name.endsWith(".wal")) return true;
    return !this.#durableOnly || now - this.#markChangedAt >= this.#freshMs;
  }
}
