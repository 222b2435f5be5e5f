/**
 * A segment reader's options are refused with `WAL_INVALID_OPTION` and leave no file open: a bad read size before
 * the file is opened, a bad start offset once the header is read (the file is then closed).
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { DEFAULT_READ_BYTES, readSizeOf } from "./read-size.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

async function oneRecordSegment(): Promise<SimFS> {
  const fs = SimFS.withDir("/w");
  const w = await SegmentWriter.create(fs, PATH, 1);
  w.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
  await w.flush();
  await w.close();
  return fs;
}

describe("SegmentReader options", () => {
  it("refuses a read size that is not an integer of at least 1, before opening the file", async () => {
    const fs = await oneRecordSegment();
    const opensBefore = fs.stats.opens;
    for (const chunkBytes of [0, -1, 0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "64" as never]) {
      await expect(SegmentReader.open(fs, PATH, { chunkBytes }), String(chunkBytes)).rejects.toMatchObject({
        code: "WAL_INVALID_OPTION",
        message: expect.stringContaining("chunkBytes"),
      });
    }
    expect(fs.stats.opens).toBe(opensBefore);
  });

  it("reads with any read size of at least 1, and 1 MiB when none is given", async () => {
    const fs = await oneRecordSegment();
    for (const chunkBytes of [1, 2, 25, 1 << 20, undefined]) {
      const reader = await SegmentReader.open(fs, PATH, chunkBytes === undefined ? {} : { chunkBytes });
      expect(reader.chunkBytes).toBe(chunkBytes ?? DEFAULT_READ_BYTES);
      expect((await reader.next(bytesCodec)).kind).toBe("record");
      expect((await reader.next(bytesCodec)).kind).toBe("end");
      await reader.close();
    }
    expect(fs.stats.opens).toBe(fs.stats.closes);
    expect(readSizeOf(undefined)).toBe(1 << 20);
  });

  it("refuses a start offset inside the segment header, and closes the file it opened", async () => {
    const fs = await oneRecordSegment();
    await expect(SegmentReader.open(fs, PATH, { startOffset: 8 })).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });
});
