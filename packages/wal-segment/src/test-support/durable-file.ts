/** A file a SimFS crash-image test starts from: written, fdatasynced and named durably. */

import type { WalFile } from "../fs/file-system.js";
import type { SimFS } from "../testing/sim-fs.js";

/** Create `path` (in a durable directory) holding `data`, fully durable, and return it open for more. */
export async function durableFile(sim: SimFS, data: Uint8Array, path = "/w/a"): Promise<WalFile> {
  const f = await sim.open(path, "createExclusive");
  await f.write(data, 0);
  await f.datasync();
  await sim.syncDir(path.slice(0, path.lastIndexOf("/")) || "/");
  return f;
}
