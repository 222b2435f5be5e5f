import type { WalFileSystem } from "../fs/file-system.js";

/**
 * A seam over `inner` with only the operations every seam must have: no `link`, no `rmdir`. A test uses it to check
 * the way a caller goes when a seam offers less than Node's file system does (a user's own seam, an old one).
 * Each operation is forwarded to `inner` unchanged.
 */
export function requiredOperationsOnly(inner: WalFileSystem, name = "required-only"): WalFileSystem {
  return {
    name,
    open: (path, mode) => inner.open(path, mode),
    mkdirp: (path) => inner.mkdirp(path),
    readdir: (path) => inner.readdir(path),
    stat: (path) => inner.stat(path),
    rename: (from, to) => inner.rename(from, to),
    unlink: (path) => inner.unlink(path),
    syncDir: (path) => inner.syncDir(path),
  };
}
