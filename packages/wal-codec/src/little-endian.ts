/** Little-endian reads straight from the bytes, for decode loops where a `DataView` per record would cost more. */

const TWO_POW_32 = 0x1_0000_0000;

/** The u32 at `at`. The caller guarantees four bytes are there. */
export function readU32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}

/**
 * The u64 at `at` as a number; above 2^53 it is rounded, so callers check `Number.isSafeInteger`.
 *
 * Below 2^31 the result is made a small integer (`lo | 0`, the same value): computed as a float, an LSN stored in a
 * decoded record was boxed in a heap number of its own (80 of the ~400 bytes decoding a transaction allocated).
 */
export function readU64(bytes: Uint8Array, at: number): number {
  const hi = readU32(bytes, at + 4);
  const lo = readU32(bytes, at);
  return hi === 0 && lo <= 0x7fff_ffff ? lo | 0 : hi * TWO_POW_32 + lo;
}
