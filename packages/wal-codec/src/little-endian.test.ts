import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { readU32, readU64 } from "./little-endian.js";

function u64Bytes(value: bigint): Uint8Array {
  const bytes = new Uint8Array(11);
  new DataView(bytes.buffer).setBigUint64(3, value, true);
  return bytes;
}

describe("readU64", () => {
  it("reads the values around the small-integer and 32-bit boundaries exactly", () => {
    const values = [0n, 1n, 0x7fff_fffen, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n, 0x1_8000_0001n];
    for (const v of [...values, BigInt(Number.MAX_SAFE_INTEGER)]) expect(readU64(u64Bytes(v), 3)).toBe(Number(v));
  });

  test.prop([fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })])("equals DataView's u64, rounded as Number()", (v) => {
    expect(readU64(u64Bytes(v), 3)).toBe(Number(v));
  });

  test.prop([fc.uint8Array({ minLength: 4, maxLength: 4 })])("readU32 equals DataView's u32", (bytes) => {
    expect(readU32(bytes, 0)).toBe(new DataView(bytes.buffer).getUint32(0, true));
  });
});
