import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { type ArchiveKey, archiveKey, parseArchiveKey } from "./archive-keys.js";

const refused = expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" });

const segment = { kind: "segment", id: 3, baseLsn: 41, size: 300, crc32: 0xdeadbeef } as const;
const piece = { kind: "piece", id: 4, baseLsn: 90, from: 0, to: 120, crc32: 7 } as const;

const natural = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const crc = fc.integer({ min: 0, max: 2 ** 32 - 1 });

describe("archiveKey", () => {
  test.prop([
    fc.oneof(
      fc.record({ kind: fc.constant("segment" as const), id: natural, baseLsn: natural, size: natural, crc32: crc }),
      fc
        .record({
          id: natural,
          baseLsn: natural,
          from: natural,
          length: fc.integer({ min: 1, max: 2 ** 40 }),
          crc32: crc,
        })
        .filter((p) => p.from + p.length <= Number.MAX_SAFE_INTEGER)
        .map(({ length, ...p }) => ({ kind: "piece" as const, ...p, to: p.from + length })),
    ),
  ])("parses back to the fields it was given", (k: ArchiveKey) => {
    expect(parseArchiveKey(archiveKey(k))).toEqual(k);
  });

  test("refuses a field that is missing: no key with crc32 00000000 or from 000undefined", () => {
    const { crc32: _crc, ...noCrc } = segment;
    const { from: _from, ...noFrom } = piece;
    const { to: _to, ...noTo } = piece;
    const { size: _size, ...noSize } = segment;
    for (const k of [noCrc, noFrom, noTo, noSize]) {
      expect(() => archiveKey(k as unknown as ArchiveKey)).toThrow(refused);
    }
  });

  test("refuses a crc32 outside [0, 2^32) instead of wrapping it, and LSNs and offsets that are not safe naturals", () => {
    for (const k of [
      { ...segment, crc32: 2 ** 32 + 5 },
      { ...segment, crc32: 2 ** 32 },
      { ...segment, crc32: -1 },
      { ...segment, crc32: 1.5 },
      { ...segment, baseLsn: -1 },
      { ...segment, baseLsn: 2 ** 53 },
      { ...segment, id: 0.5 },
      { ...piece, from: Number.NaN },
      { ...piece, to: "120" },
      { ...piece, to: 0 }, // holds no bytes
    ]) {
      expect(() => archiveKey(k as unknown as ArchiveKey)).toThrow(refused);
    }
    expect(archiveKey({ ...segment, crc32: 2 ** 32 - 1 })).toMatch(/-ffffffff\.wal$/);
    expect(archiveKey({ ...segment, crc32: 0 })).toMatch(/-00000000\.wal$/);
  });

  test("refuses a kind that is neither segment nor piece instead of naming a piece", () => {
    for (const kind of ["pieces", "Segment", undefined, 1]) {
      expect(() => archiveKey({ ...piece, kind } as unknown as ArchiveKey)).toThrow(refused);
    }
    expect(() => archiveKey(null as unknown as ArchiveKey)).toThrow(refused);
  });
});
