/** Creating the log directory so that it survives power loss. */

import { dirname } from "node:path";
import { parseSegmentId, type WalFileSystem } from "@lora/wal-segment";

/**
 * Errnos of a parent directory this process may not open for its fsync, or whose file system cannot fsync a
 * directory (a read-only or fsync-less root with the log's volume mounted on it): no earlier open of ours can have
 * created the directory there and lost it. `EBADF` and `EISDIR` are what systems that open a directory but cannot
 * fsync one return (PostgreSQL's `fsync_fname_ext` ignores them for a directory too).
 */
const NOT_SYNCABLE = new Set(["EACCES", "EPERM", "EROFS", "EINVAL", "ENOTSUP", "EOPNOTSUPP", "EBADF", "EISDIR"]);

/**
 * Create `dir` (and missing parents) so that it survives power loss: each directory created is made durable by an
 * fsync of its parent, as a new file is by an fsync of its directory. (Tier D of apps/torture found the log
 * directory itself created without it.)
 *
 * An existing directory that holds no segment yet may be one an earlier open created and was killed before those
 * fsyncs: its parent is fsynced again, so the first segment written there is not lost with the directory's entry.
 * That fsync is skipped when the parent cannot be opened or cannot fsync a directory (`EACCES`, `EPERM`, `EROFS`,
 * `EINVAL`, `ENOTSUP`, `EOPNOTSUPP`, `EBADF`, `EISDIR`): such a directory was made by someone else (a mounted volume, a
 * directory created by hand). Any other failure of a fsync named so far fails the open.
 *
 * The directories above those (above the parent of an empty `dir`, or above the ones this call created) may also be
 * ones a killed open created inside its `mkdirp`, which cannot be told now: they are fsynced too, up to the root, as
 * a best effort whose failures are ignored, since most of them were there long before any open of ours. An existing
 * log costs one stat and one listing.
 */
export async function createDurably(fs: WalFileSystem, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; (await fs.stat(d)) === null; d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  if (missing.length === 0) {
    if ((await fs.readdir(dir)).some((name) => parseSegmentId(name) !== undefined)) return;
    await fs.syncDir(dirname(dir)).catch(unlessNotSyncable);
    await syncAboveBestEffort(fs, dirname(dir));
    return;
  }
  await fs.mkdirp(dir);
  for (const d of [...missing].reverse()) await fs.syncDir(dirname(d));
  await syncAboveBestEffort(fs, dirname(missing[missing.length - 1] as string));
}

/** Rethrow a directory fsync's failure unless it says the directory cannot be synced ({@link NOT_SYNCABLE}). */
function unlessNotSyncable(error: unknown): void {
  const errno = (error as { details?: { errno?: string } }).details?.errno;
  if (errno === undefined || !NOT_SYNCABLE.has(errno)) throw error;
}

/** Fsync every directory above `dir` (not `dir` itself), up to the root, ignoring every failure. */
async function syncAboveBestEffort(fs: WalFileSystem, dir: string): Promise<void> {
  for (let d = dir; dirname(d) !== d; d = dirname(d)) await fs.syncDir(dirname(d)).catch(() => undefined);
}
