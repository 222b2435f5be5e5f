/**
 * Cold-cache reads: drop files from the kernel's page cache before a timed read, with `posix_fadvise(…,
 * POSIX_FADV_DONTNEED)` (through koffi: Node has no binding for it). Only clean pages are dropped, so each file is
 * fdatasynced first. Linux only; elsewhere (or when libc cannot be loaded) it says so and the cold rows are skipped.
 */

import * as fs from "node:fs";
import { createRequire } from "node:module";

const POSIX_FADV_DONTNEED = 4;

type Fadvise = (fd: number, offset: number, length: number, advice: number) => number;
let fadvise: Fadvise | null | undefined;

/** The libc function, or null where it cannot be had (with the reason in {@link coldCacheUnavailable}). */
function binding(): Fadvise | null {
  if (fadvise !== undefined) return fadvise;
  if (process.platform !== "linux") {
    fadvise = null;
    return null;
  }
  try {
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    fadvise = koffi
      .load("libc.so.6")
      .func("int posix_fadvise(int fd, int64_t offset, int64_t len, int advice)") as Fadvise;
  } catch {
    fadvise = null;
  }
  return fadvise;
}

/** Why cold-cache reads cannot be measured here, or undefined when they can. */
export function coldCacheUnavailable(): string | undefined {
  if (process.platform !== "linux") return `posix_fadvise is used on Linux only (this is ${process.platform})`;
  return binding() === null ? "libc's posix_fadvise could not be loaded through koffi" : undefined;
}

/**
 * Drop `files` from the page cache (each fdatasynced, then advised DONTNEED over its whole length).
 * @throws when the advice is unavailable or fails, so a "cold" figure is never a warm one in disguise.
 */
export function evictFromPageCache(files: readonly string[]): void {
  const advise = binding();
  if (advise === null) throw new Error(`cold cache: ${coldCacheUnavailable()}`);
  for (const path of files) {
    const fd = fs.openSync(path, "r");
    try {
      fs.fdatasyncSync(fd);
      const rc = advise(fd, 0, 0, POSIX_FADV_DONTNEED);
      if (rc !== 0) throw new Error(`posix_fadvise(DONTNEED) of ${path} failed with errno ${rc}`);
    } finally {
      fs.closeSync(fd);
    }
  }
}
