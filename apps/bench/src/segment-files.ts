/** The segment files of a log directory, as the read cases and the datasets see them. */

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** The `.wal` files of `dir`, in name (and so LSN) order. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((n) => n.endsWith(".wal"))
    .sort()
    .map((n) => join(dir, n));
}

/** The total size of the segment files of `dir`. */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await segmentFiles(dir)) total += (await stat(f)).size;
  return total;
}
