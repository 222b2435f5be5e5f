import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ByteReader } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { isWalError, type WalErrorCode } from "./errors.js";
import type { PayloadCodec } from "./payload-codec.js";
import { decodeRecord, encodeCommitTxInto, encodeRecord, encodeRecordInto } from "./record.js";

const U64_MAX = 2n ** 64n - 1n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const SAFE = Number.MAX_SAFE_INTEGER;

type Method = (...args: unknown[]) => unknown;

/** Call `w[method](...args)` with arguments of any type (what a JavaScript caller can do). */
function call(w: ByteWriter, method: string, ...args: unknown[]): unknown {
  return ((w as unknown as Record<string, Method>)[method] as Method).apply(w, args);
}

/** A writer holding `prefix`, started small so that writes also exercise growth. */
function writerWith(prefix: Uint8Array): ByteWriter {
  const w = new ByteWriter(16);
  w.raw(prefix);
  return w;
}

/** The exact little-endian bytes `set` puts into a `width`-byte DataView. */
function le(width: number, set: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(width);
  set(new DataView(bytes.buffer));
  return bytes;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/** The error `run` throws (fails the test when it returns). */
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

/** `run` throws a WalError `code` naming `method`, and `w` has the same length, capacity and bytes as before. */
function expectRefused(w: ByteWriter, code: WalErrorCode, method: string, run: () => unknown, value?: unknown): void {
  const length = w.length;
  const capacity = w.capacity;
  const bytes = w.copy();
  const error = thrownBy(run);
  expect(isWalError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  const message = (error as Error).message;
  expect(message).toContain(`ByteWriter.${method}`);
  if (typeof value === "number" || typeof value === "bigint") expect(message).toContain(String(value));
  expect(w.length).toBe(length);
  expect(w.capacity).toBe(capacity);
  expect(w.copy()).toEqual(bytes);
}

/** Values of the wrong type for any integer writer (never a number, never a bigint). */
const notNumeric: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.constantFrom(undefined, null, true, false, [], [1], {}, new Number(1), { valueOf: () => 1 }, Symbol("s")),
  fc.constantFrom("1", "0x10", "", new Uint8Array(1), () => 1),
  fc.object(),
);

/** Numbers that are not integers in `[min, max]`: fractions, NaN, ±Infinity, just out of range, far out of range. */
function numbersOutside(min: number, max: number): fc.Arbitrary<number> {
  const outside = (x: number) => !(Number.isInteger(x) && x >= min && x <= max);
  const arbs: fc.Arbitrary<number>[] = [
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5, -0.5, min - 1, max + 1),
    fc.constantFrom(2 ** 53, 2 ** 64, -(2 ** 63) - 2 ** 12, 2 ** 63, Number.MAX_VALUE, Number.EPSILON, 1e21),
    fc.double().filter(outside),
    fc.double({ min, max, noNaN: true }).filter(outside),
  ];
  if (min - 1000 >= -SAFE) arbs.push(fc.integer({ min: min - 1000, max: min - 1 }));
  if (max + 1 <= SAFE) arbs.push(fc.integer({ min: max + 1, max: SAFE }));
  if (min - 1 >= -SAFE) arbs.push(fc.integer({ min: -SAFE, max: min - 1 }));
  return fc.oneof(...arbs).filter(outside);
}

interface FixedInt {
  readonly method: "u8" | "i8" | "i16" | "i32" | "u32";
  readonly width: number;
  readonly min: number;
  readonly max: number;
  readonly set: (view: DataView, value: number) => void;
}

const FIXED_INTS: readonly FixedInt[] = [
  { method: "u8", width: 1, min: 0, max: 0xff, set: (v, x) => v.setUint8(0, x) },
  { method: "i8", width: 1, min: -0x80, max: 0x7f, set: (v, x) => v.setInt8(0, x) },
  { method: "i16", width: 2, min: -0x8000, max: 0x7fff, set: (v, x) => v.setInt16(0, x, true) },
  { method: "i32", width: 4, min: -0x8000_0000, max: 0x7fff_ffff, set: (v, x) => v.setInt32(0, x, true) },
  { method: "u32", width: 4, min: 0, max: 0xffff_ffff, set: (v, x) => v.setUint32(0, x, true) },
];

const prefixArb = fc.uint8Array({ maxLength: 40 });

describe("ByteWriter integer writers: exact little-endian bytes for every valid value", () => {
  for (const spec of FIXED_INTS) {
    test.prop([prefixArb, fc.integer({ min: spec.min, max: spec.max })])(
      `${spec.method} appends the DataView encoding after existing bytes`,
      (prefix, value) => {
        const w = writerWith(prefix);
        call(w, spec.method, value);
        expect(w.copy()).toEqual(
          concat(
            prefix,
            le(spec.width, (v) => spec.set(v, value)),
          ),
        );
      },
    );
  }

  test.prop([prefixArb, fc.oneof(fc.integer({ min: 0, max: SAFE }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, SAFE))])(
    "u64 of a number in [0, 2^53 - 1] appends the 8-byte little-endian encoding",
    (prefix, value) => {
      const w = writerWith(prefix);
      w.u64(value);
      expect(w.copy()).toEqual(
        concat(
          prefix,
          le(8, (v) => v.setBigUint64(0, BigInt(value), true)),
        ),
      );
    },
  );

  test.prop([prefixArb, fc.oneof(fc.bigInt({ min: 0n, max: U64_MAX }), fc.constantFrom(0n, U64_MAX))])(
    "u64 and u64Big of a bigint in [0, 2^64 - 1] append the 8-byte little-endian encoding",
    (prefix, value) => {
      const expected = concat(
        prefix,
        le(8, (v) => v.setBigUint64(0, value, true)),
      );
      const a = writerWith(prefix);
      a.u64(value);
      expect(a.copy()).toEqual(expected);
      const b = writerWith(prefix);
      b.u64Big(value);
      expect(b.copy()).toEqual(expected);
    },
  );

  test.prop([
    prefixArb,
    fc.oneof(fc.bigInt({ min: I64_MIN, max: I64_MAX }), fc.integer({ min: -SAFE, max: SAFE }), fc.constantFrom(-1, 0)),
  ])(
    "i64 of a bigint in [-2^63, 2^63 - 1] or a safe integer appends the two's complement encoding",
    (prefix, value) => {
      const w = writerWith(prefix);
      w.i64(value);
      expect(w.copy()).toEqual(
        concat(
          prefix,
          le(8, (v) => v.setBigInt64(0, BigInt(value), true)),
        ),
      );
    },
  );

  test.prop([prefixArb, fc.double(), fc.float()])(
    "f64 and f32 append the DataView encoding (f32 rounds to the nearest float32)",
    (prefix, d, f) => {
      const w = writerWith(prefix);
      w.f64(d);
      w.f32(f);
      const expected = concat(
        concat(
          prefix,
          le(8, (v) => v.setFloat64(0, d, true)),
        ),
        le(4, (v) => v.setFloat32(0, f, true)),
      );
      expect(w.copy()).toEqual(expected);
    },
  );
});

describe("ByteWriter integer writers refuse every invalid value with WAL_ENCODE and write nothing", () => {
  for (const spec of FIXED_INTS) {
    test.prop([prefixArb, fc.oneof(numbersOutside(spec.min, spec.max), notNumeric, fc.bigInt())])(
      `${spec.method} refuses values outside [${spec.min}, ${spec.max}], fractions, NaN, ±Infinity and non-numbers`,
      (prefix, value) => {
        const w = writerWith(prefix);
        expectRefused(w, "WAL_ENCODE", spec.method, () => call(w, spec.method, value), value);
      },
    );
  }

  const unsafeAbove = fc.double({ min: 2 ** 53, noNaN: true });
  const unsafeBelow = fc.double({ max: -(2 ** 53), noNaN: true });

  test.prop([
    prefixArb,
    fc.oneof(
      numbersOutside(0, SAFE),
      unsafeAbove,
      notNumeric,
      fc.bigInt({ max: -1n }),
      fc.bigInt({ min: U64_MAX + 1n }),
      fc.constantFrom(-1n, U64_MAX + 1n, 2n ** 65n),
    ),
  ])(
    "u64 refuses negatives, fractions, NaN, ±Infinity, unsafe numbers, bigints outside [0, 2^64) and non-numbers",
    (prefix, value) => {
      const w = writerWith(prefix);
      expectRefused(w, "WAL_ENCODE", "u64", () => call(w, "u64", value), value);
    },
  );

  test.prop([
    prefixArb,
    fc.oneof(
      fc.bigInt({ max: -1n }),
      fc.bigInt({ min: U64_MAX + 1n }),
      notNumeric,
      fc.integer({ min: 0, max: SAFE }),
      fc.constantFrom(0, 1, -1),
    ),
  ])("u64Big refuses bigints outside [0, 2^64) and anything that is not a bigint", (prefix, value) => {
    const w = writerWith(prefix);
    expectRefused(w, "WAL_ENCODE", "u64Big", () => call(w, "u64Big", value), value);
  });

  test.prop([
    prefixArb,
    fc.oneof(
      numbersOutside(-SAFE, SAFE),
      unsafeAbove,
      unsafeBelow,
      notNumeric,
      fc.bigInt({ max: I64_MIN - 1n }),
      fc.bigInt({ min: I64_MAX + 1n }),
      fc.constantFrom(I64_MIN - 1n, I64_MAX + 1n),
    ),
  ])(
    "i64 refuses fractions, NaN, ±Infinity, unsafe numbers, bigints outside [-2^63, 2^63) and non-numbers",
    (prefix, value) => {
      const w = writerWith(prefix);
      expectRefused(w, "WAL_ENCODE", "i64", () => call(w, "i64", value), value);
    },
  );

  test.prop([prefixArb, fc.oneof(notNumeric, fc.bigInt())])(
    "f32 and f64 refuse anything that is not a number",
    (prefix, value) => {
      const w = writerWith(prefix);
      expectRefused(w, "WAL_ENCODE", "f32", () => call(w, "f32", value), value);
      expectRefused(w, "WAL_ENCODE", "f64", () => call(w, "f64", value), value);
    },
  );

  it.each([
    ["u64", -1],
    ["u64", 1.5],
    ["u64", Number.NaN],
    ["u64", 2 ** 64],
    ["u64", 2 ** 53],
    ["u64", "7"],
    ["u64", undefined],
    ["u32", -1],
    ["u32", 2 ** 32],
    ["u8", 256],
    ["u8", 1.5],
    ["i64", 1.5],
    ["i64", 2 ** 63],
  ])("%s(%s) throws WAL_ENCODE and writes nothing (issue 12)", (method, value) => {
    const w = writerWith(Uint8Array.of(1, 2, 3));
    expectRefused(w, "WAL_ENCODE", method, () => call(w, method, value), value);
  });
});

describe("ByteWriter overwrites (setU8, setU32, setU64)", () => {
  const OVERWRITES = [
    {
      method: "setU8",
      width: 1,
      set: (v: DataView, x: number) => v.setUint8(0, x),
      value: fc.integer({ max: 255, min: 0 }),
    },
    {
      method: "setU32",
      width: 4,
      set: (v: DataView, x: number) => v.setUint32(0, x, true),
      value: fc.integer({ min: 0, max: 0xffff_ffff }),
    },
    {
      method: "setU64",
      width: 8,
      set: (v: DataView, x: number) => v.setBigUint64(0, BigInt(x), true),
      value: fc.integer({ min: 0, max: SAFE }),
    },
  ] as const;
  const written = fc.uint8Array({ minLength: 8, maxLength: 40 });

  for (const spec of OVERWRITES) {
    test.prop([written, fc.nat(), spec.value])(
      `${spec.method} overwrites exactly ${spec.width} written byte(s) with the little-endian value`,
      (prefix, at, value) => {
        const offset = at % (prefix.byteLength - spec.width + 1);
        const w = writerWith(prefix);
        call(w, spec.method, offset, value);
        const expected = prefix.slice();
        expected.set(
          le(spec.width, (v) => spec.set(v, value)),
          offset,
        );
        expect(w.length).toBe(prefix.byteLength);
        expect(w.copy()).toEqual(expected);
      },
    );

    test.prop([
      written,
      fc.nat(),
      fc.oneof(numbersOutside(0, spec.width === 8 ? SAFE : 2 ** (8 * spec.width) - 1), notNumeric),
    ])(`${spec.method} refuses an invalid value with WAL_ENCODE and writes nothing`, (prefix, at, value) => {
      const w = writerWith(prefix);
      const offset = at % (prefix.byteLength - spec.width + 1);
      expectRefused(w, "WAL_ENCODE", spec.method, () => call(w, spec.method, offset, value), value);
    });

    test.prop([written, fc.oneof(fc.integer({ max: -1 }), fc.nat(), fc.double(), notNumeric)])(
      `${spec.method} refuses an offset outside the written bytes with WAL_INVALID_ARGUMENT and writes nothing`,
      (prefix, offset) => {
        fc.pre(
          !(
            Number.isInteger(offset) &&
            (offset as number) >= 0 &&
            (offset as number) <= prefix.byteLength - spec.width
          ),
        );
        const w = writerWith(prefix);
        expectRefused(w, "WAL_INVALID_ARGUMENT", spec.method, () => call(w, spec.method, offset, 0), offset);
      },
    );
  }

  test.prop([fc.bigInt({ min: 0n, max: U64_MAX }), fc.nat(8)])(
    "setU64 of a bigint overwrites the exact u64",
    (value, at) => {
      const w = writerWith(new Uint8Array(16).fill(0xee));
      w.setU64(at, value);
      const expected = new Uint8Array(16).fill(0xee);
      new DataView(expected.buffer).setBigUint64(at, value, true);
      expect(w.copy()).toEqual(expected);
    },
  );
});

/** Anything that is not an integer in `[0, max]` (max may be unbounded). */
function notIndex(max = SAFE): fc.Arbitrary<unknown> {
  return fc.oneof(numbersOutside(0, max), notNumeric, fc.bigInt({ min: 0n, max: 100n }));
}

describe("ByteWriter method arguments are checked: WAL_INVALID_ARGUMENT, never RangeError or TypeError", () => {
  test.prop([prefixArb, fc.oneof(notIndex(), fc.integer({ min: 41, max: 1000 }))])(
    "truncate refuses anything but an integer in [0, length]",
    (prefix, length) => {
      fc.pre(!(Number.isInteger(length) && (length as number) >= 0 && (length as number) <= prefix.byteLength));
      const w = writerWith(prefix);
      expectRefused(w, "WAL_INVALID_ARGUMENT", "truncate", () => call(w, "truncate", length), length);
    },
  );

  test.prop([prefixArb, fc.nat(40)])("truncate to an integer in [0, length] keeps the first bytes", (prefix, at) => {
    const length = at % (prefix.byteLength + 1);
    const w = writerWith(prefix);
    w.truncate(length);
    expect(w.copy()).toEqual(prefix.slice(0, length));
  });

  for (const method of ["skip", "ensure", "discardFront"]) {
    test.prop([prefixArb, notIndex()])(
      `${method} refuses negatives, fractions, NaN, ±Infinity, unsafe numbers and non-numbers`,
      (prefix, count) => {
        const w = writerWith(prefix);
        expectRefused(w, "WAL_INVALID_ARGUMENT", method, () => call(w, method, count), count);
      },
    );
  }

  test.prop([prefixArb, fc.nat(60)])(
    "discardFront of an integer drops that many bytes (all of them at most)",
    (prefix, n) => {
      const w = writerWith(prefix);
      w.discardFront(n);
      expect(w.copy()).toEqual(prefix.slice(Math.min(n, prefix.byteLength)));
    },
  );

  test.prop([prefixArb, fc.nat(40), fc.nat(40)])(
    "skip advances by an integer count and returns the offset",
    (prefix, n, size) => {
      const w = writerWith(prefix);
      w.ensure(size);
      expect(w.capacity).toBeGreaterThanOrEqual(prefix.byteLength + size);
      expect(w.skip(n)).toBe(prefix.byteLength);
      expect(w.length).toBe(prefix.byteLength + n);
      expect(w.copy(0, prefix.byteLength)).toEqual(prefix);
    },
  );

  for (const method of ["view", "copy"]) {
    test.prop([prefixArb, fc.oneof(notIndex(), fc.integer({ min: 41, max: 100 })), fc.boolean()])(
      `${method} refuses a range outside the written bytes`,
      (prefix, bad, asStart) => {
        const inRange = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= prefix.byteLength;
        // An absent start or end is the default (0, length), not an error.
        fc.pre(bad !== undefined && !inRange(bad));
        const w = writerWith(prefix);
        const args = asStart ? [bad] : [0, bad];
        expectRefused(w, "WAL_INVALID_ARGUMENT", method, () => call(w, method, ...args), bad);
      },
    );

    test.prop([fc.uint8Array({ minLength: 2, maxLength: 40 })])(`${method} refuses start > end`, (prefix) => {
      const w = writerWith(prefix);
      expectRefused(w, "WAL_INVALID_ARGUMENT", method, () => call(w, method, 2, 1));
    });
  }

  test.prop([prefixArb, fc.oneof(notIndex(), fc.integer({ min: 41, max: 100 }))])(
    "crc32From refuses a start outside [0, length]",
    (prefix, start) => {
      fc.pre(!(Number.isInteger(start) && (start as number) >= 0 && (start as number) <= prefix.byteLength));
      const w = writerWith(prefix);
      expectRefused(w, "WAL_INVALID_ARGUMENT", "crc32From", () => call(w, "crc32From", start), start);
    },
  );

  test.prop([fc.oneof(numbersOutside(0, SAFE), fc.constantFrom(null, "64", {}, 4096n))])(
    "the constructor refuses an initial capacity that is not a non-negative safe integer",
    (capacity) => {
      const error = thrownBy(() => new ByteWriter(capacity as number));
      expect(isWalError(error, "WAL_INVALID_ARGUMENT"), String(error)).toBe(true);
      expect((error as Error).message).toContain("ByteWriter");
    },
  );

  it("the constructor allocates at least 16 bytes (and the default when given undefined)", () => {
    expect(new ByteWriter(0).capacity).toBe(16);
    expect(new ByteWriter(undefined).capacity).toBe(4096);
    expect(new ByteWriter(100).capacity).toBe(100);
  });
});

describe("ByteWriter strings and bytes", () => {
  const wellFormed = fc.string({ unit: "grapheme", maxLength: 30 });
  const loneSurrogate = fc
    .tuple(wellFormed, fc.integer({ min: 0xd800, max: 0xdfff }), wellFormed)
    .map(([a, unit, b]) => a + String.fromCharCode(unit) + b);

  test.prop([prefixArb, wellFormed])("string appends a u64 byte length and the UTF-8 bytes", (prefix, s) => {
    const w = writerWith(prefix);
    w.string(s);
    const utf8 = Buffer.from(s, "utf8");
    const expected = concat(
      prefix,
      concat(
        le(8, (v) => v.setBigUint64(0, BigInt(utf8.byteLength), true)),
        utf8,
      ),
    );
    expect(w.copy()).toEqual(expected);
  });

  test.prop([prefixArb, loneSurrogate])("string and utf8 refuse a lone surrogate and write nothing", (prefix, s) => {
    const w = writerWith(prefix);
    expectRefused(w, "WAL_ENCODE", "string", () => w.string(s));
    expectRefused(w, "WAL_ENCODE", "utf8", () => w.utf8(s));
  });

  test.prop([
    prefixArb,
    fc.oneof(fc.double(), fc.bigInt(), fc.constantFrom(undefined, null, {}, [], new Uint8Array(2))),
  ])("string and utf8 refuse a non-string and write nothing", (prefix, value) => {
    const w = writerWith(prefix);
    expectRefused(w, "WAL_ENCODE", "string", () => call(w, "string", value));
    expectRefused(w, "WAL_ENCODE", "utf8", () => call(w, "utf8", value));
  });

  test.prop([prefixArb, fc.uint8Array({ maxLength: 40 })])("bytes appends a u64 length and the bytes", (prefix, b) => {
    const w = writerWith(prefix);
    w.bytes(b);
    expect(w.copy()).toEqual(
      concat(
        prefix,
        concat(
          le(8, (v) => v.setBigUint64(0, BigInt(b.byteLength), true)),
          b,
        ),
      ),
    );
  });

  test.prop([
    prefixArb,
    fc.oneof(
      fc.string(),
      fc.double(),
      fc.constantFrom(undefined, null, {}, [1, 2], new ArrayBuffer(4), new DataView(new ArrayBuffer(4))),
      fc.constantFrom(new Int8Array(3), new Uint16Array(2), { byteLength: 4 }),
    ),
  ])("raw and bytes refuse anything that is not a Uint8Array and write nothing", (prefix, value) => {
    const w = writerWith(prefix);
    expectRefused(w, "WAL_ENCODE", "raw", () => call(w, "raw", value));
    expectRefused(w, "WAL_ENCODE", "bytes", () => call(w, "bytes", value));
  });
});

/** A codec whose events are u64 values written with `out.u64` (a PayloadCodec a user might write). */
const u64Codec: PayloadCodec<number | bigint> = {
  name: "u64",
  encodeEvent(event, out) {
    out.u64(event);
  },
  encodeBatch(events, out) {
    out.u64(events.length);
    for (const event of events) out.u64(event);
  },
  decodeEvent(payload) {
    const r = new ByteReader(payload);
    const value = r.u64Big();
    if (r.remaining !== 0) throw new Error("trailing bytes");
    return value;
  },
  decodeBatch(payload) {
    const r = new ByteReader(payload);
    const n = r.count("event");
    const events: bigint[] = [];
    for (let i = 0; i < n; i++) events.push(r.u64Big());
    if (r.remaining !== 0) throw new Error("trailing bytes");
    return events;
  },
};

const invalidU64 = fc.oneof(
  fc.constantFrom(-1, 1.5, Number.NaN, 2 ** 64, 2 ** 53, Number.POSITIVE_INFINITY, -1n, 2n ** 64n),
  numbersOutside(0, SAFE),
  fc.double({ min: 2 ** 53, noNaN: true }),
);

describe("a PayloadCodec that writes an invalid u64 cannot commit a record", () => {
  test.prop([fc.oneof(fc.integer({ min: 0, max: SAFE }), fc.bigInt({ min: 0n, max: U64_MAX }))])(
    "a valid u64 replays as exactly the value written",
    (value) => {
      const bytes = encodeRecord({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: value }, u64Codec);
      const r = decodeRecord(bytes, 0, u64Codec);
      expect(r.kind === "record" && r.record.kind === "mutation" && r.record.event).toBe(BigInt(value));
    },
  );

  test.prop([invalidU64])("encodeRecord throws WAL_ENCODE for u64(invalid)", (value) => {
    const error = thrownBy(() =>
      encodeRecord({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: value as number }, u64Codec),
    );
    expect(isWalError(error, "WAL_ENCODE"), String(error)).toBe(true);
  });

  test.prop([invalidU64, fc.integer({ min: 0, max: 3 })])(
    "encodeRecordInto and encodeCommitTxInto throw WAL_ENCODE and leave the output writer as it was",
    (value, position) => {
      const out = new ByteWriter(16);
      encodeRecordInto({ kind: "txBegin", lsn: 1 }, u64Codec, out);
      encodeRecordInto({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: 7 }, u64Codec, out);
      const length = out.length;
      const before = out.copy();
      const events: (number | bigint)[] = [1, 2n, 3, 4];
      events[position] = value as number;
      const attempts = [
        () => encodeRecordInto({ kind: "mutation", lsn: 3, txBeginLsn: 1, event: value as number }, u64Codec, out),
        () => encodeRecordInto({ kind: "mutationBatch", lsn: 3, txBeginLsn: 1, events }, u64Codec, out),
        () => encodeCommitTxInto(3, events, u64Codec, out),
      ];
      for (const attempt of attempts) {
        const error = thrownBy(attempt);
        expect(isWalError(error, "WAL_ENCODE"), String(error)).toBe(true);
        expect(out.length).toBe(length);
        expect(out.copy()).toEqual(before);
      }
    },
  );

  it("u64(-1) in a codec used to commit and replay 2^64 - 1; now nothing is committed", () => {
    const out = new ByteWriter();
    expect(() => encodeRecordInto({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: -1 }, u64Codec, out)).toThrow(
      expect.objectContaining({ code: "WAL_ENCODE", message: expect.stringContaining("ByteWriter.u64") }),
    );
    expect(out.length).toBe(0);
  });
});
