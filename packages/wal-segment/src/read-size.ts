/**
 * The read size of a segment reader (`chunkBytes`): how many bytes one read asks for. Checked where it is given, so
 * a bad value is refused at once instead of reading nothing (`NaN`) or failing later with an error that has no code.
 */

import { shownValue, WalError } from "@lora/wal-codec";

/** The read size when none is given. */
export const DEFAULT_READ_BYTES = 1 << 20;

/**
 * `chunkBytes` as a reader uses it: the default when `undefined`, else the value itself when it is a safe integer of
 * at least 1.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_OPTION` for anything else (0, negative, fractional, `NaN`,
 *   not a number).
 */
export function readSizeOf(chunkBytes: number | undefined): number {
  if (chunkBytes === undefined) return DEFAULT_READ_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `chunkBytes must be an integer of at least 1, got ${shownValue(chunkBytes)}`,
    );
  }
  return chunkBytes;
}
