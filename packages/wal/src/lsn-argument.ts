/** The check of an LSN passed to one of the handle's calls. */

import { shownValue, WalError } from "@lora/wal-codec";

/** @throws `WAL_INVALID_ARGUMENT` unless `value` is a non-negative safe integer (an LSN). */
export function assertLsnArgument(name: string, value: unknown): asserts value is number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return;
  throw new WalError("WAL_INVALID_ARGUMENT", `${name} must be a non-negative safe integer, got ${shownValue(value)}`);
}
