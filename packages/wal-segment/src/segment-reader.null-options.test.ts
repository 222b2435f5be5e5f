/**
 * `SegmentReader.open` takes a default only for an option left out: `startOffset: null` is refused (it read from the
 * header's end), and so is a `readBuffer` that is not a `Uint8Array` (it was taken as it came).
 */

import { describe, expect, it } from "vitest";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

describe("SegmentReader.open options", () => {
  it.each([
    ["startOffset", null],
    ["readBuffer", null],
    ["readBuffer", new ArrayBuffer(64)],
  ])("refuses %s %o with WAL_INVALID_OPTION before opening the file", async (name, value) => {
    const fs = SimFS.withDir("/w");
    const writer = await SegmentWriter.create(fs, "/w/0000000001.wal", 1);
    await writer.close();
    const opens = fs.stats.opens;
    await expect(SegmentReader.open(fs, "/w/0000000001.wal", { [name]: value })).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining(name),
    });
    expect(fs.stats.opens).toBe(opens);
  });
});
