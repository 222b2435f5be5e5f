/**
 * Waits bounded by event-loop turns, never by a deadline (a liveness watchdog whose verdict does not change with the
 * machine's speed), and the one-line text of an error for a violation message.
 */

import { setImmediate } from "node:timers";
import { isWalError } from "@lora/wal";

/** One event-loop turn (timers included, so I/O callbacks run in between). */
export const turn = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * One event-loop turn without a timer: a check-phase callback (`setImmediate`). Where everything runs on microtasks
 * and immediates (SimFS, the in-memory archive, the handle's own turns) and no timer is due, what runs in between
 * does not depend on the machine's speed. `turn`'s 0 ms timer fires only once 1 ms has passed, so how many
 * immediates run before it does depends on how fast each one is.
 */
export const immediateTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Wait for `p` at most `turns` event-loop turns; `settled` says whether it did, with its value or error. Each turn is
 * `next(i)` (i from 0), `turn` unless given.
 */
export async function within<T>(
  p: Promise<T>,
  turns: number,
  next: (i: number) => Promise<void> = turn,
): Promise<{ settled: boolean; value?: T; error?: unknown }> {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  for (let i = 0; i < turns && !state.settled; i++) await next(i);
  return state;
}

/** `CODE: message` for a WalError, the message for another error, the value as text otherwise. */
export const errorText = (e: unknown): string =>
  isWalError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
