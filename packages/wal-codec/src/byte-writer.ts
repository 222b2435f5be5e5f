/**
 * A growable little-endian byte buffer. The writer's hot path appends records into one of these and hands the
 * filled range to the file system, so encoding allocates nothing per record once the buffer has grown.
 */

import { crc32Range } from "./crc32.js";
import { WalError } from "./errors.js";
import { RECORD_HEADER_BYTES } from "./format.js";

const INITIAL_CAPACITY = 4096;
const SAFE_MAX = Number.MAX_SAFE_INTEGER;
const TWO_POW_32 = 0x1_0000_0000;
/*
 * The low word of a u64 is written as `value >>> 0`, never `value % TWO_POW_32`: for a non-negative safe integer
 * the two are the same number (ToUint32 is reduction modulo 2^32), but `%` of a double is a call into C, eight of them
 * per `commitTx` (90 of its 365 ns of encoding, measured).
 */
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const I64_MIN = -0x8000_0000_0000_0000n;
const I64_MAX = 0x7fff_ffff_ffff_ffffn;

const utf8 = new TextEncoder();

/**
 * The record framing's own methods (`record.ts`): a record header and a record's end written without the per-field
 * checks of the public methods, whose values the framing has checked once. Keyed by symbols the package does not
 * export, so they are not part of `ByteWriter`'s API.
 */
export const BEGIN_RECORD = Symbol("ByteWriter.beginRecord");
export const FINISH_RECORD = Symbol("ByteWriter.finishRecord");

/** True when `s` has no lone surrogate (which UTF-8 cannot represent; TextEncoder would replace it silently). */
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** True when `n` is an integer in `[0, max]` (false for anything that is not a number). */
function isIndex(n: unknown, max: number): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= max;
}

/** A value as an error message shows it, without converting it (no `valueOf`/`toString` of the value runs). */
function show(value: unknown): string {
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "string":
      return value.length > 40 ? `string ${JSON.stringify(value.slice(0, 40))}...` : `string ${JSON.stringify(value)}`;
    case "object":
      return value === null ? "null" : describeObject(value);
    case "symbol":
      return "a symbol";
    default:
      return String(typeof value);
  }
}

function describeObject(value: object): string {
  try {
    if (Array.isArray(value)) return "an array";
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === "string" && name !== "" ? `an object (${name})` : "an object";
  } catch {
    return "an object"; // a revoked proxy, a throwing getter
  }
}

/*
 * The refusals are built off the hot path, and every message is put together inside them: a check costs its
 * comparisons and a call that never runs, and keeps the writers small enough for V8 to inline them into the
 * record encoder (a template literal at the call site, even one that never runs, counts against that budget).
 */

const U64_EXPECTED =
  "an integer in [0, 2^53 - 1] (a larger u64 must be given as a bigint) or a bigint in [0, 2^64 - 1]";

/** What each writer accepts, for its `WAL_ENCODE` message. */
const EXPECTED: Readonly<Record<string, string>> = {
  u8: "an integer in [0, 255]",
  setU8: "an integer in [0, 255]",
  i8: "an integer in [-128, 127]",
  i16: "an integer in [-32768, 32767]",
  i32: "an integer in [-2^31, 2^31 - 1]",
  u32: "an integer in [0, 2^32 - 1]",
  setU32: "an integer in [0, 2^32 - 1]",
  u64: U64_EXPECTED,
  setU64: U64_EXPECTED,
  u64Big: "a bigint in [0, 2^64 - 1]",
  i64: "a safe integer (a larger i64 must be given as a bigint) or a bigint in [-2^63, 2^63 - 1]",
  f32: "a number",
  f64: "a number",
  raw: "a Uint8Array",
  bytes: "a Uint8Array",
  utf8: "a string",
  string: "a string",
};

/** The `WAL_ENCODE` of a writer given a value it cannot encode exactly. */
function refuseValue(method: string, value: unknown): never {
  const expected =
    typeof value === "string" && (method === "utf8" || method === "string")
      ? "a string without lone surrogates (UTF-8 has no form for them)"
      : EXPECTED[method];
  throw new WalError("WAL_ENCODE", `ByteWriter.${method}: cannot encode ${show(value)}: expected ${expected}`);
}

/** The `WAL_INVALID_ARGUMENT` of a method whose `name` argument is not an integer in `[0, max]`. */
function refuseArgument(method: string, name: string, value: unknown, max: number): never {
  const expected = max === SAFE_MAX ? "a non-negative safe integer" : `an integer in [0, ${max}]`;
  throw new WalError("WAL_INVALID_ARGUMENT", `ByteWriter.${method}: ${name} must be ${expected}, got ${show(value)}`);
}

/** The refusal of an overwrite of `width` bytes at `offset` in a buffer of `length` bytes: which argument is wrong. */
function refuseOverwrite(method: string, offset: unknown, value: unknown, width: number, length: number): never {
  if (isIndex(offset, length - width)) refuseValue(method, value);
  const message =
    length < width
      ? `cannot overwrite ${width} bytes at offset ${show(offset)}: only ${length} bytes are written`
      : `offset must be an integer in [0, ${length - width}] (length - ${width}), got ${show(offset)}`;
  throw new WalError("WAL_INVALID_ARGUMENT", `ByteWriter.${method}: ${message}`);
}

/** The refusal of a range `[start, end)` of a buffer of `length` bytes. */
function refuseRange(method: string, start: unknown, end: unknown, length: number): never {
  if (!isIndex(end, length)) refuseArgument(method, "end", end, length);
  refuseArgument(method, "start", start, end as number);
}

/**
 * A growable little-endian byte buffer that codecs' `encodeEvent`/`encodeBatch` append to.
 *
 * Every write checks its value before touching the buffer. A value it cannot encode exactly (an integer out of the
 * type's range, a fraction, NaN, ±Infinity, a number beyond 2^53 for a 64-bit field, a string with a lone
 * surrogate, a value of the wrong type) throws {@link WalError} `WAL_ENCODE`; a bad method argument (an offset,
 * count or length outside the buffer) throws `WAL_INVALID_ARGUMENT`. A call that throws writes nothing: the
 * length, the written bytes and the capacity are as they were. Nothing in this class throws a plain `RangeError`
 * or `TypeError` for a bad argument (growing past what the engine can allocate still throws its `RangeError`).
 */
export class ByteWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  /**
   * @param initialCapacity bytes to allocate up front (at least 16 are): a non-negative safe integer.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` for any other `initialCapacity`.
   */
  constructor(initialCapacity = INITIAL_CAPACITY) {
    if (!isIndex(initialCapacity, SAFE_MAX))
      refuseArgument("constructor", "initialCapacity", initialCapacity, SAFE_MAX);
    this.#bytes = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Allocated capacity (for tests and buffer-reuse decisions). */
  get capacity(): number {
    return this.#bytes.length;
  }

  /**
   * A view of the written bytes `[start, end)`. It aliases the buffer: valid until the next write or reset.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `start` and `end` are integers with
   *   `0 <= start <= end <= length`.
   */
  view(start = 0, end = this.#length): Uint8Array {
    if (!(isIndex(end, this.#length) && isIndex(start, end))) refuseRange("view", start, end, this.#length);
    return this.#bytes.subarray(start, end);
  }

  /**
   * CRC-32/IEEE of the written bytes from `start` to the end, computed in place (no view for short ranges).
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `start` is an integer in `[0, length]`.
   */
  crc32From(start: number): number {
    if (!isIndex(start, this.#length)) refuseArgument("crc32From", "start", start, this.#length);
    return crc32Range(this.#bytes, start, this.#length, this.#view);
  }

  /**
   * A copy of the written bytes `[start, end)`.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `start` and `end` are integers with
   *   `0 <= start <= end <= length`.
   */
  copy(start = 0, end = this.#length): Uint8Array {
    if (!(isIndex(end, this.#length) && isIndex(start, end))) refuseRange("copy", start, end, this.#length);
    return this.#bytes.slice(start, end);
  }

  /** Forget the contents but keep the allocation. */
  reset(): void {
    this.#length = 0;
  }

  /**
   * Cut the contents back to `length` bytes (used to roll back a record whose encoding failed).
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `length` is an integer in `[0, this.length]`.
   */
  truncate(length: number): void {
    if (!isIndex(length, this.#length)) refuseArgument("truncate", "length", length, this.#length);
    this.#length = length;
  }

  /**
   * Drop the first `count` bytes, moving the rest to the front; a `count` at or above `length` empties the buffer.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `count` is a non-negative safe integer.
   */
  discardFront(count: number): void {
    if (!isIndex(count, SAFE_MAX)) refuseArgument("discardFront", "count", count, SAFE_MAX);
    if (count === 0) return;
    if (count >= this.#length) {
      this.#length = 0;
      return;
    }
    this.#bytes.copyWithin(0, count, this.#length);
    this.#length -= count;
  }

  /**
   * Make room for `extra` more bytes (the contents and length do not change).
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `extra` is a non-negative safe integer.
   */
  ensure(extra: number): void {
    if (!isIndex(extra, SAFE_MAX)) refuseArgument("ensure", "extra", extra, SAFE_MAX);
    this.#reserve(extra);
  }

  /**
   * {@link ByteWriter.ensure} for the writers, whose `extra` is a checked integer. Hot paths read a `Uint8Array`'s
   * `length`, never its `byteLength` (the same number for bytes): V8 11 (Node 20) compiles `length` to a field load
   * but calls into the runtime for `byteLength`, `byteOffset` and `buffer` (~13 ns each, several per record).
   */
  #reserve(extra: number): void {
    const need = this.#length + extra;
    if (need > this.#bytes.length) this.#grow(need);
  }

  #grow(need: number): void {
    let capacity = this.#bytes.length * 2;
    while (capacity < need) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  /**
   * Advance by `count` bytes without writing them (their content is whatever was there); returns the offset.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `count` is a non-negative safe integer.
   */
  skip(count: number): number {
    if (!isIndex(count, SAFE_MAX)) refuseArgument("skip", "count", count, SAFE_MAX);
    this.#reserve(count);
    const at = this.#length;
    this.#length = at + count;
    return at;
  }

  /**
   * One byte: an integer in `[0, 255]`.
   * @throws {@link WalError} `WAL_ENCODE` for anything else (fractions, NaN, non-numbers); nothing is written.
   */
  u8(value: number): void {
    if (typeof value !== "number" || (value & 0xff) !== value) refuseValue("u8", value);
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
  }

  /**
   * One byte, two's complement: an integer in `[-128, 127]`.
   * @throws {@link WalError} `WAL_ENCODE` for anything else; nothing is written.
   */
  i8(value: number): void {
    if (typeof value !== "number" || (value << 24) >> 24 !== value) refuseValue("i8", value);
    this.#reserve(1);
    this.#view.setInt8(this.#length, value);
    this.#length += 1;
  }

  /**
   * Two bytes little-endian, two's complement: an integer in `[-32768, 32767]`.
   * @throws {@link WalError} `WAL_ENCODE` for anything else; nothing is written.
   */
  i16(value: number): void {
    if (typeof value !== "number" || (value << 16) >> 16 !== value) refuseValue("i16", value);
    this.#reserve(2);
    this.#view.setInt16(this.#length, value, true);
    this.#length += 2;
  }

  /**
   * Four bytes little-endian, two's complement: an integer in `[-2^31, 2^31 - 1]`.
   * @throws {@link WalError} `WAL_ENCODE` for anything else; nothing is written.
   */
  i32(value: number): void {
    if (typeof value !== "number" || (value | 0) !== value) refuseValue("i32", value);
    this.#reserve(4);
    this.#view.setInt32(this.#length, value, true);
    this.#length += 4;
  }

  /**
   * Four bytes little-endian: an integer in `[0, 2^32 - 1]`.
   * @throws {@link WalError} `WAL_ENCODE` for anything else; nothing is written.
   */
  u32(value: number): void {
    if (typeof value !== "number" || value >>> 0 !== value) refuseValue("u32", value);
    this.#reserve(4);
    this.#view.setUint32(this.#length, value, true);
    this.#length += 4;
  }

  /**
   * Overwrite a byte already written (or skipped) at `offset` with an integer in `[0, 255]`.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `offset` is an integer in `[0, length - 1]`;
   *   `WAL_ENCODE` for a value that is not an integer in `[0, 255]`. Nothing is written.
   */
  setU8(offset: number, value: number): void {
    if (!(isIndex(offset, this.#length - 1) && typeof value === "number" && (value & 0xff) === value)) {
      refuseOverwrite("setU8", offset, value, 1, this.#length);
    }
    this.#bytes[offset] = value;
  }

  /**
   * Overwrite 4 bytes already written (or skipped) at `offset` with a u32 (length back-patching).
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `offset` is an integer in `[0, length - 4]`;
   *   `WAL_ENCODE` for a value that is not an integer in `[0, 2^32 - 1]`. Nothing is written.
   */
  setU32(offset: number, value: number): void {
    if (!(isIndex(offset, this.#length - 4) && typeof value === "number" && value >>> 0 === value)) {
      refuseOverwrite("setU32", offset, value, 4, this.#length);
    }
    this.#view.setUint32(offset, value, true);
  }

  /**
   * Eight bytes little-endian, unsigned (LSNs, lengths, counts, ids): a number that is an integer in
   * `[0, 2^53 - 1]`, or a bigint in `[0, 2^64 - 1]`. A number above `2^53 - 1` is refused even when it is an
   * integer (it may already be rounded): pass larger values as a bigint.
   * @throws {@link WalError} `WAL_ENCODE` for anything else (negatives, fractions, NaN, ±Infinity, unsafe numbers,
   *   out-of-range bigints, other types); nothing is written.
   */
  u64(value: number | bigint): void {
    if (!(Number.isSafeInteger(value) && (value as number) >= 0)) {
      this.#bigU64("u64", value);
      return;
    }
    this.#reserve(8);
    const at = this.#length;
    this.#view.setUint32(at, (value as number) >>> 0, true);
    this.#view.setUint32(at + 4, Math.floor((value as number) / TWO_POW_32), true);
    this.#length = at + 8;
  }

  /**
   * Overwrite 8 bytes already written (or skipped) at `offset` with a u64, under the rules of {@link ByteWriter.u64}.
   * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `offset` is an integer in `[0, length - 8]`;
   *   `WAL_ENCODE` for a value {@link ByteWriter.u64} refuses. Nothing is written.
   */
  setU64(offset: number, value: number | bigint): void {
    if (!(isIndex(offset, this.#length - 8) && Number.isSafeInteger(value) && (value as number) >= 0)) {
      this.#setBigU64(offset, value);
      return;
    }
    this.#view.setUint32(offset, (value as number) >>> 0, true);
    this.#view.setUint32(offset + 4, Math.floor((value as number) / TWO_POW_32), true);
  }

  /** `setU64` of a bigint, or the refusal of what `setU64` cannot write. */
  #setBigU64(offset: unknown, value: unknown): void {
    if (!(isIndex(offset, this.#length - 8) && typeof value === "bigint" && value >= 0n && value <= U64_MAX)) {
      refuseOverwrite("setU64", offset, value, 8, this.#length);
    }
    this.#view.setBigUint64(offset, value, true);
  }

  /**
   * Eight bytes little-endian from a bigint in `[0, 2^64 - 1]` (ids, raw f64 bits).
   * @throws {@link WalError} `WAL_ENCODE` for a bigint out of range or a value that is not a bigint; nothing is
   *   written.
   */
  u64Big(value: bigint): void {
    this.#bigU64("u64Big", value);
  }

  /** Append a u64 from a bigint, or refuse `value` as `method` (`u64`'s slow path and `u64Big`). */
  #bigU64(method: string, value: unknown): void {
    if (typeof value !== "bigint" || value < 0n || value > U64_MAX) refuseValue(method, value);
    this.#reserve(8);
    this.#view.setBigUint64(this.#length, value, true);
    this.#length += 8;
  }

  /**
   * Eight bytes little-endian, two's complement: a bigint in `[-2^63, 2^63 - 1]`, or a number that is a safe
   * integer (a number beyond `±(2^53 - 1)` is refused: pass larger values as a bigint).
   * @throws {@link WalError} `WAL_ENCODE` for anything else; nothing is written.
   */
  i64(value: bigint | number): void {
    if (typeof value === "bigint") {
      if (value < I64_MIN || value > I64_MAX) refuseValue("i64", value);
      this.#reserve(8);
      this.#view.setBigInt64(this.#length, value, true);
    } else {
      if (!Number.isSafeInteger(value)) refuseValue("i64", value);
      this.#reserve(8);
      // Two's complement of a safe integer: the low word is exact through `>>> 0`, the high word is floor(v / 2^32).
      this.#view.setUint32(this.#length, value >>> 0, true);
      this.#view.setInt32(this.#length + 4, Math.floor(value / TWO_POW_32), true);
    }
    this.#length += 8;
  }

  /**
   * Four bytes, IEEE 754 single precision little-endian. Any number is accepted and rounded to the nearest
   * float32 (as `DataView#setFloat32` does: a value beyond the float32 range becomes ±Infinity).
   * @throws {@link WalError} `WAL_ENCODE` for a value that is not a number; nothing is written.
   */
  f32(value: number): void {
    if (typeof value !== "number") refuseValue("f32", value);
    this.#reserve(4);
    this.#view.setFloat32(this.#length, value, true);
    this.#length += 4;
  }

  /**
   * Eight bytes, IEEE 754 double precision little-endian: exactly the number given (a NaN is written as
   * `DataView#setFloat64` writes it; keep a NaN's payload by writing its bits with `u64Big`).
   * @throws {@link WalError} `WAL_ENCODE` for a value that is not a number; nothing is written.
   */
  f64(value: number): void {
    if (typeof value !== "number") refuseValue("f64", value);
    this.#reserve(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
  }

  /**
   * Raw bytes, no length prefix.
   * @throws {@link WalError} `WAL_ENCODE` when `bytes` is not a `Uint8Array` (a Node `Buffer` is one); nothing is
   *   written.
   */
  raw(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) refuseValue("raw", bytes);
    this.#reserve(bytes.length);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /**
   * UTF-8 bytes of `s` with no length prefix; returns the byte count.
   * @throws {@link WalError} `WAL_ENCODE` when `s` is not a string or holds a lone surrogate; nothing is written.
   */
  utf8(s: string): number {
    if (typeof s !== "string" || !isWellFormed(s)) refuseValue("utf8", s);
    return this.#utf8(s);
  }

  #utf8(s: string): number {
    // Three bytes per UTF-16 unit is the worst case for well-formed text.
    this.#reserve(s.length * 3);
    const { written } = utf8.encodeInto(s, this.#bytes.subarray(this.#length));
    this.#length += written;
    return written;
  }

  /**
   * A u64 byte length followed by the UTF-8 bytes of `s`.
   * @throws {@link WalError} `WAL_ENCODE` when `s` is not a string or holds a lone surrogate; nothing is written.
   */
  string(s: string): void {
    if (typeof s !== "string" || !isWellFormed(s)) refuseValue("string", s);
    this.#reserve(8);
    const at = this.#length;
    this.#length = at + 8;
    const n = this.#utf8(s);
    // A string has at most 2^30 UTF-16 units, so its UTF-8 length (at most 3 bytes a unit) fits the low word.
    this.#view.setUint32(at, n, true);
    this.#view.setUint32(at + 4, 0, true);
  }

  /**
   * A u64 byte length followed by the bytes.
   * @throws {@link WalError} `WAL_ENCODE` when `b` is not a `Uint8Array`; nothing is written.
   */
  bytes(b: Uint8Array): void {
    if (!(b instanceof Uint8Array)) refuseValue("bytes", b);
    const n = b.length;
    this.#reserve(8 + n);
    const at = this.#length;
    this.#view.setUint32(at, n >>> 0, true);
    this.#view.setUint32(at + 4, Math.floor(n / TWO_POW_32), true);
    this.#bytes.set(b, at + 8);
    this.#length = at + 8 + n;
  }

  /**
   * Reserve a record header at the end: the kind byte at +4, `lsn` and `slot` as u64 at +5 and +13, the length at +0
   * left to the record-finishing method (`FINISH_RECORD`). Returns where the record starts.
   * @internal For `record.ts`, which passes a kind byte and two safe non-negative integers.
   */
  [BEGIN_RECORD](kindByte: number, lsn: number, slot: number): number {
    const at = this.#length;
    this.#reserve(RECORD_HEADER_BYTES);
    const view = this.#view;
    this.#bytes[at + 4] = kindByte;
    view.setUint32(at + 5, lsn >>> 0, true);
    view.setUint32(at + 9, Math.floor(lsn / TWO_POW_32), true);
    view.setUint32(at + 13, slot >>> 0, true);
    view.setUint32(at + 17, Math.floor(slot / TWO_POW_32), true);
    this.#length = at + RECORD_HEADER_BYTES;
    return at;
  }

  /**
   * End the record begun at `start`: patch its length (everything from `start`, plus the CRC) and append the CRC-32
   * of its bytes.
   * @internal For `record.ts`, which has checked the length against the format's maximum.
   */
  [FINISH_RECORD](start: number): void {
    const end = this.#length;
    this.#reserve(4);
    const view = this.#view;
    view.setUint32(start, end - start + 4, true);
    view.setUint32(end, crc32Range(this.#bytes, start, end, view), true);
    this.#length = end + 4;
  }
}
