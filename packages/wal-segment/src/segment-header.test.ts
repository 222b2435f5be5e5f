import { fc, test } from "@fast-check/vitest";
import { crc32 } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { decodeSegmentHeader, encodeSegmentHeader, withSealedFlag } from "./segment-header.js";

const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("segment header", () => {
  it("matches worked example (a) of docs/format.md, unsealed and sealed", () => {
    expect(toHex(encodeSegmentHeader({ baseLsn: 1, sealed: false }))).toBe(
      "4c4f524157414c00010000000100000000000000000000000000000" + "0e4165223",
    );
    const sealed = encodeSegmentHeader({ baseLsn: 1, sealed: true });
    expect(toHex(sealed.subarray(20, 24))).toBe("01000000");
    expect(toHex(sealed.subarray(28))).toBe("7a16f8ef");
  });

  test.prop([fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.boolean()])("round-trips", (baseLsn, sealed) => {
    const h = decodeSegmentHeader(encodeSegmentHeader({ baseLsn, sealed }));
    expect(h).toEqual({ formatVersion: 1, baseLsn, sealed, flags: sealed ? 1 : 0 });
  });

  it("rejects bad magic before the CRC, a bad CRC, a bad version and a short header", () => {
    const good = encodeSegmentHeader({ baseLsn: 123, sealed: false });
    const magic = good.slice();
    magic[0] = 0x58;
    expect(() => decodeSegmentHeader(magic)).toThrow(/bad magic/);
    const flipped = good.slice();
    flipped[12] = (flipped[12] as number) ^ 1;
    expect(() => decodeSegmentHeader(flipped)).toThrow(/header crc mismatch/);
    expect(() => decodeSegmentHeader(good.subarray(0, 31))).toThrow(
      expect.objectContaining({ code: "WAL_BAD_HEADER" }),
    );
    for (let bit = 0; bit < 32 * 8; bit++) {
      const b = good.slice();
      b[bit >> 3] = (b[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(() => decodeSegmentHeader(b)).toThrow(expect.objectContaining({ code: "WAL_BAD_HEADER" }));
    }
  });

  it("refuses a CRC-valid header with another format version, any magic byte changed, or a base LSN past 2^53", () => {
    const good = encodeSegmentHeader({ baseLsn: 123, sealed: false });
    /** `good` with `edit` applied and its CRC made right again: only the checks after the CRC can refuse it. */
    const resealed = (edit: (view: DataView) => void) => {
      const b = good.slice();
      const view = new DataView(b.buffer);
      edit(view);
      view.setUint32(28, crc32(b.subarray(0, 28)), true);
      return b;
    };
    for (const version of [0, 2, 0x1_0000 + 1]) {
      expect(() => decodeSegmentHeader(resealed((v) => v.setUint32(8, version, true)))).toThrow(
        expect.objectContaining({
          code: "WAL_BAD_HEADER",
          message: expect.stringMatching(/unsupported format version/),
        }),
      );
    }
    for (let i = 0; i < 8; i++) {
      expect(() => decodeSegmentHeader(resealed((v) => v.setUint8(i, v.getUint8(i) ^ 0x20)))).toThrow(/bad magic/);
    }
    expect(() => decodeSegmentHeader(resealed((v) => v.setBigUint64(12, 2n ** 53n, true)))).toThrow(
      expect.objectContaining({ code: "WAL_BAD_HEADER", message: expect.stringMatching(/safe integer range/) }),
    );
    expect(decodeSegmentHeader(resealed((v) => v.setBigUint64(12, 2n ** 53n - 1n, true))).baseLsn).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it("only bit 0 of the flags seals; the other bits are kept as read", () => {
    const h = decodeSegmentHeader(encodeSegmentHeader({ baseLsn: 5, sealed: false, flags: 0xfffe }));
    expect(h).toEqual({ formatVersion: 1, baseLsn: 5, sealed: false, flags: 0xfffe });
    const sealed = decodeSegmentHeader(encodeSegmentHeader({ baseLsn: 5, sealed: true, flags: 6 }));
    expect(sealed).toEqual({ formatVersion: 1, baseLsn: 5, sealed: true, flags: 7 });
  });
});

describe("withSealedFlag", () => {
  test.prop([
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: 0, max: 0xffff_ffff }),
    fc.uint8Array({ minLength: 4, maxLength: 4 }),
    fc.boolean(),
  ])("changes bit 0 of the flags and the CRC only", (baseLsn, flags, reserved, sealed) => {
    const header = encodeSegmentHeader({ baseLsn, sealed: !sealed, flags });
    header.set(reserved, 24);
    new DataView(header.buffer).setUint32(28, crc32(header.subarray(0, 28)), true);
    const out = withSealedFlag(header, sealed);
    expect(decodeSegmentHeader(out)).toEqual({
      formatVersion: 1,
      baseLsn,
      sealed,
      flags: ((flags & ~1) | (sealed ? 1 : 0)) >>> 0,
    });
    expect(out.subarray(24, 28)).toEqual(reserved);
    expect(out.subarray(0, 20)).toEqual(header.subarray(0, 20));
    expect(withSealedFlag(out, !sealed)).toEqual(header);
  });

  it("refuses bytes that are not a header and leaves them as they were", () => {
    const bad = encodeSegmentHeader({ baseLsn: 1, sealed: false });
    bad[13] = 9;
    const before = bad.slice();
    expect(() => withSealedFlag(bad, true, "/w/x.wal")).toThrow(
      expect.objectContaining({ code: "WAL_BAD_HEADER", details: expect.objectContaining({ path: "/w/x.wal" }) }),
    );
    expect(bad).toEqual(before);
    // A longer buffer: only its header is returned.
    const long = new Uint8Array(40);
    long.set(encodeSegmentHeader({ baseLsn: 1, sealed: false }), 0);
    expect(withSealedFlag(long, true)).toEqual(encodeSegmentHeader({ baseLsn: 1, sealed: true }));
  });
});
