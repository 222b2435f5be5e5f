/** A log with a low-level transaction left open across rotations: the setup of the truncation-fence tests. */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import type { SimFS } from "@lora/wal-segment/testing";
import { Wal } from "../wal.js";

/**
 * Open `dir` on `fs` with 120-byte segments and begin a transaction, then six times append to it and `commitTx`:
 * each commitTx rotates at its boundary while the transaction stays open across. Returns the handle and the
 * transaction's begin LSN.
 */
export async function txOpenAcrossRotations(fs: SimFS, dir: string): Promise<{ wal: Wal<JsonValue>; begin: number }> {
  const { wal } = await Wal.open<JsonValue>(dir, { fs, codec: jsonCodec, segmentTargetBytes: 120 });
  const begin = await wal.begin();
  for (let i = 0; i < 6; i++) {
    await wal.append(begin, `x${i}`);
    await wal.commitTx([i]);
  }
  return { wal, begin };
}
