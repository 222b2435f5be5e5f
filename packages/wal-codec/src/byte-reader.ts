/**
 * A bounds-checked little-endian cursor over a payload. Every read that would run past the end throws
 * `WAL_DECODE`; counts are checked against the bytes that remain before anything is allocated, so a corrupt count
 * can never cause a large allocation.
 */

import { WalError } from "./errors.js";

const TWO_POW_32 = 0x1_0000_0000;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** True when `n` is an integer in `[0, max]` (false for anything that is not a number). */
function isIndex(n: unknown, max: number): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= max;
}

function invalidArgument(method: string, name: string, value: unknown, expected: string): never {
  const shown = typeof value === "number" || typeof value === "bigint" ? String(value) : typeof value;
  throw new WalError("WAL_INVALID_ARGUMENT", `ByteReader.${method}: ${name} must be ${expected}, got ${shown}`);
}

/**
 * A bounds-checked little-endian cursor over a payload, for codecs' `decodeEvent`/`decodeBatch`.
 *
 * Reads never return a rounded or out-of-bounds value: every read that would run past the end throws
 * {@link WalError} `WAL_DECODE`, as do `u64` for a value beyond 2^53 - 1, `count` for a count larger than the
 * bytes left and `string` for invalid UTF-8. A read that throws does not move the position. Bad arguments (a
 * `start`/`end` outside the bytes, a negative or fractional `rawView` length) throw `WAL_INVALID_ARGUMENT`.
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  #pos: number;

  /**
   * @param bytes the payload; it is read in place, never copied.
   * @param start where reading starts. @default 0
   * @param end where the payload ends. @default bytes.byteLength
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `bytes` is a `Uint8Array` and `start` and `end` are
   *   integers with `0 <= start <= end <= bytes.byteLength`.
   */
  constructor(bytes: Uint8Array, start = 0, end = bytes?.length) {
    if (!(bytes instanceof Uint8Array)) invalidArgument("constructor", "bytes", bytes, "a Uint8Array");
    if (!isIndex(end, bytes.length)) {
      invalidArgument("constructor", "end", end, `an integer in [0, ${bytes.length}]`);
    }
    if (!isIndex(start, end)) invalidArgument("constructor", "start", start, `an integer in [0, ${end}]`);
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.#pos = start;
    this.#end = end;
  }

  /** The offset (in `bytes`) of the next read. */
  get position(): number {
    return this.#pos;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  #take(n: number): number {
    if (n > this.#end - this.#pos) throw truncatedPayload();
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** One byte, `[0, 255]`. */
  u8(): number {
    return this.#bytes[this.#take(1)] as number;
  }

  /** One byte, two's complement, `[-128, 127]`. */
  i8(): number {
    return this.#view.getInt8(this.#take(1));
  }

  /** Two bytes little-endian, two's complement, `[-32768, 32767]`. */
  i16(): number {
    return this.#view.getInt16(this.#take(2), true);
  }

  /** Four bytes little-endian, two's complement, `[-2^31, 2^31 - 1]`. */
  i32(): number {
    return this.#view.getInt32(this.#take(4), true);
  }

  /** Four bytes little-endian, `[0, 2^32 - 1]`. */
  u32(): number {
    return this.#view.getUint32(this.#take(4), true);
  }

  /**
   * Eight bytes little-endian as an exact number in `[0, 2^53 - 1]`.
   * @param what names the field in the error message.
   * @throws {@link WalError} `WAL_DECODE` for a value above 2^53 - 1 (never a rounded number), or past the end.
   */
  u64(what = "value"): number {
    if (this.#end - this.#pos < 8) throw truncatedPayload();
    const at = this.#pos;
    const hi = this.#view.getUint32(at + 4, true);
    if (hi > 0x1f_ffff) throw new WalError("WAL_DECODE", `${what} does not fit a safe integer`);
    this.#pos = at + 8;
    return hi * TWO_POW_32 + this.#view.getUint32(at, true);
  }

  /** Eight bytes little-endian as an exact bigint in `[0, 2^64 - 1]`. */
  u64Big(): bigint {
    return this.#view.getBigUint64(this.#take(8), true);
  }

  /** Eight bytes little-endian, two's complement, as an exact bigint in `[-2^63, 2^63 - 1]`. */
  i64(): bigint {
    return this.#view.getBigInt64(this.#take(8), true);
  }

  /** Four bytes, IEEE 754 single precision (exactly representable as a number). */
  f32(): number {
    return this.#view.getFloat32(this.#take(4), true);
  }

  /** Eight bytes, IEEE 754 double precision. */
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
    if (this.#end - this.#pos < 8) throw truncatedPayload();
    const at = this.#pos;
    const hi = this.#view.getUint32(at + 4, true);
    const lo = this.#view.getUint32(at, true);
    if (hi !== 0 || lo > this.#end - at - 8) throw countTooLarge(label, hi, lo);
    this.#pos = at + 8;
    return lo;
  }

  /**
   * `n` raw bytes as a view into the input (no copy).
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `n` is a non-negative integer; `WAL_DECODE` when fewer
   *   than `n` bytes remain.
   */
  rawView(n: number): Uint8Array {
    if (!isIndex(n, Number.MAX_SAFE_INTEGER)) invalidArgument("rawView", "n", n, "a non-negative integer");
    const at = this.#take(n);
    return this.#bytes.subarray(at, at + n);
  }

  /**
   * A u64 length followed by that many bytes, copied.
   * @throws {@link WalError} `WAL_DECODE` when the length is larger than the bytes left.
   */
  bytes(): Uint8Array {
    return copyBytes(this.rawView(this.count("bytes")));
  }

  /**
   * A u64 length followed by that many bytes of UTF-8.
   * @throws {@link WalError} `WAL_DECODE` when the length is larger than the bytes left or the bytes are not valid
   *   UTF-8.
   */
  string(): string {
    const start = this.#pos;
    const raw = this.rawView(this.count("string"));
    try {
      return utf8.decode(raw);
    } catch (cause) {
      this.#pos = start;
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
