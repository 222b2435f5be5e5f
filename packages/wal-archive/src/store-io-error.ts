/**
 * A store call's failure as `WAL_IO`: how `listArchive`/`verifyArchive`/`restore`, the archiver and `s3Archive` wrap
 * what a store (or the S3 client) threw that is not already a `WalError`.
 */

import { shownError, WalError, type WalErrorDetails } from "@lora/wal-codec";

/**
 * `WAL_IO` for a failed store call: the message `<subject>: <op> <object> failed: <shown>`, the thrown value as
 * `cause` and `details.object` set to the key or prefix (the message and details name no object when `object` is
 * undefined). `shown` defaults to `shownError(cause)`, which never throws, whatever the store threw. `seam` is what
 * the failed call's own `WAL_IO` said of where it failed (path, syscall, errno), kept under `object`.
 *
 * Only the error is built here: what passes through unwrapped (a `WalError`, an abort's reason) and whether the call
 * is retried are each caller's to decide.
 * @internal Shared within the package; not exported from it.
 */
export function storeIoError(
  subject: string,
  op: string,
  object: string | undefined,
  cause: unknown,
  shown: string = shownError(cause),
  seam: WalErrorDetails = {},
): WalError {
  const what = object === undefined || object === "" ? op : `${op} ${object}`;
  return new WalError("WAL_IO", `${subject}: ${what} failed: ${shown}`, {
    cause,
    details: object === undefined ? { ...seam } : { ...seam, object },
  });
}
