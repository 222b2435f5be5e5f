/**
 * The `fs` option every layer takes (the file-system seam), checked where it is taken: a value that is not a
 * {@link WalFileSystem} is a caller's mistake, refused with a code before anything is read or written, not a
 * `TypeError` from the middle of an open.
 */

import { readCallerValue, WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "./file-system.js";
import { createNodeFileSystem } from "./node-file-system.js";

/** The methods a {@link WalFileSystem} must have. */
const FILE_SYSTEM_METHODS = ["open", "mkdirp", "readdir", "stat", "rename", "unlink", "syncDir"] as const;

/**
 * The file system an `fs` option names: the Node file system when it is `undefined`, else `fs` itself once it has
 * every method of a {@link WalFileSystem} (what they do is not checked: that is the seam's contract).
 * @param where The function taking the option, for the message (`"Wal.open"`).
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_OPTION` when `fs` is not an object with those methods, naming the first
 *   one missing, or the error reading them threw (a getter, a proxy trap).
 */
export function fileSystemOption(fs: unknown, where: string): WalFileSystem {
  if (fs === undefined) return createNodeFileSystem();
  checkFileSystem(fs, where, "WAL_INVALID_OPTION");
  return fs;
}

/**
 * Assert that `fs`, a file system passed as an argument (`listSegments`, `SegmentReader.open`), is a
 * {@link WalFileSystem}, as {@link fileSystemOption} checks it; there is no default.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` otherwise.
 */
export function checkFileSystemArgument(fs: unknown, where: string): asserts fs is WalFileSystem {
  checkFileSystem(fs, where, "WAL_INVALID_ARGUMENT");
}

function checkFileSystem(
  fs: unknown,
  where: string,
  code: "WAL_INVALID_OPTION" | "WAL_INVALID_ARGUMENT",
): asserts fs is WalFileSystem {
  if ((typeof fs !== "object" && typeof fs !== "function") || fs === null) {
    throw new WalError(code, `${where}: fs must be a WalFileSystem, got ${fs === null ? "null" : typeof fs}`);
  }
  const missing = readCallerValue(
    () => FILE_SYSTEM_METHODS.find((m) => typeof (fs as Record<string, unknown>)[m] !== "function"),
    code,
    `${where}: fs: reading its methods`,
  );
  if (missing !== undefined) {
    throw new WalError(
      code,
      `${where}: fs must be a WalFileSystem (${FILE_SYSTEM_METHODS.join(", ")}); it has no ${missing}() method`,
    );
  }
}
