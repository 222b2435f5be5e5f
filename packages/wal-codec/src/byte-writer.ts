/**
 * A growable little-endian byte buffer. The writer's hot path appends records into one of these and hands the
 * filled range to the file system, so encoding allocates nothing per record once the buffer has grown.
 */

import { crc32Range } from "./crc32.js";
import { WalError } from "./errors.js";

const INITIAL_CAPACITY = 4096;
const TWO_POW_32 = 0x1_0000_0000;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MIN = -0x8000_0000_0000_0000n;
const I64_MAX = 0x7fff_ffff_ffff_ffffn;

const utf8 = new TextEncoder();

/** True when `s` has no lone surrogate (which UTF-8 cannot represent; TextEncoder would replace it silently). */
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * A growable little-endian byte buffer that codecs' `encodeEvent`/`encodeBatch` append to.
 * @throws {@link WalError} `WAL_ENCODE` from `u64`/`i64` for a value out of range and from `string` for a lone
 *   surrogate.
 */
export class ByteWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.#bytes = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Allocated capacity (for tests and buffer-reuse decisions). */
  get capacity(): number {
    return this.#bytes.byteLength;
  }

  /** A view of the written bytes `[start, end)`. It aliases the buffer: valid until the next write or reset. */
  view(start = 0, end = this.#length): Uint8Array {
    return this.#bytes.subarray(start, end);
  }

  /** CRC-32/IEEE of the written bytes from `start` to the end, computed in place (no view for short ranges). */
  crc32From(start: number): number {
    return crc32Range(this.#bytes, start, this.#length, this.#view);
  }

  /** A copy of the written bytes `[start, end)`. */
  copy(start = 0, end = this.#length): Uint8Array {
    return this.#bytes.slice(start, end);
  }

  /** Forget the contents but keep the allocation. */
  reset(): void {
    this.#length = 0;
  }

  /** Cut the contents back to `length` bytes (used to roll back a record whose encoding failed). */
  truncate(length: number): void {
    if (length < 0 || length > this.#length) throw new RangeError(`cannot truncate to ${length}`);
    this.#length = length;
  }

  /** Drop the first `count` bytes, moving the rest to the front. */
  discardFront(count: number): void {
    if (count <= 0) return;
    if (count >= this.#length) {
      this.#length = 0;
      return;
    }
    this.#bytes.copyWithin(0, count, this.#length);
    this.#length -= count;
  }

  /** Make room for `extra` more bytes. */
  ensure(extra: number): void {
    const need = this.#length + extra;
    if (need <= this.#bytes.byteLength) return;
    let capacity = this.#bytes.byteLength * 2;
    while (capacity < need) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** Advance by `count` bytes without writing them (their content is whatever was there); returns the offset. */
  skip(count: number): number {
    this.ensure(count);
    const at = this.#length;
    this.#length += count;
    return at;
  }

  u8(value: number): void {
    this.ensure(1);
    this.#bytes[this.#length++] = value;
  }

  i8(value: number): void {
    this.ensure(1);
    this.#view.setInt8(this.#length, value);
    this.#length += 1;
  }

  i16(value: number): void {
    this.ensure(2);
    this.#view.setInt16(this.#length, value, true);
    this.#length += 2;
  }

  i32(value: number): void {
    this.ensure(4);
    this.#view.setInt32(this.#length, value, true);
    this.#length += 4;
  }

  u32(value: number): void {
    this.ensure(4);
    this.#view.setUint32(this.#length, value, true);
    this.#length += 4;
  }

  /** Overwrite a byte already written (or skipped) at `offset`. */
  setU8(offset: number, value: number): void {
    this.#bytes[offset] = value;
  }

  /** Overwrite a u32 already written at `offset` (length back-patching). */
  setU32(offset: number, value: number): void {
    this.#view.setUint32(offset, value, true);
  }

  /** A u64 from a non-negative safe integer (LSNs, lengths, counts). */
  u64(value: number): void {
    this.ensure(8);
    this.#view.setUint32(this.#length, value % TWO_POW_32, true);
    this.#view.setUint32(this.#length + 4, Math.floor(value / TWO_POW_32), true);
    this.#length += 8;
  }

  /** Overwrite a u64 already written at `offset`. */
  setU64(offset: number, value: number): void {
    this.#view.setUint32(offset, value % TWO_POW_32, true);
    this.#view.setUint32(offset + 4, Math.floor(value / TWO_POW_32), true);
  }

  /** A u64 from a bigint in [0, 2^64). */
  u64Big(value: bigint): void {
    if (value < 0n || value > U64_MAX) throw new WalError("WAL_ENCODE", `u64 value ${value} out of range`);
    this.ensure(8);
    this.#view.setBigUint64(this.#length, value, true);
    this.#length += 8;
  }

  /** An i64 from a bigint in [-2^63, 2^63). */
  i64(value: bigint): void {
    if (value < I64_MIN || value > I64_MAX) throw new WalError("WAL_ENCODE", `i64 value ${value} out of range`);
    this.ensure(8);
    this.#view.setBigInt64(this.#length, value, true);
    this.#length += 8;
  }

  f32(value: number): void {
    this.ensure(4);
    this.#view.setFloat32(this.#length, value, true);
    this.#length += 4;
  }

  f64(value: number): void {
    this.ensure(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
  }

  /** Raw bytes, no length prefix. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.byteLength);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.byteLength;
  }

  /**
   * UTF-8 bytes of `s` with no length prefix; returns the byte count.
   * @throws {@link WalError} `WAL_ENCODE` when `s` holds a lone surrogate.
   */
  utf8(s: string): number {
    if (!isWellFormed(s)) throw new WalError("WAL_ENCODE", "string holds a lone surrogate and has no UTF-8 form");
    // Three bytes per UTF-16 unit is the worst case for well-formed text.
    this.ensure(s.length * 3);
    const { written } = utf8.encodeInto(s, this.#bytes.subarray(this.#length));
    this.#length += written;
    return written;
  }

  /** A u64 byte length followed by the UTF-8 bytes of `s`. */
  string(s: string): void {
    const at = this.skip(8);
    const n = this.utf8(s);
    this.setU64(at, n);
  }

  /** A u64 byte length followed by the bytes. */
  bytes(b: Uint8Array): void {
    this.u64(b.byteLength);
    this.raw(b);
  }
}
