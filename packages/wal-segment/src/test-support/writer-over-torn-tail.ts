/** A segment whose records are followed by a torn tail, reopened for appending over it, for the writer's tests. */

import { bytesCodec } from "@lora/wal-codec";
import { SegmentWriter } from "../segment-writer.js";
import type { SimFS } from "../testing/sim-fs.js";

/**
 * At `path` on `sim`: a segment with one 100-byte mutation (LSN 1), then 3000 bytes that are not zeros past it (what
 * a torn write leaves), not cut; returned is a writer `openForAppend` opened at the records' end with
 * `preallocateBytes`, so the torn bytes still lie past what it has written.
 */
export async function writerOverTornTail(sim: SimFS, path: string, preallocateBytes: number): Promise<SegmentWriter> {
  const first = await SegmentWriter.create(sim, path, 1);
  first.append({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(100).fill(1) }, bytesCodec);
  await first.flush();
  const end = first.writtenBytes;
  await first.close();
  const file = new Uint8Array(end + 3000).fill(0xab);
  file.set(sim.readFileSync(path).subarray(0, end));
  sim.writeFileSync(path, file);
  return await SegmentWriter.openForAppend(sim, path, end, { preallocateBytes });
}
