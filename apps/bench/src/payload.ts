/** The value every case writes: the same 100 bytes for every system, and the 8-byte keys of the key-value stores. */

export const PAYLOAD_BYTES = 100;

/** `bytes` (100 unless said) deterministic pseudo-random bytes (xorshift32), so no store gets a compressible value. */
export function makePayload(bytes = PAYLOAD_BYTES): Buffer {
  const b = Buffer.alloc(bytes);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** An 8-byte big-endian key, so that keys sort in the order they were written. */
export function key8(i: number): Uint8Array {
  const k = Buffer.allocUnsafe(8);
  k.writeUInt32BE(Math.floor(i / 0x1_0000_0000), 0);
  k.writeUInt32BE(i >>> 0, 4);
  return k;
}
