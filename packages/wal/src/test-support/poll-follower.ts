/**
 * Waits for a follower on a testing clock (fake timers, no watch): it is woken only by its polling timer, so every
 * wait is bounded by a count of timer firings, never by time.
 */

import type { CommittedTransaction } from "@lora/wal-replay";
import { vi } from "vitest";

/** Turns of the event loop a real file system's I/O may take between two timer firings, at most. */
const IO_TURNS = 100_000;

/** Fire timers one at a time until `settled()` or `limit` firings, letting real I/O finish in between. */
export async function pollTimers(settled: () => boolean, limit: number): Promise<void> {
  let turns = 0;
  for (let polls = 0; polls < limit && !settled(); ) {
    if (vi.getTimerCount() > 0) {
      await vi.advanceTimersToNextTimerAsync();
      polls++;
    } else if (++turns > IO_TURNS) {
      break;
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/**
 * The next transaction (begin LSN, commit LSN, events) within `limit` timer firings, or `"waited"`: what a follower
 * still waiting past the bound answers once stopped through `stop`.
 */
export async function nextWithin<E>(
  follower: AsyncIterator<CommittedTransaction<E>>,
  stop: AbortController,
  limit: number,
): Promise<[number, number, E[]] | "waited"> {
  let settled = false;
  const next = follower.next().finally(() => {
    settled = true;
  });
  await pollTimers(() => settled, limit);
  // Past the bound: stop it, so that a follower still waiting ends (done) and the check reports it.
  if (!settled) stop.abort();
  const n = await next;
  return n.done === true ? "waited" : [n.value.beginLsn, n.value.commitLsn, n.value.events];
}
