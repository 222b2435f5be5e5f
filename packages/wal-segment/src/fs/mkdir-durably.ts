/** Creating a directory so that it survives power loss, and making sure one found existing does too. */

import { dirname } from "node:path";
import { errnoOf } from "@lora/wal-codec";
import type { WalFileSystem } from "./file-system.js";

/**
 * Errnos of a directory fsync that say this process cannot fsync the directory (no permission to open it, a
 * read-only or fsync-less file system with our volume mounted on it): no earlier call of ours can have created a
 * directory there and lost it. `EBADF` and `EISDIR` are what systems that open a directory but cannot fsync one
 * return (PostgreSQL's `fsync_fname_ext` ignores them for a directory too).
 */
const NOT_SYNCABLE = new Set(["EACCES", "EPERM", "EROFS", "EINVAL", "ENOTSUP", "EOPNOTSUPP", "EBADF", "EISDIR"]);

/**
 * Create directory `path` and any missing ancestors so that they survive power loss, as a new file does by an fsync
 * of its directory: after `mkdirp`, each new directory's parent is fsynced, outermost first.
 *
 * When `path` exists it may be one an earlier call made and was killed before those fsyncs (its entry then is in no
 * parent on disk, and a power loss takes it with everything later written in it): its parent is fsynced too. That
 * fsync is skipped when the errno says the parent cannot be fsynced (`EACCES`, `EPERM`, `EROFS`, `EINVAL`, `ENOTSUP`,
 * `EOPNOTSUPP`, `EBADF`, `EISDIR`): such a directory was made by someone else (a mounted volume, a directory made by
 * hand). Any other failure of these fsyncs rejects.
 *
 * The directories above (above `path`'s parent, or above the ones created) may also be ones a killed call created
 * inside its `mkdirp`, which cannot be told now: they are fsynced too, up to the root, as a best effort whose
 * failures are ignored, since most of them were there long before.
 *
 * @returns the directories it created, outermost first (none when `path` existed).
 */
export async function mkdirDurably(fs: WalFileSystem, path: string): Promise<string[]> {
  const missing: string[] = [];
  for (let p = path; (await fs.stat(p)) === null; p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  const created = missing.reverse();
  if (created.length === 0) {
    if (dirname(path) === path) return created;
    await fs.syncDir(dirname(path)).catch(unlessNotSyncable);
  } else {
    await fs.mkdirp(path);
    for (const dir of created) await fs.syncDir(dirname(dir));
  }
  const top = dirname(created[0] ?? path);
  for (let d = top; dirname(d) !== d; d = dirname(d)) await fs.syncDir(dirname(d)).catch(() => undefined);
  return created;
}

/** Rethrow a directory fsync's failure unless its errno says the directory cannot be fsynced ({@link NOT_SYNCABLE}). */
function unlessNotSyncable(error: unknown): void {
  const errno = errnoOf(error);
  if (errno === undefined || !NOT_SYNCABLE.has(errno)) throw error;
}
