/** Where a record lies in a segment file, for tests that damage or rewrite the bytes at a given LSN. */

import { jsonCodec } from "@lora/wal-codec";
import { SegmentReader, type WalFileSystem } from "@lora/wal-segment";

/** Where the record at `lsn` starts in the JSON-payload segment `path` (throws when the segment has no such record). */
export async function offsetOf(fs: WalFileSystem, path: string, lsn: number): Promise<number> {
  const reader = await SegmentReader.open(fs, path);
  try {
    for (;;) {
      const step = await reader.next(jsonCodec);
      if (step.kind !== "record") throw new Error(`no record at lsn ${lsn} in ${path}`);
      if (step.record.lsn === lsn) return step.offset;
    }
  } finally {
    await reader.close();
  }
}
