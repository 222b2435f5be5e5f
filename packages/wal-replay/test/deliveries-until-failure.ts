/** What a follower delivers over a bounded count of `next()` calls, and the failure that ended it, if any. */

import type { Follower } from "../src/follow-dir.js";

/**
 * Call `next()` at most `calls` times (never waiting for a transaction the files do not hold), collecting the commit
 * LSNs delivered and the error a call rejected with; the follower is returned afterwards.
 */
export async function deliveriesUntilFailure<E>(
  follower: Follower<E>,
  calls: number,
): Promise<{ delivered: number[]; failure: unknown }> {
  const delivered: number[] = [];
  let failure: unknown;
  try {
    for (let i = 0; i < calls; i++) {
      const next = await follower.next();
      if (next.done) break;
      delivered.push(next.value.commitLsn);
    }
  } catch (error) {
    failure = error;
  } finally {
    await follower.return();
  }
  return { delivered, failure };
}
