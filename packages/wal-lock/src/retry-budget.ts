/** The one rule for a lock's retry budget, wherever a caller gives one (`retryBudgetMs`, `Wal.open`'s `lockRetryMs`). */

import { shownValue, WalError } from "@lora/wal-codec";

/**
 * Refuse a retry budget that is not a finite number >= 0 (a fraction is fine: it is compared with elapsed time).
 * `name` is the option as the caller spelled it, for the message.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_OPTION`.
 */
export function checkRetryBudgetMs(value: unknown, name = "retryBudgetMs"): asserts value is number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new WalError("WAL_INVALID_OPTION", `${name} must be a finite number >= 0, got ${shownValue(value)}`);
  }
}
