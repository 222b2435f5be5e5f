/**
 * The refusal of a path that is no log directory, for the readers and writers that need an existing log there
 * (`createSlot`, `followDir`): one wording and one code, `WAL_IO` with the errno a listing of the path would give.
 */

import { WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";

/**
 * Throws `WAL_IO` unless `dir` is a directory: `details.errno` `ENOENT` when nothing is there (also a file on the
 * way), `ENOTDIR` for a file. `consequence` ends the message: what the caller does (not) do about it.
 */
export async function checkLogDir(fs: WalFileSystem, dir: string, consequence: string): Promise<void> {
  const stat = await fs.stat(dir);
  if (stat?.isDirectory === true) return;
  const errno = stat === null ? "ENOENT" : "ENOTDIR";
  throw new WalError(
    "WAL_IO",
    `${dir} is not a log directory (${stat === null ? "no such directory" : "not a directory"}): ${consequence}`,
    { details: { path: dir, syscall: "stat", errno } },
  );
}
