/** The planted bug `retry-fsync-after-eio`'s retry (testing builds only; see testing-hooks.ts). */

import type { WalFileSystem } from "@lora/wal-segment";

/** Planted bug `retry-fsync-after-eio`: fdatasync the file again through a fresh descriptor. */
export async function fsyncAgain(fs: WalFileSystem, path: string): Promise<void> {
  const file = await fs.open(path, "readWrite");
  try {
    await file.datasync();
  } finally {
    await file.close();
  }
}
