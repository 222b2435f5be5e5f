/**
 * The archiver's sources of time and chance, as one seam: by default Node's timers, `performance.now()`, `Date.now()`
 * and `Math.random()`, exactly as the archiver called them before the seam existed. It is for tests only: a harness
 * hands an archiver another clock with `withArchiverClock` (from `@lora/wal-archive/testing`), such as a
 * {@link ManualClock} it advances by count, so that when the shipping interval, the retry back-off and the call
 * time-out fire follows the test's steps and not the machine's speed. The option rides on a symbol key, so it is
 * not one of `startArchiver`'s named options and an application never meets it.
 */

import { readCallerValue, WalError } from "@lora/wal-codec";

/** What an archiver reads the time from and arms its timers with (see the module comment). */
export interface ArchiverClock {
  /** Milliseconds on a monotonic clock (`performance.now()`): the slot file's write throttle. */
  now(): number;
  /** Milliseconds since the epoch (`Date.now()`): when an LSN became durable, for `status().lagMs`. */
  wallNow(): number;
  /** A number from 0 (included) to 1 (excluded) (`Math.random()`): the jitter of a retry back-off. */
  random(): number;
  /**
   * Call `callback` once, `ms` from now. `keepAlive` false lets the process exit while it waits (`unref`). Returns a
   * function that cancels it (harmless once it has fired).
   */
  timeout(callback: () => void, ms: number, keepAlive: boolean): () => void;
  /** Call `callback` every `ms`, never keeping the process alive, until the returned function is called. */
  interval(callback: () => void, ms: number): () => void;
}

/** Node's clock and timers: what every archiver uses unless a test gave it another. */
export const nodeClock: ArchiverClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  random: () => Math.random(),
  timeout(callback, ms, keepAlive) {
    const timer = setTimeout(callback, ms);
    if (!keepAlive) timer.unref();
    return () => clearTimeout(timer);
  },
  interval(callback, ms) {
    const timer = setInterval(callback, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** The symbol key `withArchiverClock` sets on `startArchiver`'s options (see the module comment). */
export const ARCHIVER_CLOCK: unique symbol = Symbol.for("@lora/wal-archive.clock") as never;

const CLOCK_METHODS = ["now", "wallNow", "random", "timeout", "interval"] as const;

/**
 * The clock given on `options` under {@link ARCHIVER_CLOCK}, or {@link nodeClock}.
 * @throws {@link WalError} `WAL_INVALID_OPTION` when something other than a clock sits under the key (or reading it
 *   throws): the key is public through `Symbol.for`, and a wrong value must be refused before the archiver starts,
 *   not fail its first timer.
 */
export function clockOf(options: object): ArchiverClock {
  const what = "startArchiver: reading the test clock (withArchiverClock)";
  const clock = readCallerValue(
    () => (options as { [ARCHIVER_CLOCK]?: unknown })[ARCHIVER_CLOCK],
    "WAL_INVALID_OPTION",
    what,
  );
  if (clock === undefined) return nodeClock;
  const missing = readCallerValue(
    () =>
      typeof clock !== "object" || clock === null
        ? [...CLOCK_METHODS]
        : CLOCK_METHODS.filter((name) => typeof (clock as Record<string, unknown>)[name] !== "function"),
    "WAL_INVALID_OPTION",
    what,
  );
  if (missing.length > 0) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `startArchiver: the test clock given with withArchiverClock must be an ArchiverClock; it lacks ${missing.join(", ")}`,
    );
  }
  return clock as ArchiverClock;
}
