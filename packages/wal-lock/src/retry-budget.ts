/** The one rule for a lock's retry budget, wherever a caller gives one (`retryBudgetMs`, `Wal.open`'s `lockRetryMs`). */

import { MAX_TIMER_MS, shownValue, WalError } from "@lora/wal-codec";

/**
 * Refuse a retry budget that is not a number from 0 to 2^31 - 1 ms (about 24.8 days), the range of every other delay
 * option of the log. A fraction is fine: the budget is compared with elapsed time. There is no "wait forever":
 * `Infinity` (and `Number.MAX_VALUE`, which is the same in practice) is refused, because a lock wait nothing can
 * cancel would hang its caller for as long as another process holds the directory; retry in the caller instead.
 * `name` is the option as the caller spelled it, for the message.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_OPTION`.
 */
export function checkRetryBudgetMs(value: unknown, name = "retryBudgetMs"): asserts value is number {
  if (typeof value !== "number" || !(value >= 0) || value > MAX_TIMER_MS) {
    throw new WalError("WAL_INVALID_OPTION", `${name} must be a number from 0 to 2^31 - 1, got ${shownValue(value)}`);
  }
}
