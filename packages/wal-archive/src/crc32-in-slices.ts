/**
 * CRC-32 of a large object without holding the event loop for all of it. The archiver checksums whole sealed
 * segments (8 MiB by default) and the active segment's durable pieces in the writer's own process: in one call that
 * is several milliseconds during which no fsync completion is handled and no commit acknowledged.
 */

import { crc32 } from "@lora/wal-codec";

/** The bytes checksummed between two turns of the event loop. */
export const CRC_SLICE_BYTES = 1 << 20;

/**
 * The CRC-32 of `bytes` (the same value as `crc32(bytes, previous)`, unsigned), computed one slice of `sliceBytes`
 * at a time with a turn of the event loop between slices. With `previous`, the CRC-32 of bytes that come before
 * `bytes`, it is the CRC-32 of the two runs joined. The caller must not change `bytes` until it resolves.
 */
export async function crc32InSlices(bytes: Uint8Array, sliceBytes = CRC_SLICE_BYTES, previous = 0): Promise<number> {
  // Node's zlib.crc32 answers 0 for an empty view of an empty buffer, whatever the value it is to continue.
  if (bytes.byteLength === 0) return previous >>> 0;
  let crc = crc32(bytes.subarray(0, Math.min(sliceBytes, bytes.byteLength)), previous);
  for (let at = sliceBytes; at < bytes.byteLength; at += sliceBytes) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    crc = crc32(bytes.subarray(at, Math.min(at + sliceBytes, bytes.byteLength)), crc);
  }
  return crc >>> 0;
}
