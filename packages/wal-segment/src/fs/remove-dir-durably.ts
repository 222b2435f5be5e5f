/**
 * Undoing a directory a call created: remove it while it is still empty and make the removal durable, best effort.
 */

import { dirname } from "node:path";
import type { WalFileSystem } from "./file-system.js";

/**
 * Remove directory `path` if it is empty, then fsync its parent so the removal survives a crash. For a call that
 * undoes a directory it created itself (a refused restore, a refused `slots create`), so that the refusal leaves the
 * file system as it found it.
 *
 * Guarantees: it never rejects (a failure to undo must not hide the error being reported). A directory with entries
 * stays as it is (`rmdir` refuses it), so does a missing one, and with a seam that has no `rmdir` nothing is touched.
 * When the directory is removed, its parent's `syncDir` is called once; that fsync is best effort too (a failure is
 * ignored and the result stays `true`).
 *
 * @returns `true` when the directory was removed; `false` when it stays (not empty, missing, or a seam without
 *   `rmdir`), so that a caller undoing nested directories innermost first knows to stop.
 */
export async function removeEmptyDirDurably(fs: WalFileSystem, path: string): Promise<boolean> {
  if (fs.rmdir === undefined) return false;
  try {
    await fs.rmdir(path);
  } catch {
    return false;
  }
  await fs.syncDir(dirname(path)).catch(() => undefined);
  return true;
}
