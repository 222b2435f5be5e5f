/** A closed log on SimFS, archived whole to a memory store: the starting point of the restore and history tests. */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import type { SimFS } from "@lora/wal-segment/testing";
import { startArchiver } from "../archiver.js";
import type { MemoryArchive } from "../memory-archive.js";

export interface ArchivedLogOptions {
  /** `commitTx` calls, one event each. @default 12 */
  readonly commits?: number;
  readonly segmentTargetBytes?: number;
  /** The event of the i-th commit. @default `{ i }` */
  readonly event?: (i: number) => JsonValue;
}

/**
 * Write a log at `/a` on `fs` with an archiver on `store` beside it (200-byte segments unless said), then stop the
 * archiver (everything shipped) and close the log. Returns the commit LSNs, in order.
 */
export async function archivedLog(
  fs: SimFS,
  store: MemoryArchive,
  options: ArchivedLogOptions = {},
): Promise<number[]> {
  const { commits = 12, segmentTargetBytes = 200, event = (i: number) => ({ i }) } = options;
  const { wal } = await Wal.open<JsonValue>("/a", { codec: jsonCodec, fs, segmentTargetBytes });
  const archiver = startArchiver(wal, { store, fs, intervalMs: 5 });
  const lsns: number[] = [];
  for (let i = 0; i < commits; i++) lsns.push((await wal.commitTx([event(i)]))?.commitLsn as number);
  await archiver.stop();
  await wal.close();
  return lsns;
}
