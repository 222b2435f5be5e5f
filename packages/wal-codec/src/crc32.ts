/** CRC-32/IEEE (zlib, PNG; reflected 0xEDB88320), the checksum of records and segment headers. */

import { crc32 as zlibCrc32 } from "node:zlib";

/** CRC-32/IEEE of `bytes`, optionally continuing from a previous value. `crc32("123456789") === 0xcbf43926`. */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return zlibCrc32(bytes, previous);
}
