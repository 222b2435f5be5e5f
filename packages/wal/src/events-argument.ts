/** The check of the list of events passed to `commitTx` or `appendBatch`. */

import { readCallerValue, WalError } from "@lora/wal-codec";

/**
 * @throws `WAL_INVALID_ARGUMENT` unless `events` is an array (`call` names the method in the message), and for one
 *   that throws when looked at: a revoked proxy (`Array.isArray` throws a `TypeError`) or a proxy whose `length`
 *   throws, which would otherwise escape as its own error from the middle of the call.
 */
export function assertEventsArgument(call: string, events: unknown): asserts events is readonly unknown[] {
  const isArray = readCallerValue(
    () => Array.isArray(events) && typeof (events as readonly unknown[]).length === "number",
    "WAL_INVALID_ARGUMENT",
    `${call}: reading its events`,
  );
  if (isArray) return;
  throw new WalError("WAL_INVALID_ARGUMENT", `${call} takes an array of events, got ${typeof events}`);
}
