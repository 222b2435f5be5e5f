/** Creating the log directory so that it survives power loss. */

import { dirname } from "node:path";
import type { WalFileSystem } from "@lora/wal-segment";

/**
 * Create `dir` (and missing parents) so that it survives power loss: each directory created is made durable by an
 * fsync of its parent, as a new file is by an fsync of its directory. An existing directory costs one stat. (Tier D
 * of apps/torture found the log directory itself created without it.)
 */
export async function createDurably(fs: WalFileSystem, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; (await fs.stat(d)) === null; d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  if (missing.length === 0) return;
  await fs.mkdirp(dir);
  for (const d of missing.reverse()) await fs.syncDir(dirname(d));
}
