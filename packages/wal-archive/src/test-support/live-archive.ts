/** A log on SimFS with an archiver beside it, and a way to make it seal and archive one more segment on demand. */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { type Archiver, startArchiver } from "../archiver.js";
import { type MemoryArchive, memoryArchive } from "../memory-archive.js";

export interface LiveArchive {
  readonly fs: SimFS;
  readonly store: MemoryArchive;
  readonly wal: Wal<JsonValue>;
  readonly archiver: Archiver;
  /** Commit until the log rotates once more, then archive everything (the sealed segment, its pieces deleted). */
  sealOne(): Promise<void>;
}

/**
 * A log of 300-byte segments at `/w`, archived to a memory store (timer off: archiving happens at `sealOne` and
 * `flush`), after one `sealOne`: the store holds sealed segments and pieces of the active one.
 */
export async function liveArchive(): Promise<LiveArchive> {
  const fs = new SimFS();
  const store = memoryArchive();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
  const archiver = startArchiver(wal, { store, fs, intervalMs: 3_600_000 });
  const sealOne = async () => {
    const n = (await wal.segments()).length;
    for (let i = 0; i < 50 && (await wal.segments()).length <= n; i++) await wal.commitTx([{ v: i }]);
    await wal.commitTx([{ after: n }]);
    await archiver.flush();
  };
  await sealOne();
  return { fs, store, wal, archiver, sealOne };
}
