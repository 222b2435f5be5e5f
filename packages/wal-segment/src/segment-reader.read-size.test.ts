/**
 * How much a reader reads at a time. A reader given no buffer starts at 256 KiB and doubles up to its read size, so
 * a small log, or a torn record streamed through the buffer, touches a quarter of the memory a full-size first
 * buffer would (fresh memory costs a page fault per 4 KiB); a reader handed a buffer of the read size reads that
 * much from the start.
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { WalFile, WalFileSystem } from "./fs/file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";
const KiB = 1024;
const MiB = 1024 * KiB;

/** A segment of `count` transactions, each a TxBegin, one `eventBytes` event and a TxCommit. */
async function segmentOf(count: number, eventBytes: number): Promise<SimFS> {
  const fs = SimFS.withDir("/w");
  const w = await SegmentWriter.create(fs, PATH, 1);
  const event = new Uint8Array(eventBytes).fill(7);
  for (let i = 0; i < count; i++) {
    const begin = 1 + 3 * i;
    const records: WalRecord<Uint8Array>[] = [
      { kind: "txBegin", lsn: begin },
      { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [event] },
      { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
    ];
    for (const r of records) w.append(r, bytesCodec);
  }
  await w.flush();
  await w.close();
  return fs;
}

/** The file system, and the length of every read of the segment's records (its 32-byte header read left out). */
function countingReads(sim: SimFS): { fs: WalFileSystem; reads: number[] } {
  const reads: number[] = [];
  const fs = wrapFileSystem(sim, (file) => {
    const read: WalFile["read"] = async (buffer, offset, length, position) => {
      if (position > 0) reads.push(length);
      return await file.read(buffer, offset, length, position);
    };
    return new Proxy(file, { get: (target, key) => (key === "read" ? read : boundProperty(target, key)) });
  });
  return { fs, reads };
}

async function readAll(reader: SegmentReader): Promise<number> {
  let records = 0;
  for (let step = await reader.next(bytesCodec); step.kind === "record"; step = await reader.next(bytesCodec)) {
    records++;
  }
  return records;
}

describe("read size", () => {
  it("a reader given no buffer reads 256 KiB first, then doubles up to the read size (1 MiB)", async () => {
    const sim = await segmentOf(3000, 1000);
    const size = sim.readFileSync(PATH).length;
    expect(size).toBeGreaterThan(2.5 * MiB);
    const { fs, reads } = countingReads(sim);
    const reader = await SegmentReader.open(fs, PATH);
    expect(reader.readBuffer.length).toBe(256 * KiB);
    expect(await readAll(reader)).toBe(9000);
    await reader.close();
    // Each fill asks for the read size less the unread bytes it keeps (a record cut by the last read).
    const grown = reads.slice(0, 4).map((n) => Math.ceil(n / KiB / 64) * 64);
    expect(grown).toEqual([256, 512, 1024, 1024]);
    expect(reads.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(size - 32);
  });

  it("a small segment gets a buffer of its own size", async () => {
    const sim = await segmentOf(10, 100);
    const size = sim.readFileSync(PATH).length;
    const reader = await SegmentReader.open(sim, PATH);
    expect(reader.readBuffer.length).toBe(size - 32);
    expect(await readAll(reader)).toBe(30);
    await reader.close();
  });

  it("a reader handed a buffer of the read size reads that much from the first read", async () => {
    const sim = await segmentOf(3000, 1000);
    const { fs, reads } = countingReads(sim);
    const buffer = new Uint8Array(MiB);
    const reader = await SegmentReader.open(fs, PATH, { readBuffer: buffer });
    expect(await readAll(reader)).toBe(9000);
    expect(reader.readBuffer).toBe(buffer);
    await reader.close();
    expect(reads[0]).toBe(MiB);
  });

  it("a smaller read size caps the first read too", async () => {
    const sim = await segmentOf(300, 1000);
    const { fs, reads } = countingReads(sim);
    const reader = await SegmentReader.open(fs, PATH, { chunkBytes: 64 * KiB });
    expect(reader.readBuffer.length).toBe(64 * KiB);
    expect(await readAll(reader)).toBe(900);
    await reader.close();
    expect(Math.max(...reads)).toBeLessThanOrEqual(64 * KiB);
  });
});
