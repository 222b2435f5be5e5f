/** Reading the operating system's errno name out of a failure, wherever the failure's maker put it. */

import { isWalError } from "./errors.js";

/**
 * The errno name (`"ENOENT"`, `"EEXIST"`, `"ENOSPC"`, ...) that `error` carries, or `undefined`. It reads exactly:
 *
 * - for a {@link WalError}: its `details.errno` when that is a string (the file-system seam puts it there on every
 *   `WAL_IO`); otherwise the `code` of its `cause`, when the cause is a string-coded object that is not itself a
 *   `WalError` (a Node error wrapped without `details.errno`). Never the `WalError`'s own `code` (a `WAL_*` code);
 * - for any other object: its own `code` when that is a string (a raw Node error, whose `code` may also be one of
 *   Node's `ERR_*` codes); otherwise the `code` of its `cause`, on the same terms as above.
 *
 * One level of `cause` only, and never into a `WalError` cause: a `WAL_POISONED` whose cause is an `ENOSPC` failure
 * is not itself an `ENOSPC` failure. A value that is not an object has no errno.
 *
 * ```ts
 * try {
 *   await fs.unlink(path);
 * } catch (error) {
 *   if (errnoOf(error) !== "ENOENT") throw error; // already gone is fine
 * }
 * ```
 */
export function errnoOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  if (isWalError(error)) {
    const errno = (error.details as { errno?: unknown }).errno;
    return typeof errno === "string" ? errno : plainCode(error.cause);
  }
  return plainCode(error) ?? plainCode((error as { cause?: unknown }).cause);
}

/** The string `code` of an object that is not a `WalError`, else `undefined`. */
function plainCode(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || isWalError(value)) return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
