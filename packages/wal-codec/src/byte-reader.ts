/**
 * A bounds-checked little-endian cursor over a payload. Every read that would run past the end throws
 * `WAL_DECODE`; counts are checked against the bytes that remain before anything is allocated, so a corrupt count
 * can never cause a large allocation.
 */

import { WalError } from "./errors.js";

const TWO_POW_32 = 0x1_0000_0000;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A bounds-checked little-endian cursor over a payload, for codecs' `decodeEvent`/`decodeBatch`.
 * @throws {@link WalError} `WAL_DECODE` from every read that would run past the end (and from `string` for invalid
 *   UTF-8).
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  #pos: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  #take(n: number): number {
    if (n > this.#end - this.#pos) throw truncatedPayload();
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(): number {
    return this.#bytes[this.#take(1)] as number;
  }

  i8(): number {
    return this.#view.getInt8(this.#take(1));
  }

  i16(): number {
    return this.#view.getInt16(this.#take(2), true);
  }

  i32(): number {
    return this.#view.getInt32(this.#take(4), true);
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  /** A u64 that must fit a JavaScript safe integer. */
  u64(what = "value"): number {
    const at = this.#take(8);
    const hi = this.#view.getUint32(at + 4, true);
    if (hi > 0x1f_ffff) throw new WalError("WAL_DECODE", `${what} does not fit a safe integer`);
    return hi * TWO_POW_32 + this.#view.getUint32(at, true);
  }

  u64Big(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }

  i64(): bigint {
    return this.#view.getBigInt64(this.#take(8), true);
  }

  f32(): number {
    return this.#view.getFloat32(this.#take(4), true);
  }

  f64(): number {
    return this.#view.getFloat64(this.#take(8), true);
  }

  /** The raw 64 bits of an f64 (to keep NaN payloads exact). */
  f64Bits(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }

  /**
   * A u64 element count, checked to be at most the remaining bytes (a cheap sanity bound that rejects a corrupt
   * count before it can drive an allocation; the same rule as the Rust decoder).
   */
  count(label: string): number {
    const at = this.#take(8);
    const hi = this.#view.getUint32(at + 4, true);
    const lo = this.#view.getUint32(at, true);
    if (hi !== 0 || lo > this.remaining) throw countTooLarge(label, hi, lo);
    return lo;
  }

  /** `n` raw bytes as a view into the input (no copy). */
  rawView(n: number): Uint8Array {
    const at = this.#take(n);
    return this.#bytes.subarray(at, at + n);
  }

  /** A u64 length followed by that many bytes, copied. */
  bytes(): Uint8Array {
    return copyBytes(this.rawView(this.count("bytes")));
  }

  /** A u64 length followed by UTF-8; invalid UTF-8 is rejected. */
  string(): string {
    const raw = this.rawView(this.count("string"));
    try {
      return utf8.decode(raw);
    } catch (cause) {
      throw new WalError("WAL_DECODE", "invalid UTF-8 in WAL payload", { cause });
    }
  }
}

/**
 * A copy that never shares memory with `view`. (`Buffer#slice` returns a view, so `.slice()` is not a copy when
 * the input is a Node Buffer.)
 */
export function copyBytes(view: Uint8Array): Uint8Array {
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy;
}

/** The error for a payload that ends before a field it must hold. */
export function truncatedPayload(): WalError {
  return new WalError("WAL_DECODE", "truncated WAL mutation payload");
}

/** The error for a u64 count or length (`hi`:`lo`) larger than the payload bytes that remain. */
export function countTooLarge(label: string, hi: number, lo: number): WalError {
  const n = (BigInt(hi) << 32n) | BigInt(lo);
  return new WalError("WAL_DECODE", `${label} count ${n} exceeds remaining WAL payload`);
}
