/** Creating the log directory so that it survives power loss. */

import { dirname } from "node:path";
import { parseSegmentId, type WalFileSystem } from "@lora/wal-segment";

/**
 * Errnos of a parent directory this process may not open for its fsync, or whose file system cannot fsync a
 * directory (a read-only or fsync-less root with the log's volume mounted on it): no earlier open of ours can have
 * created the directory there and lost it.
 */
const NOT_SYNCABLE = new Set(["EACCES", "EPERM", "EROFS", "EINVAL", "ENOTSUP", "EOPNOTSUPP"]);

/**
 * Create `dir` (and missing parents) so that it survives power loss: each directory created is made durable by an
 * fsync of its parent, as a new file is by an fsync of its directory. (Tier D of apps/torture found the log
 * directory itself created without it.)
 *
 * An existing directory that holds no segment yet may be one an earlier open created and was killed before that
 * fsync: its parent is fsynced again, so the first segment written there is not lost with the directory's entry.
 * That fsync is skipped when the parent cannot be opened or cannot fsync a directory (`EACCES`, `EPERM`, `EROFS`,
 * `EINVAL`, `ENOTSUP`): such a directory was made by someone else (a mounted volume, a directory created by hand). An existing log costs one stat and one listing.
 */
export async function createDurably(fs: WalFileSystem, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; (await fs.stat(d)) === null; d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  if (missing.length === 0) {
    if ((await fs.readdir(dir)).some((name) => parseSegmentId(name) !== undefined)) return;
    await fs.syncDir(dirname(dir)).catch((error: unknown) => {
      const errno = (error as { details?: { errno?: string } }).details?.errno;
      if (errno === undefined || !NOT_SYNCABLE.has(errno)) throw error;
    });
    return;
  }
  await fs.mkdirp(dir);
  for (const d of missing.reverse()) await fs.syncDir(dirname(d));
}
