/** The records a fresh reader finds in a segment, for tests that check what a writer left in the file. */

import { bytesCodec } from "@lora/wal-codec";
import type { WalFileSystem } from "../fs/file-system.js";
import { SegmentReader } from "../segment-reader.js";

/** The LSNs of the records in the segment at `path`, in file order, and how the read ended (`end` or `damaged`). */
export async function segmentLsns(fs: WalFileSystem, path: string): Promise<{ lsns: number[]; end: string }> {
  const reader = await SegmentReader.open(fs, path);
  const lsns: number[] = [];
  try {
    for (;;) {
      const step = await reader.next(bytesCodec);
      if (step.kind !== "record") return { lsns, end: step.kind };
      lsns.push(step.record.lsn);
    }
  } finally {
    await reader.close();
  }
}
