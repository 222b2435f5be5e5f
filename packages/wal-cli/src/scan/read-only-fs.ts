/**
 * A read-only view of the file-system seam: the Node implementation with every mutating operation refused and
 * every byte read counted (the progress bar's source). The CLI reads WAL directories only through it, so "never
 * changes a byte" holds by construction, not by care.
 */

import { WalError } from "@lora/wal-codec";
import { createNodeFileSystem, type OpenMode, type WalFile, type WalFileSystem } from "@lora/wal-segment";

/** Called with the number of bytes each read returned. */
export type ReadListener = (bytes: number) => void;

function refused(operation: string, path: string): WalError {
  return new WalError("WAL_IO", `lora-wal is read-only: refused to ${operation} ${path}`, {
    details: { path, syscall: operation, errno: "EROFS" },
  });
}

/**
 * Wrap `base` (default: the Node file system) so only `read` opens, `readdir`, `stat` and reads pass through.
 * @param onRead called after every read with its byte count.
 */
export function createReadOnlyFileSystem(
  onRead: ReadListener = () => undefined,
  base: WalFileSystem = createNodeFileSystem(),
): WalFileSystem {
  return {
    name: `read-only(${base.name})`,
    async open(path: string, mode: OpenMode): Promise<WalFile> {
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
        datasync: () => Promise.reject(refused("fdatasync", path)),
        sync: () => Promise.reject(refused("fsync", path)),
        truncate: () => Promise.reject(refused("truncate", path)),
        size: () => file.size(),
        close: () => file.close(),
      };
      return wrapped;
    },
    mkdirp: (path) => Promise.reject(refused("mkdir", path)),
    readdir: (path) => base.readdir(path),
    stat: (path) => base.stat(path),
    rename: (from) => Promise.reject(refused("rename", from)),
    unlink: (path) => Promise.reject(refused("unlink", path)),
    syncDir: (path) => Promise.reject(refused("fsync", path)),
  };
}
