/**
 * `withArchiverClock`: `startArchiver` options with a clock of a test's own (see `archiver-clock.ts`).
 */

import type { ArchiverOptions } from "../archiver.js";
import { ARCHIVER_CLOCK, type ArchiverClock } from "../archiver-clock.js";

/**
 * `options` for `startArchiver` whose archiver reads the time, arms its shipping interval, retry back-off and call
 * time-outs, and draws its back-off jitter from `clock` instead of Node's timers, `performance.now()`, `Date.now()`
 * and `Math.random()`. For tests: with a `ManualClock` none of them fires until the test advances it, so what
 * the archiver does no longer depends on the machine's speed. Without it an archiver behaves exactly as before.
 */
export function withArchiverClock(options: ArchiverOptions, clock: ArchiverClock): ArchiverOptions {
  const withClock: ArchiverOptions & { [ARCHIVER_CLOCK]?: ArchiverClock } = { ...options };
  withClock[ARCHIVER_CLOCK] = clock;
  return withClock;
}
