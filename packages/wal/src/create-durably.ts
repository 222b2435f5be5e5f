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
 * Directories found above the ones created may themselves be ones such an open created (killed inside its
 * `mkdirp`): every directory above them is fsynced too, skipping the ones that cannot be synced (below).
 *
 * An existing directory that holds no segment yet may be one an earlier open created and was killed before those
 * fsyncs: its parent and every directory above it are fsynced again (that open may have created several levels), so
 * the first segment written there is not lost with a directory's entry. An ancestor that cannot be opened or cannot
 * fsync a directory (`EACCES`, `EPERM`, `EROFS`, `EINVAL`, `ENOTSUP`, `EOPNOTSUPP`, `EBADF`, `EISDIR`) is skipped:
 * no open of ours created the directory below it there (a mounted volume, a directory created by hand). An existing
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
    // Every ancestor, not only the parent: the killed open may have created several levels (`mkdirp`), and which
    // cannot be told now.
    await syncAncestors(fs, dir);
    return;
  }
  await fs.mkdirp(dir);
  const topmost = missing[missing.length - 1] as string;
  for (const d of [...missing].reverse()) await fs.syncDir(dirname(d));
  // The levels found may be ones a killed open created before it died inside its own `mkdirp` (it made `a` of
  // `a/b/wal`, not `b`): their entries above are fsynced as for an empty log directory.
  await syncAncestors(fs, dirname(topmost));
}

/**
 * Fsync the parent of `dir` and every directory above it, skipping one that cannot be opened or cannot fsync a
 * directory ({@link NOT_SYNCABLE}); the ones above it are still tried.
 */
async function syncAncestors(fs: WalFileSystem, dir: string): Promise<void> {
  for (let d = dir; dirname(d) !== d; d = dirname(d)) {
    await fs.syncDir(dirname(d)).catch((error: unknown) => {
      const errno = (error as { details?: { errno?: string } }).details?.errno;
      if (errno === undefined || !NOT_SYNCABLE.has(errno)) throw error;
    });
  }
}
