/**
 * The JavaScript shape of LoraDB's `PropertyValue`.
 *
 * Scalars map to primitives (`null`, `boolean`, `bigint` for Int, `number` for Float, `string`); lists are arrays;
 * maps are plain objects (decoded maps have a `null` prototype, so a key `__proto__` is an ordinary own property).
 * Everything else is a small class, so `instanceof` tells it apart from a map.
 */

/**
 * An f64 whose bit pattern is a NaN other than the canonical `0x7ff8000000000000`. JavaScript numbers cannot be
 * trusted to keep NaN payloads, so the decoder hands such values out as this wrapper and the encoder writes `bits`
 * verbatim. Canonical NaN and every other float decode to a plain `number`.
 */
export class LoraFloat {
  /** The IEEE-754 bits, a u64. */
  readonly bits: bigint;
  constructor(bits: bigint) {
    this.bits = bits;
  }
  /** The value as a JavaScript number (NaN payload not guaranteed). */
  toNumber(): number {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, this.bits, true);
    return view.getFloat64(0, true);
  }
}

/** An f64 slot: a number, or a {@link LoraFloat} when the exact NaN bits matter. */
export type F64 = number | LoraFloat;

/** Calendar date. Wire: year i32, month u32, day u32 (not range-checked by LoraDB's decoder). */
export class LoraDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  constructor(year: number, month: number, day: number) {
    this.year = year;
    this.month = month;
    this.day = day;
  }
}

/** Time of day with a UTC offset. Wire: hour, minute, second, nanosecond u32; offsetSeconds i32. */
export class LoraTime {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanosecond: number;
  readonly offsetSeconds: number;
  constructor(hour: number, minute: number, second: number, nanosecond: number, offsetSeconds: number) {
    this.hour = hour;
    this.minute = minute;
    this.second = second;
    this.nanosecond = nanosecond;
    this.offsetSeconds = offsetSeconds;
  }
}

/** Time of day without an offset. Wire: hour, minute, second, nanosecond u32. */
export class LoraLocalTime {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanosecond: number;
  constructor(hour: number, minute: number, second: number, nanosecond: number) {
    this.hour = hour;
    this.minute = minute;
    this.second = second;
    this.nanosecond = nanosecond;
  }
}

/** Date and time with a UTC offset. Wire: year i32, month..nanosecond u32, offsetSeconds i32. */
export class LoraDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanosecond: number;
  readonly offsetSeconds: number;
  constructor(
    year: number,
    month: number,
    day: number,
    hour: number,
    minute: number,
    second: number,
    nanosecond: number,
    offsetSeconds: number,
  ) {
    this.year = year;
    this.month = month;
    this.day = day;
    this.hour = hour;
    this.minute = minute;
    this.second = second;
    this.nanosecond = nanosecond;
    this.offsetSeconds = offsetSeconds;
  }
}

/** Date and time without an offset. Wire: year i32, month..nanosecond u32. */
export class LoraLocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly nanosecond: number;
  constructor(
    year: number,
    month: number,
    day: number,
    hour: number,
    minute: number,
    second: number,
    nanosecond: number,
  ) {
    this.year = year;
    this.month = month;
    this.day = day;
    this.hour = hour;
    this.minute = minute;
    this.second = second;
    this.nanosecond = nanosecond;
  }
}

/** A duration. Wire: months, days, seconds, nanoseconds as i64. */
export class LoraDuration {
  readonly months: bigint;
  readonly days: bigint;
  readonly seconds: bigint;
  readonly nanoseconds: bigint;
  constructor(months: bigint, days: bigint, seconds: bigint, nanoseconds: bigint) {
    this.months = months;
    this.days = days;
    this.seconds = seconds;
    this.nanoseconds = nanoseconds;
  }
}

/** A 2D or 3D point. Wire: x f64, y f64, z-flag u8 (+ z f64), srid u32. `z` is `undefined` for 2D points. */
export class LoraPoint {
  readonly x: F64;
  readonly y: F64;
  readonly z: F64 | undefined;
  readonly srid: number;
  constructor(x: F64, y: F64, z: F64 | undefined, srid: number) {
    this.x = x;
    this.y = y;
    this.z = z;
    this.srid = srid;
  }
}

/**
 * Vector coordinates; the typed array picks the wire subtag (Float64Array 1, Float32Array 2, BigInt64Array 3,
 * Int32Array 4, Int16Array 5, Int8Array 6). Elements are copied as raw little-endian bytes, so NaN bits survive.
 */
export type VectorValues = Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array;

/**
 * A typed vector. The wire carries the declared `dimension` and the element count as two fields, and the decoder
 * rejects a mismatch; `dimension` is kept separately so a value re-encodes exactly as it was read.
 */
export class LoraVector {
  readonly dimension: number;
  readonly values: VectorValues;
  constructor(values: VectorValues, dimension: number = values.length) {
    this.values = values;
    this.dimension = dimension;
  }
}

/**
 * Binary data. The logical value is the concatenation of `segments`; the segmentation is kept on the wire, and an
 * empty binary has zero segments.
 */
export class LoraBinary {
  readonly segments: Uint8Array[];
  constructor(segments: Uint8Array[]) {
    this.segments = segments;
  }
  /** A binary with one segment, or none when `bytes` is empty (LoraDB's `from_bytes`). */
  static fromBytes(bytes: Uint8Array): LoraBinary {
    return new LoraBinary(bytes.byteLength === 0 ? [] : [bytes]);
  }
  /** The concatenated bytes. */
  toBytes(): Uint8Array {
    let n = 0;
    for (const s of this.segments) n += s.byteLength;
    const out = new Uint8Array(n);
    let at = 0;
    for (const s of this.segments) {
      out.set(s, at);
      at += s.byteLength;
    }
    return out;
  }
}

/** A LoraDB property value. Int is `bigint` (i64), Float is `number` (or {@link LoraFloat} for NaN payloads). */
export type PropertyValue =
  | null
  | boolean
  | bigint
  | number
  | LoraFloat
  | string
  | PropertyValue[]
  | PropertyMap
  | LoraDate
  | LoraTime
  | LoraLocalTime
  | LoraDateTime
  | LoraLocalDateTime
  | LoraDuration
  | LoraPoint
  | LoraVector
  | LoraBinary;

/**
 * A map value, and the shape of node/relationship `properties`. Encoded with keys sorted by UTF-8 bytes; decoded
 * as a `null`-prototype object (the last duplicate key wins).
 */
export interface PropertyMap {
  [key: string]: PropertyValue;
}

/** A new empty map with a `null` prototype, safe for any key including `__proto__`. */
export function createPropertyMap(): PropertyMap {
  return Object.create(null) as PropertyMap;
}
