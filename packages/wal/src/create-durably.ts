/** Creating the log directory so that it survives power loss. */

import { mkdirDurably, parseSegmentId, type WalFileSystem } from "@lora/wal-segment";

/**
 * Create `dir` (and missing parents) so that it survives power loss (`mkdirDurably`: each directory created is made
 * durable by an fsync of its parent, as a new file is by an fsync of its directory). (Tier D of apps/torture found
 * the log directory itself created without it.)
 *
 * An existing directory that holds no segment yet may be one an earlier open created and was killed before those
 * fsyncs: `mkdirDurably` fsyncs its parent again (and the directories above, best effort), so the first segment
 * written there is not lost with the directory's entry. A directory holding a segment was made durable by the open
 * that wrote it: an existing log costs one stat and one listing.
 */
export async function createDurably(fs: WalFileSystem, dir: string): Promise<void> {
  if ((await fs.stat(dir)) !== null && (await fs.readdir(dir)).some((name) => parseSegmentId(name) !== undefined)) {
    return;
  }
  await mkdirDurably(fs, dir);
}
