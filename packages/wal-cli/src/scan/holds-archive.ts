/**
 * Whether a directory that holds no segment is an archive of a log (what `@lora/wal-archive`'s archiver writes: keys
 * under `segments/` and `partial/`), named where a log was meant.
 */

import { join } from "node:path";
import { PIECES_PREFIX, parseArchiveKey, SEGMENTS_PREFIX } from "@lora/wal-archive";
import type { WalFileSystem } from "@lora/wal-segment";

/**
 * `true` when `dir` holds at least one object key of an archive. Advice only: a listing that fails in any way
 * counts as none, so the probe never changes what a command answers.
 */
export async function holdsArchive(fs: WalFileSystem, dir: string): Promise<boolean> {
  for (const prefix of [SEGMENTS_PREFIX, PIECES_PREFIX]) {
    const names = await fs.readdir(join(dir, prefix)).catch(() => [] as string[]);
    if (names.some((name) => parseArchiveKey(`${prefix}${name}`) !== null)) return true;
  }
  return false;
}
