/**
 * Records framed by hand in the segment layout (length, kind, u64 LSN, u64 slot, body, CRC-32), for the floors that
 * measure what a commit must do without any of the log's own code.
 */

import { crc32 } from "node:zlib";
import { PAYLOAD_BYTES } from "./payload.js";

/** Frame one record by hand at `at` (u64 fields from safe integers, CRC-32 with zlib); returns its length. */
function frameByHand(buf: Buffer, at: number, kind: number, lsn: number, slot: number, body?: Uint8Array): number {
  const length = 25 + (body === undefined ? 0 : 16 + body.byteLength);
  buf.writeUInt32LE(length, at);
  buf[at + 4] = kind;
  buf.writeUInt32LE(lsn >>> 0, at + 5);
  buf.writeUInt32LE(Math.floor(lsn / 2 ** 32), at + 9);
  buf.writeUInt32LE(slot >>> 0, at + 13);
  buf.writeUInt32LE(Math.floor(slot / 2 ** 32), at + 17);
  if (body !== undefined) {
    // bytesCodec batch of one event: count u64, length u64, bytes.
    buf.writeUInt32LE(1, at + 21);
    buf.writeUInt32LE(0, at + 25);
    buf.writeUInt32LE(body.byteLength, at + 29);
    buf.writeUInt32LE(0, at + 33);
    buf.set(body, at + 37);
  }
  const crcAt = at + length - 4;
  buf.writeUInt32LE(crc32(buf.subarray(at, crcAt)), crcAt);
  return length;
}

/** Frame one `commitTx` by hand at `at` — TxBegin, a one-event MutationBatch, TxCommit — and return its length. */
export function frameCommitByHand(buf: Buffer, at: number, begin: number, payload: Uint8Array): number {
  let used = frameByHand(buf, at, 2, begin, 0);
  used += frameByHand(buf, at + used, 6, begin + 1, begin, payload);
  used += frameByHand(buf, at + used, 3, begin + 2, begin);
  return used;
}

/** The length of one record {@link frameRecordByHand} frames: a one-event MutationBatch of a 100-byte payload. */
export const FRAMED_RECORD_BYTES = 4 + 1 + 8 + 8 + 8 + 8 + PAYLOAD_BYTES + 4;

/**
 * Frame one MutationBatch record of transaction 1 holding `payload` (100 bytes) at `at`, as the buffered-append
 * floors write them; returns its length ({@link FRAMED_RECORD_BYTES}).
 */
export function frameRecordByHand(buf: Buffer, at: number, lsn: number, payload: Uint8Array): number {
  return frameByHand(buf, at, 6, lsn, 1, payload);
}
