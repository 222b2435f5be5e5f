import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ByteReader } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { isWalError, type WalErrorCode } from "./errors.js";

const U64_MAX = 2n ** 64n - 1n;
const SAFE = Number.MAX_SAFE_INTEGER;

function u64Bytes(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

/** `run` throws a WalError `code`, and `r`'s position is where it was. */
function expectRefused(r: ByteReader, code: WalErrorCode, run: () => unknown): void {
  const position = r.position;
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(isWalError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
  expect(r.position).toBe(position);
}

const notIndex = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0.5, 2 ** 53, "1", null, {}, 1n),
  fc.integer({ max: -1 }),
  fc.double().filter((x) => !Number.isInteger(x)),
);

describe("ByteReader integers never come back rounded", () => {
  test.prop([fc.oneof(fc.bigInt({ min: 0n, max: U64_MAX }), fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, U64_MAX))])(
    "u64 returns the exact value up to 2^53 - 1 and throws WAL_DECODE above, without moving",
    (value) => {
      const r = new ByteReader(u64Bytes(value));
      if (value <= BigInt(SAFE)) {
        expect(r.u64()).toBe(Number(value));
        expect(r.remaining).toBe(0);
      } else {
        expectRefused(r, "WAL_DECODE", () => r.u64());
      }
    },
  );

  test.prop([fc.bigInt({ min: 0n, max: U64_MAX })])("u64Big and i64 return the exact 64-bit value", (value) => {
    const bytes = u64Bytes(value);
    expect(new ByteReader(bytes).u64Big()).toBe(value);
    expect(new ByteReader(bytes).i64()).toBe(BigInt.asIntN(64, value));
  });

  test.prop([fc.bigInt({ min: 0n, max: U64_MAX }), fc.uint8Array({ maxLength: 20 })])(
    "count accepts at most the bytes that remain and throws WAL_DECODE above, without moving",
    (value, rest) => {
      const bytes = new Uint8Array(8 + rest.byteLength);
      bytes.set(u64Bytes(value));
      bytes.set(rest, 8);
      const r = new ByteReader(bytes);
      if (value <= BigInt(rest.byteLength)) expect(r.count("x")).toBe(Number(value));
      else expectRefused(r, "WAL_DECODE", () => r.count("x"));
    },
  );
});

describe("ByteReader arguments are checked: WAL_INVALID_ARGUMENT, never a silent misread", () => {
  test.prop([fc.uint8Array({ maxLength: 20 }), notIndex, fc.boolean()])(
    "the constructor refuses a start or end that is not an integer within the bytes",
    (bytes, bad, asStart) => {
      const make = () => (asStart ? new ByteReader(bytes, bad as number) : new ByteReader(bytes, 0, bad as number));
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(isWalError(error, "WAL_INVALID_ARGUMENT"), String(error)).toBe(true);
    },
  );

  test.prop([fc.uint8Array({ maxLength: 20 }), fc.integer({ min: 1, max: 100 })])(
    "the constructor refuses an end beyond the bytes and a start beyond the end",
    (bytes, over) => {
      expect(() => new ByteReader(bytes, 0, bytes.byteLength + over)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
      );
      expect(() => new ByteReader(bytes, bytes.byteLength + over)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
      );
    },
  );

  it("the constructor refuses a payload that is not a Uint8Array", () => {
    for (const bad of [undefined, null, "abc", [1, 2], new ArrayBuffer(4)]) {
      expect(() => new ByteReader(bad as never)).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
    }
  });

  test.prop([fc.uint8Array({ maxLength: 20 }), notIndex])(
    "rawView refuses a count that is not a non-negative integer, without moving",
    (bytes, n) => {
      const r = new ByteReader(bytes);
      expectRefused(r, "WAL_INVALID_ARGUMENT", () => r.rawView(n as number));
    },
  );

  test.prop([fc.uint8Array({ maxLength: 20 }), fc.integer({ min: 1, max: 100 })])(
    "rawView past the end is WAL_DECODE, without moving",
    (bytes, over) => {
      const r = new ByteReader(bytes);
      expectRefused(r, "WAL_DECODE", () => r.rawView(bytes.byteLength + over));
    },
  );

  it("string keeps a leading U+FEFF (a byte-order mark is text here, not a marker to strip)", () => {
    const w = new ByteWriter();
    w.string("\uFEFFabc");
    expect(new ByteReader(w.copy()).string()).toBe("\uFEFFabc");
  });

  it("string with invalid UTF-8 is WAL_DECODE, without moving", () => {
    const r = new ByteReader(Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe));
    expectRefused(r, "WAL_DECODE", () => r.string());
  });
});
