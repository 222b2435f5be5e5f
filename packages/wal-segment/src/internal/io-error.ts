/**
 * The one errno → `WalError` mapping of the file-system seam. Both the Node implementation and SimFS throw
 * through {@link ioError}, so an injected SimFS fault is indistinguishable from the real thing.
 */

import { constants } from "node:os";
import { WalError } from "@lora/wal-codec";

/** libuv's wording for the errnos the seam is likely to see; anything else falls back to the errno itself. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EBADF: "bad file descriptor",
  EDQUOT: "disk quota exceeded",
  EEXIST: "file already exists",
  EINVAL: "invalid argument",
  EIO: "i/o error",
  EISDIR: "illegal operation on a directory",
  EMFILE: "too many open files",
  ENOENT: "no such file or directory",
  ENOSPC: "no space left on device",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  EXDEV: "cross-device link not permitted",
};

/** An error shaped like the ones `node:fs` rejects with: `code`, negative `errno`, `syscall`, `path`. */
export interface ErrnoError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/** Build an error exactly as `node:fs` would for `errno` in `syscall` on `path` (used by SimFS). */
export function errnoError(errno: string, syscall: string, path: string): ErrnoError {
  const description = DESCRIPTIONS[errno] ?? errno.toLowerCase();
  const err = new Error(`${errno}: ${description}, ${syscall} '${path}'`) as ErrnoError;
  err.code = errno;
  const num = (constants.errno as Record<string, number | undefined>)[errno];
  if (num !== undefined) err.errno = -num;
  err.syscall = syscall;
  err.path = path;
  return err;
}

/**
 * Wrap an operating-system error as `WalError("WAL_IO")` with the original as `cause` and `errno`, `syscall`
 * and `path` in `details`. Errors that are already `WalError`s pass through unchanged.
 */
export function ioError(cause: unknown, syscall: string, path: string): WalError {
  if (cause instanceof WalError) return cause;
  // Not errnoOf: this is where the seam's details.errno is made, from the Node error itself (never from a cause of
  // it); what no errno names is EUNKNOWN, so every WAL_IO of the seam has one.
  const code = (cause as { code?: unknown } | null)?.code;
  const errno = typeof code === "string" ? code : "EUNKNOWN";
  const message = cause instanceof Error ? cause.message : String(cause);
  return new WalError("WAL_IO", `${syscall} failed on ${path}: ${message}`, {
    cause,
    details: { errno, syscall, path },
  });
}
