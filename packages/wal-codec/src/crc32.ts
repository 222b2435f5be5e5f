/** CRC-32/IEEE (zlib, PNG; reflected 0xEDB88320), the checksum of records and segment headers. */

import { crc32 as zlibCrc32 } from "node:zlib";

/** CRC-32/IEEE of `bytes`, optionally continuing from a previous value. `crc32("123456789") === 0xcbf43926`. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return zlibCrc32(bytes, previous);
}

/** Lookup table for the byte-at-a-time loop of {@link crc32Range}. */
const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * Below this many bytes the JavaScript loop beats `zlib.crc32` plus the `subarray` it needs. Measured on the 2-core
 * dev VM (`node` micro-benchmark, see apps/bench/PROFILE.md): a zlib call costs ~300 ns before the first byte and
 * the table loop ~3 ns a byte, so they cross near 150 bytes; a 100-byte event's record (125 bytes) is below.
 */
const SMALL_CRC_BYTES = 144;

/**
 * CRC-32/IEEE of `bytes[start, end)`, the same value as {@link crc32} of that range. Short ranges (markers and
 * small records) are computed in place, with no view allocated and no call into zlib; longer ones go to zlib.
 */
export function crc32Range(bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= SMALL_CRC_BYTES) return zlibCrc32(bytes.subarray(start, end));
  let c = -1;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
