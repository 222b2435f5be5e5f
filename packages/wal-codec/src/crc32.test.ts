import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { crc32, crc32Range } from "./crc32.js";

describe("crc32Range", () => {
  test("matches the check value of CRC-32/IEEE", () => {
    const digits = new TextEncoder().encode("123456789");
    expect(crc32Range(digits, 0, digits.length)).toBe(0xcbf43926);
    expect(crc32(digits)).toBe(0xcbf43926);
  });

  // Both sides of the switch from the JavaScript loop to zlib, and ranges that do not start at 0.
  test.prop([fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.nat(), fc.nat()])(
    "equals zlib's CRC of the same range for any bytes and bounds",
    (bytes, a, b) => {
      const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
      const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
      expect(crc32Range(bytes, start, end)).toBe(crc32(bytes.subarray(start, end)));
    },
  );
});
