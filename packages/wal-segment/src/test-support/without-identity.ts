/**
 * A seam over another that reports no file identity, as a seam written before the seam had one (or one over a store
 * that cannot tell files apart): its `stat` leaves `identity` out and its files have no `identity()`. Every other
 * call is forwarded unchanged.
 */

import type { FileStat, WalFileSystem } from "../fs/file-system.js";
import { boundProperty, wrapFileSystem } from "../testing/wrapped-fs.js";

export function withoutIdentity(inner: WalFileSystem): WalFileSystem {
  return wrapFileSystem(
    inner,
    (file) =>
      new Proxy(file, {
        get: (target, key) => (key === "identity" ? undefined : boundProperty(target, key)),
      }),
    {
      stat: async (path: string): Promise<FileStat | null> => {
        const found = await inner.stat(path);
        return found === null ? null : { size: found.size, isFile: found.isFile, isDirectory: found.isDirectory };
      },
    },
  );
}
