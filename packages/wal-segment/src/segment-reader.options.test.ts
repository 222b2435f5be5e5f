/**
 * A segment reader's options are refused with `WAL_INVALID_OPTION` before the file is opened: a bad read size or
 * start offset is the caller's mistake whatever the file holds, even when it is missing or damaged.
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

  it("refuses a start offset that is not an integer of at least 32, before opening the file", async () => {
    const fs = await oneRecordSegment();
    fs.writeFileSync("/w/0000000002.wal", new Uint8Array(32).fill(0xee)); // a damaged header
    const opensBefore = fs.stats.opens;
    const readsBefore = fs.stats.reads;
    for (const path of [PATH, "/w/0000000002.wal", "/w/missing.wal"]) {
      for (const startOffset of [8, 0, -1, 31, 32.5, Number.NaN, 2 ** 53, "40" as never]) {
        await expect(SegmentReader.open(fs, path, { startOffset }), `${path} ${startOffset}`).rejects.toMatchObject({
          code: "WAL_INVALID_OPTION",
          message: expect.stringContaining("startOffset"),
        });
      }
    }
    expect(fs.stats.opens).toBe(opensBefore);
    expect(fs.stats.reads).toBe(readsBefore);
  });
});
