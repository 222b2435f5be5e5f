/**
 * Waits bounded by event-loop turns, never by a deadline (a liveness watchdog whose verdict does not change with the
 * machine's speed), and the one-line text of an error for a violation message.
 */

import { setImmediate } from "node:timers";
import { isWalError } from "@lora/wal";

/** One event-loop turn (timers included, so I/O callbacks run in between). */
export const turn = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * One event-loop turn without a timer: a check-phase callback (`setImmediate`, the timers module's own, which test
 * suites' fake timers leave alone). Where everything runs on microtasks and immediates (SimFS, the in-memory archive,
 * a handle and an archiver on a test's clock), what runs in between does not depend on the machine's speed; how many
 * immediates run before `turn`'s 0 ms timer does depends on how fast each one is.
 */
export const immediateTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Wait for `p` at most `turns` event-loop turns; `settled` says whether it did, with its value or error. Each turn is
 * `next()`, {@link turn} unless given.
 */
export async function within<T>(
  p: Promise<T>,
  turns: number,
  next: () => Promise<void> = turn,
): Promise<{ settled: boolean; value?: T; error?: unknown }> {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  for (let i = 0; i < turns && !state.settled; i++) await next();
  return state;
}

/** `CODE: message` for a WalError, the message for another error, the value as text otherwise. */
export const errorText = (e: unknown): string =>
  isWalError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
