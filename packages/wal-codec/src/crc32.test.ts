import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { crc32, crc32Range, markerCrc32 } from "./crc32.js";

describe("crc32Range", () => {
  test("matches the check value of CRC-32/IEEE", () => {
    const digits = new TextEncoder().encode("123456789");
    expect(crc32Range(digits, 0, digits.length)).toBe(0xcbf43926);
    expect(crc32(digits)).toBe(0xcbf43926);
  });

  // Both sides of the switch from the JavaScript loop to zlib, and ranges that do not start at 0.
  test.prop([fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.nat(), fc.nat()], { numRuns: 500 })(
    "equals zlib's CRC of the same range for any bytes and bounds",
    (bytes, a, b) => {
      const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
      const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
      const expected = crc32(bytes.subarray(start, end));
      expect(crc32Range(bytes, start, end)).toBe(expected);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      expect(crc32Range(bytes, start, end, view)).toBe(expected);
    },
  );

  test("a view over a subarray with a byte offset gives the same value", () => {
    const backing = new Uint8Array(300).map((_, i) => (i * 131) & 0xff);
    const bytes = backing.subarray(7, 290);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const [start, end] of [
      [0, 21],
      [3, 148],
      [1, 240],
      [0, 283],
    ] as const) {
      expect(crc32Range(bytes, start, end, view)).toBe(crc32(bytes.subarray(start, end)));
    }
  });
});

describe("markerCrc32", () => {
  // Any bytes after the length: every kind byte (markers and not), any LSNs, at any offset in a larger buffer.
  test.prop([fc.uint8Array({ minLength: 17, maxLength: 17 }), fc.nat({ max: 40 }), fc.nat({ max: 40 })], {
    numRuns: 500,
  })("equals zlib's CRC of the frame's 21 bytes", (rest, before, after) => {
    const bytes = new Uint8Array(before + 21 + after).fill(0xa5);
    bytes.set([25, 0, 0, 0], before);
    bytes.set(rest, before + 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(markerCrc32(view, before)).toBe(crc32(bytes.subarray(before, before + 21)));
  });

  test("a view with a byte offset of its own", () => {
    const backing = new Uint8Array(64).map((_, i) => (i * 37) & 0xff);
    backing.set([25, 0, 0, 0], 9);
    const view = new DataView(backing.buffer, 5, 50);
    expect(markerCrc32(view, 4)).toBe(crc32(backing.subarray(9, 30)));
  });
});
