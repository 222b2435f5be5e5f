/**
 * A restore that did not finish, made on purpose: a log restored into a SimFS directory, then every segment renamed
 * back to its `.restoring` name (what a restore leaves when it stops before its first rename). The starting point of
 * the tests of the unfinished-restore refusal and of finishing such a restore.
 */

import type { JsonValue } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { type MemoryArchive, memoryArchive } from "../memory-archive.js";
import { restore } from "../restore.js";
import { archivedLog } from "./archived-log.js";

export interface UnfinishedRestore {
  /** The file system holding `dir`, only `*.restoring` files in it. */
  readonly fs: SimFS;
  /** The archive it was restored from: restoring from it again finishes the restore. */
  readonly store: MemoryArchive;
  /** The events of the archived log (`{ i }`, one per commit), what the finished restore opens with. */
  readonly events: JsonValue[];
}

/** `dir` on a new SimFS holding the `.restoring` files of a log of `commits` commits (one event each). */
export async function unfinishedRestore(dir: string, commits: number): Promise<UnfinishedRestore> {
  const store = memoryArchive();
  const lsns = await archivedLog(new SimFS(), store, { commits });
  const fs = new SimFS();
  await restore({ store, dir, fs });
  for (const n of fs.listSync(dir)) if (n.endsWith(".wal")) await fs.rename(`${dir}/${n}`, `${dir}/${n}.restoring`);
  return { fs, store, events: lsns.map((_, i) => ({ i })) };
}
