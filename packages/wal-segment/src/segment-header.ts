/**
 * The 32-byte segment header (docs/format.md, 'The segment header'), little-endian:
 *
 * | offset | size | field         | value                                                |
 * | ------ | ---- | ------------- | ---------------------------------------------------- |
 * | 0      | 8    | magic         | `LORAWAL\0`                                          |
 * | 8      | 4    | formatVersion | u32, 1                                               |
 * | 12     | 8    | baseLsn       | u64, the first LSN this segment was created for      |
 * | 20     | 4    | flags         | u32, bit 0 = sealed; other bits ignored               |
 * | 24     | 4    | reserved      | zeros (covered by the CRC)                            |
 * | 28     | 4    | headerCrc     | u32, CRC-32/IEEE over bytes [0, 28)                  |
 *
 * Sealing rewrites the header in place, changing the sealed flag and the CRC only; the header lies in one 512-byte
 * sector, which we assume is written atomically.
 */

import { crc32, FORMAT_VERSION, shownValue, WalError } from "@lora/wal-codec";

/** Size of the segment header; records start at this offset. */
export const SEGMENT_HEADER_BYTES = 32;
/** `LORAWAL\0`. */
export const SEGMENT_MAGIC: Uint8Array = new Uint8Array([0x4c, 0x4f, 0x52, 0x41, 0x57, 0x41, 0x4c, 0x00]);
const SEALED_FLAG = 1;
const TWO_POW_32 = 0x1_0000_0000;

/** A decoded segment header (bytes 0–31 of every segment file). */
export interface SegmentHeader {
  readonly formatVersion: number;
  readonly baseLsn: number;
  readonly sealed: boolean;
  /** The raw flags word (bit 0 is `sealed`; the others are kept as read). */
  readonly flags: number;
}

/**
 * Encode a header (version 1, reserved zero).
 * @throws {@link @lora/wal-codec!WalError} `WAL_ENCODE` for a base LSN that is not a non-negative safe integer.
 */
export function encodeSegmentHeader(header: { baseLsn: number; sealed: boolean; flags?: number }): Uint8Array {
  if (!Number.isSafeInteger(header.baseLsn) || header.baseLsn < 0) {
    throw new WalError(
      "WAL_ENCODE",
      `segment baseLsn must be a non-negative safe integer, got ${shownValue(header.baseLsn)}`,
    );
  }
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(SEGMENT_MAGIC, 0);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, header.baseLsn % TWO_POW_32, true);
  view.setUint32(16, Math.floor(header.baseLsn / TWO_POW_32), true);
  const flags = ((header.flags ?? 0) & ~SEALED_FLAG) | (header.sealed ? SEALED_FLAG : 0);
  view.setUint32(20, flags >>> 0, true);
  view.setUint32(28, crc32(bytes.subarray(0, 28)), true);
  return bytes;
}

/**
 * The header `bytes` (one that decodes) with its sealed flag set or cleared and its CRC made good again: every other
 * byte stays as it is, the reserved bytes and the other flag bits included. This is how a seal rewrites a header
 * (and how an archive turns a sealed header back into the one its earlier pieces were shipped with), so a header
 * another writer made differs from its sealed form in that bit and the CRC only.
 * @throws {@link @lora/wal-codec!WalError} `WAL_BAD_HEADER` when `bytes` does not decode as a header.
 */
export function withSealedFlag(bytes: Uint8Array, sealed: boolean, path?: string): Uint8Array {
  decodeSegmentHeader(bytes, path);
  const out = bytes.slice(0, SEGMENT_HEADER_BYTES);
  const view = new DataView(out.buffer);
  const flags = view.getUint32(20, true);
  view.setUint32(20, ((flags & ~SEALED_FLAG) | (sealed ? SEALED_FLAG : 0)) >>> 0, true);
  view.setUint32(28, crc32(out.subarray(0, 28)), true);
  return out;
}

function bad(reason: string, path?: string): WalError {
  const where = path === undefined ? "" : ` (${path})`;
  return new WalError("WAL_BAD_HEADER", `WAL segment header is malformed: ${reason}${where}`, {
    details: path === undefined ? {} : { path, segment: path },
  });
}

/**
 * Decode and validate a header. Check order is LoraDB's: length, magic (before the CRC), CRC, version.
 * @throws {@link @lora/wal-codec!WalError} `WAL_BAD_HEADER`.
 */
export function decodeSegmentHeader(bytes: Uint8Array, path?: string): SegmentHeader {
  if (bytes.byteLength < SEGMENT_HEADER_BYTES) {
    throw bad(`segment header truncated: expected ${SEGMENT_HEADER_BYTES} bytes, got ${bytes.byteLength}`, path);
  }
  for (let i = 0; i < SEGMENT_MAGIC.byteLength; i++) {
    if (bytes[i] !== SEGMENT_MAGIC[i]) throw bad("bad magic", path);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (view.getUint32(28, true) !== crc32(bytes.subarray(0, 28))) throw bad("header crc mismatch", path);
  const formatVersion = view.getUint32(8, true);
  if (formatVersion !== FORMAT_VERSION) throw bad("unsupported format version", path);
  const baseLsn = view.getUint32(16, true) * TWO_POW_32 + view.getUint32(12, true);
  if (!Number.isSafeInteger(baseLsn)) throw bad("base LSN exceeds the safe integer range", path);
  const flags = view.getUint32(20, true);
  return { formatVersion, baseLsn, sealed: (flags & SEALED_FLAG) !== 0, flags };
}
