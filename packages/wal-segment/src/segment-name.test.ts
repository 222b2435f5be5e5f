import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { listSegments, parseSegmentId, segmentFileName, segmentPath } from "./segment-name.js";

describe("segment names", () => {
  it("pads ids to ten digits and round-trips", () => {
    expect(segmentFileName(42)).toBe("0000000042.wal");
    expect(segmentPath("/d", 42)).toBe("/d/0000000042.wal");
    expect(parseSegmentId("0000000042.wal")).toBe(42);
    expect(segmentFileName(12_345_678_901)).toBe("12345678901.wal");
  });

  it("follows Rust's u64 parser and extension rules", () => {
    expect(parseSegmentId("1.wal")).toBe(1);
    expect(parseSegmentId("+2.wal")).toBe(2);
    for (const name of ["x.txt", "notanumber.wal", "CURRENT", ".wal", "1.WAL", " 1.wal", "1.wal.tmp", "-1.wal"]) {
      expect(parseSegmentId(name)).toBeUndefined();
    }
    expect(parseSegmentId("18446744073709551616.wal")).toBeUndefined();
    expect(() => parseSegmentId("18446744073709551615.wal")).toThrow(
      expect.objectContaining({ code: "WAL_MALFORMED" }),
    );
  });

  it("takes ids up to 2^53 - 1 and refuses the first one past it as WAL_MALFORMED", () => {
    expect(parseSegmentId("9007199254740991.wal")).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseSegmentId(segmentFileName(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseSegmentId("9007199254740992.wal")).toThrow(expect.objectContaining({ code: "WAL_MALFORMED" }));
  });

  it("lists numerically, ignores other files, and refuses two names for one id", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lora-wal-names-"));
    try {
      for (const name of ["0000000010.wal", "0000000002.wal", "9.wal", ".lora-wal.lock", "a.tmp"]) {
        await writeFile(join(dir, name), "");
      }
      const fs = createNodeFileSystem();
      expect((await listSegments(fs, dir)).map((e) => e.id)).toEqual([2, 9, 10]);
      await writeFile(join(dir, "2.wal"), "");
      await expect(listSegments(fs, dir)).rejects.toMatchObject({ code: "WAL_MALFORMED" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
