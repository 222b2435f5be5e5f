/** The check of the list of events passed to `commitTx` or `appendBatch`. */

import { WalError } from "@lora/wal-codec";

/** @throws `WAL_INVALID_ARGUMENT` unless `events` is an array (`call` names the method in the message). */
export function assertEventsArgument(call: string, events: unknown): asserts events is readonly unknown[] {
  if (Array.isArray(events)) return;
  throw new WalError("WAL_INVALID_ARGUMENT", `${call} takes an array of events, got ${typeof events}`);
}
