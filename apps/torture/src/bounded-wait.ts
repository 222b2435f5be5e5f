/**
 * Waits bounded by event-loop turns, never by a deadline (a liveness watchdog whose verdict does not change with the
 * machine's speed), and the one-line text of an error for a violation message.
 */

import { isWalError } from "@lora/wal";

/** One event-loop turn (timers included, so I/O callbacks run in between). */
export const turn = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Wait for `p` at most `turns` event-loop turns; `settled` says whether it did, with its value or error. */
export async function within<T>(
  p: Promise<T>,
  turns: number,
): Promise<{ settled: boolean; value?: T; error?: unknown }> {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  for (let i = 0; i < turns && !state.settled; i++) await turn();
  return state;
}

/** `CODE: message` for a WalError, the message for another error, the value as text otherwise. */
export const errorText = (e: unknown): string =>
  isWalError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
