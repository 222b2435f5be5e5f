/**
 * A read-only view of the file-system seam: the Node implementation with every mutating operation refused and
 * every byte read counted (the progress bar's source). The CLI reads WAL directories only through it, so "never
 * changes a byte" holds by construction, not by care.
 *
 * Three commands need a little more, each granted by an option and nothing else: `follow` may fsync what it read
 * (a log no live writer publishes a durable mark for: fsync changes no byte), `follow --slot` and
 * `slots create|drop` may write inside the log's `slots/` directory only, never beside the segments, and `restore`
 * may create the new log directory and write inside it only. An archive directory is read through a view with no
 * grant at all. A directory lock taken through a view is its base's (`lockBase`, the `LockTarget` decided for the base,
 * never the base itself, through which anyone handed the view could write): restore through it excludes a `Wal` and
 * LoraDB as a restore on Node's file system does (the lock file is created by the lock, not through the view).
 */

import { dirname, resolve } from "node:path";
import { WalError } from "@lora/wal-codec";
import { type LockTarget, lockTargetOf } from "@lora/wal-lock";
import { createNodeFileSystem, type OpenMode, type WalFile, type WalFileSystem } from "@lora/wal-segment";

/** Called with the number of bytes each read returned. */
export type ReadListener = (bytes: number) => void;

/** What a {@link createReadOnlyFileSystem} view lets through besides reads. */
export interface ReadOnlyGrants {
  /**
   * Let `fdatasync`/`fsync` of files opened for reading and `fsync` of directories through: they make durable what
   * is already written and change no byte, size, name or mtime. @default false
   */
  readonly allowSync?: boolean;
  /**
   * The one directory whose own files may be created, written, renamed, synced and removed (and which may be
   * created itself, when its parent exists, and removed again while empty): a log's `slots/`, or the log directory
   * `restore` creates. Nothing outside it, nothing in its subdirectories.
   * @default none
   */
  readonly writableDir?: string;
}

function refused(operation: string, path: string): WalError {
  return new WalError("WAL_IO", `lora-wal is read-only: refused to ${operation} ${path}`, {
    details: { path, syscall: operation, errno: "EROFS" },
  });
}

/**
 * Wrap `base` (default: the Node file system) so only `read` opens, `readdir`, `stat` and reads pass through, plus
 * what `grants` allows.
 * @param onRead called after every read with its byte count.
 */
export function createReadOnlyFileSystem(
  onRead: ReadListener = () => undefined,
  base: WalFileSystem = createNodeFileSystem(),
  grants: ReadOnlyGrants = {},
): WalFileSystem {
  const writable = grants.writableDir === undefined ? undefined : resolve(grants.writableDir);
  const inWritable = (path: string): boolean => writable !== undefined && dirname(resolve(path)) === writable;
  const isWritable = (path: string): boolean => writable !== undefined && resolve(path) === writable;
  const sync = grants.allowSync === true;
  const view: WalFileSystem & { readonly lockBase: LockTarget } = {
    name: `read-only(${base.name})`,
    // A directory lock taken through the view (restore's) is the base's, the one a Wal or LoraDB takes there: by its
    // own name the view would get a lock inside this process only (see @lora/wal-lock's lockDirectory). The lock
    // decided for the base, not the base itself: whoever is handed the view could write through a file system.
    lockBase: lockTargetOf(base),
    async open(path: string, mode: OpenMode): Promise<WalFile> {
      if (inWritable(path)) return await base.open(path, mode);
      if (mode !== "read") throw refused(`open (${mode})`, path);
      const file = await base.open(path, "read");
      const wrapped: WalFile = {
        path: file.path,
        async read(buffer, offset, length, position) {
          const n = await file.read(buffer, offset, length, position);
          onRead(n);
          return n;
        },
        write: () => Promise.reject(refused("write", path)),
        datasync: () => (sync ? file.datasync() : Promise.reject(refused("fdatasync", path))),
        sync: () => (sync ? file.sync() : Promise.reject(refused("fsync", path))),
        truncate: () => Promise.reject(refused("truncate", path)),
        size: () => file.size(),
        close: () => file.close(),
      };
      // An fstat, no change: forwarded so a follower through the view tells its segment by identity (`stat`
      // reports one), not by the bytes before its position, which cannot tell a copy of the file from it.
      const identity = file.identity?.bind(file);
      if (identity !== undefined) return { ...wrapped, identity };
      return wrapped;
    },
    async mkdirp(path) {
      // Only the granted directory itself, and only inside an existing log directory (never its parents).
      if (!isWritable(path) || (await base.stat(dirname(resolve(path))))?.isDirectory !== true) {
        throw refused("mkdir", path);
      }
      await base.mkdirp(path);
    },
    readdir: (path) => base.readdir(path),
    stat: (path) => base.stat(path),
    rename: (from, to) =>
      inWritable(from) && inWritable(to) ? base.rename(from, to) : Promise.reject(refused("rename", from)),
    unlink: (path) => (inWritable(path) ? base.unlink(path) : Promise.reject(refused("unlink", path))),
    syncDir: (path) => (sync || isWritable(path) ? base.syncDir(path) : Promise.reject(refused("fsync", path))),
    // The granted directory itself, as `mkdirp` may create it: a refused command removes it again when it made it.
    rmdir: (path) =>
      isWritable(path) && base.rmdir !== undefined ? base.rmdir(path) : Promise.reject(refused("rmdir", path)),
  };
  return view;
}
