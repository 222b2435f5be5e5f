/**
 * The argument checks both implementations of the file-system seam make before a read, a write or a truncation. A bad position
 * is a caller's mistake, and neither implementation used to refuse it: `node:fs` writes at the descriptor's own
 * offset (0 for the seam's files, over the segment header) when the position is negative, fractional or `NaN`, and
 * throws a plain `RangeError` for a read past its buffer, while SimFS read and wrote at fractional positions.
 */

import { shownValue, WalError } from "@lora/wal-codec";

function isIndex(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function refuse(what: string, path: string, detail: string): never {
  throw new WalError("WAL_INVALID_ARGUMENT", `${what} on ${path}: ${detail}`, { details: { path } });
}

/**
 * Check a read of `length` bytes at `position` into `buffer[offset..]`.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` unless `offset`, `length` and `position` are
 *   non-negative safe integers, `offset + length` fits in the buffer and `position + length` is a safe integer.
 */
export function checkReadArguments(
  path: string,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
): void {
  if (!(isIndex(offset) && isIndex(length) && isIndex(position))) {
    refuse(
      "read",
      path,
      `offset ${shownValue(offset)}, length ${shownValue(length)} and position ${shownValue(position)} must be integers >= 0`,
    );
  }
  if (offset + length > buffer.byteLength) {
    refuse("read", path, `${length} bytes at ${offset} do not fit in a buffer of ${buffer.byteLength}`);
  }
  if (!Number.isSafeInteger(position + length)) refuse("read", path, `position ${position} + ${length} is too large`);
}

/**
 * Check a write of `data` at `position`.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` unless `position` is a non-negative safe integer
 *   and `position + data.byteLength` is a safe integer.
 */
export function checkWriteArguments(path: string, data: Uint8Array, position: number): void {
  if (!isIndex(position) || !Number.isSafeInteger(position + data.byteLength)) {
    refuse(
      "write",
      path,
      `position ${shownValue(position)} must be an integer >= 0 (with ${data.byteLength} bytes after it)`,
    );
  }
}

/**
 * Check a truncation to `length`.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` unless `length` is a non-negative safe integer.
 */
export function checkTruncateLength(length: number): void {
  if (!isIndex(length)) throw new WalError("WAL_INVALID_ARGUMENT", `invalid length ${shownValue(length)}`);
}
