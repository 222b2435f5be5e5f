/**
 * A file system that counts what goes through the seam, for tests that must show that something was not read (a
 * seek skipped segments, a follower took transactions from memory) or how many syncs a path got.
 */

import type { WalFile, WalFileSystem } from "../fs/file-system.js";
import { boundProperty, wrapFileSystem } from "./wrapped-fs.js";

/** What {@link countingFileSystem} observed, per path. */
export interface SeamCounts {
  /** Bytes returned by `read` and `readSync` of files opened through the counting seam. */
  readonly bytesRead: Map<string, number>;
  /** `datasync` and `datasyncSync` calls. */
  readonly datasyncs: Map<string, number>;
  /** Bytes read from paths that pass `filter` (every path without one). */
  totalBytesRead(filter?: (path: string) => boolean): number;
}

/**
 * Wrap `inner` so every file opened through it counts its reads and data syncs. The wrapper forwards every other
 * call unchanged (a proxy: the seam's classes keep private state that a subclass could not reach).
 */
export function countingFileSystem(inner: WalFileSystem): { fs: WalFileSystem; counts: SeamCounts } {
  const bytesRead = new Map<string, number>();
  const datasyncs = new Map<string, number>();
  const add = (map: Map<string, number>, path: string, n: number): void => {
    map.set(path, (map.get(path) ?? 0) + n);
  };
  const counts: SeamCounts = {
    bytesRead,
    datasyncs,
    totalBytesRead(filter) {
      let total = 0;
      for (const [path, n] of bytesRead) if (filter === undefined || filter(path)) total += n;
      return total;
    },
  };
  const wrapFile = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        const path = target.path;
        if (key === "read") {
          return async (buffer: Uint8Array, offset: number, length: number, position: number) => {
            const n = await target.read(buffer, offset, length, position);
            add(bytesRead, path, n);
            return n;
          };
        }
        if (key === "readSync" && target.readSync !== undefined) {
          const readSync = target.readSync.bind(target);
          return (buffer: Uint8Array, offset: number, length: number, position: number) => {
            const n = readSync(buffer, offset, length, position);
            add(bytesRead, path, n);
            return n;
          };
        }
        if (key === "datasync") {
          return () => {
            add(datasyncs, path, 1);
            return target.datasync();
          };
        }
        if (key === "datasyncSync" && target.datasyncSync !== undefined) {
          const datasyncSync = target.datasyncSync.bind(target);
          return () => {
            add(datasyncs, path, 1);
            datasyncSync();
          };
        }
        return boundProperty(target, key);
      },
    });
  return { fs: wrapFileSystem(inner, wrapFile), counts };
}
