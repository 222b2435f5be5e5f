/**
 * The log records a traced write carries. The segment writer hands whole records to the OS, from a record
 * boundary, so a write of log bytes is a run of frames (`u32 length`, kind, `u64 lsn`, ..., `u32 crc` over the rest,
 * docs/format.md). Knowing their LSNs lets the static check ask, for an acknowledgement of LSN L, only for the writes
 * holding records at or below L: with concurrent commits (group mode), a later commit's write may precede an earlier
 * commit's acknowledgement without being covered, and that is no fault.
 */

import { crc32Range, MIN_RECORD_BYTES, RECORD_TRAILER_BYTES } from "@lora/wal-codec";

/** The first and last LSN of the whole records `bytes` holds; null unless it is exactly a run of valid frames. */
export function recordSpan(bytes: Uint8Array): { first: number; last: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let first: number | null = null;
  let last = 0;
  let at = 0;
  while (at < bytes.byteLength) {
    if (bytes.byteLength - at < MIN_RECORD_BYTES) return null;
    const length = view.getUint32(at, true);
    if (length < MIN_RECORD_BYTES || at + length > bytes.byteLength) return null;
    const crcAt = at + length - RECORD_TRAILER_BYTES;
    if (view.getUint32(crcAt, true) !== crc32Range(bytes, at, crcAt)) return null;
    const lsn = view.getUint32(at + 5, true) + view.getUint32(at + 9, true) * 2 ** 32;
    first ??= lsn;
    last = lsn;
    at += length;
  }
  return first === null ? null : { first, last };
}
