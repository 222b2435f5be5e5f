/**
 * A spare segment is made ahead of rotation under a name no listing takes for a segment, stamped with its header,
 * then renamed: at no step can a crash leave a segment name on a file without a durable header, and the writer it
 * becomes appends into the zeros it was made with instead of filling again.
 */

import { ByteWriter, bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { WalFileSystem } from "./fs/file-system.js";
import { decodeSegmentHeader, SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { listSegments, segmentPath } from "./segment-name.js";
import { SegmentReader } from "./segment-reader.js";
import { isSpareSegmentName, removeSpareSegments, SPARE_SEGMENT_PREFIX, SpareSegment } from "./spare-segment.js";
import { SimFS } from "./testing/sim-fs.js";
import { MAX_PREALLOCATE_BYTES } from "./zero-tail.js";

const DIR = "/w";
/** Any spare's path (for fault specs). */
const ANY_SPARE = /\/\.lora-wal\.next-segment\./;
const NEXT = segmentPath(DIR, 2);

function exists(fs: SimFS, path: string): boolean {
  return fs.listSync(DIR).includes(path.slice(DIR.length + 1));
}

function spares(fs: SimFS): string[] {
  return fs.listSync(DIR).filter(isSpareSegmentName);
}

const newFs = (): SimFS => SimFS.withDir(DIR);

function transaction(begin: number): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array(100).fill(begin & 0xff) },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

/** The LSNs of every record of the segment at `path`. */
async function lsnsOf(fs: WalFileSystem, path: string): Promise<number[]> {
  const reader = await SegmentReader.open(fs, path);
  const lsns: number[] = [];
  try {
    for (;;) {
      const step = await reader.next(bytesCodec);
      if (step.kind !== "record") return lsns;
      lsns.push(step.record.lsn);
    }
  } finally {
    await reader.close();
  }
}

/** Every segment a listing of `fs` finds has a header that decodes (the invariant a crash must keep). */
async function everySegmentHasAHeader(fs: SimFS): Promise<number[]> {
  const bases: number[] = [];
  for (const entry of await listSegments(fs, DIR)) {
    const bytes = fs.readFileSync(entry.path);
    bases.push(decodeSegmentHeader(bytes.subarray(0, SEGMENT_HEADER_BYTES), entry.path).baseLsn);
  }
  return bases;
}

describe("SpareSegment", () => {
  it("is zero-filled past its header in whole pages and made durable, and no listing takes it for a segment", async () => {
    const fs = newFs();
    const spare = await SpareSegment.prepare(fs, DIR, 10_000);
    expect(spare.path.startsWith(`${DIR}/${SPARE_SEGMENT_PREFIX}`)).toBe(true);
    expect(await listSegments(fs, DIR)).toEqual([]);
    const bytes = fs.readFileSync(spare.path);
    expect(bytes.byteLength).toBe(12_288);
    expect(bytes.every((b) => b === 0)).toBe(true);
    // The zeros were fdatasynced as it was made: rotation's own fdatasync of the header has nothing else to write.
    expect(fs.stats.datasyncs).toBe(1);
    await spare.discard(true);
    expect(spares(fs)).toEqual([]);
  });

  it("without zero fill it is an empty file and nothing is synced", async () => {
    const fs = newFs();
    const spare = await SpareSegment.prepare(fs, DIR, 0);
    expect(fs.readFileSync(spare.path).byteLength).toBe(0);
    expect(fs.stats.datasyncs + fs.stats.syncs).toBe(0);
    await spare.discard(true);
  });

  it("each spare gets a new name, and removeSpareSegments removes every spare and nothing else", async () => {
    const fs = newFs();
    fs.writeFileSync(`${DIR}/${SPARE_SEGMENT_PREFIX}left-by-a-crash`, new Uint8Array(50_000).fill(0xab));
    fs.writeFileSync(`${DIR}/.lora-wal.next-segment`, new Uint8Array(10));
    fs.writeFileSync(segmentPath(DIR, 1), new Uint8Array(32));
    const a = await SpareSegment.prepare(fs, DIR, 4096);
    const b = await SpareSegment.prepare(fs, DIR, 4096);
    expect(a.path).not.toBe(b.path);
    expect(spares(fs)).toHaveLength(4);
    await a.discard(false);
    await b.discard(false);
    await removeSpareSegments(fs, DIR);
    expect(fs.listSync(DIR)).toEqual(["0000000001.wal"]);
  });

  it("removeSpareSegments tries every spare when one cannot be removed, and throws that failure after", async () => {
    const fs = newFs();
    for (const nonce of ["a", "b", "c"]) fs.writeFileSync(`${DIR}/${SPARE_SEGMENT_PREFIX}${nonce}`, new Uint8Array(10));
    // The first spare in listing order fails, so every other one is reached only if removal goes on past it.
    const first = (await fs.readdir(DIR)).find(isSpareSegmentName) as string;
    fs.injectFault({ op: "unlink", errno: "EIO", path: `${DIR}/${first}`, persistent: true });
    await expect(removeSpareSegments(fs, DIR)).rejects.toMatchObject({ code: "WAL_IO", details: { errno: "EIO" } });
    expect(spares(fs)).toEqual([first]);
  });

  it("becomes the next segment: stamped, renamed, and written into without filling again", async () => {
    const fs = newFs();
    const spare = await SpareSegment.prepare(fs, DIR, 64 * 1024);
    await spare.stamp(42);
    const writer = await spare.becomeSegment(NEXT, { preallocateBytes: 64 * 1024 });
    await fs.syncDir(DIR);
    expect(spares(fs)).toEqual([]);
    expect(writer.path).toBe(NEXT);
    expect(writer.baseLsn).toBe(42);
    const written = fs.stats.bytesWritten;
    for (const r of transaction(42)) writer.append(r, bytesCodec);
    await writer.flush();
    // Only the records: the zeros the spare was made with are ahead of them already.
    expect(fs.stats.bytesWritten - written).toBe(writer.writtenBytes - SEGMENT_HEADER_BYTES);
    expect(await lsnsOf(fs.durableImage(), NEXT)).toEqual([42, 43, 44]);
    await writer.close();
    expect(fs.readFileSync(NEXT).byteLength).toBe(writer.writtenBytes);
  });

  it("leaves, at every step, only crash images whose segment names all point at durable headers", async () => {
    const fs = newFs();
    const imagesAt: string[] = [];
    const check = async (step: string) => {
      for (const image of fs.crashImages({ maxImages: 64, seed: 3 })) {
        const bases = await everySegmentHasAHeader(image.fs);
        // Either the spare is still only a spare, or it is segment 2 based at 7; nothing else.
        expect(bases.length === 0 || (bases.length === 1 && bases[0] === 7), `${step}: ${image.description}`).toBe(
          true,
        );
        imagesAt.push(step);
      }
    };
    const spare = await SpareSegment.prepare(fs, DIR, 8192);
    await check("prepared");
    await spare.stamp(7);
    await check("stamped");
    const writer = await spare.becomeSegment(NEXT);
    await check("renamed");
    await fs.syncDir(DIR);
    await check("name durable");
    expect(await everySegmentHasAHeader(fs.durableImage())).toEqual([7]);
    for (const r of transaction(7)) writer.append(r, bytesCodec);
    await writer.write();
    await check("records written, not synced");
    await writer.close();
    expect(new Set(imagesAt).size).toBe(5);
  });

  it("refuses to become a segment before it is stamped, and to be used twice", async () => {
    const fs = newFs();
    const spare = await SpareSegment.prepare(fs, DIR, 0);
    await expect(spare.becomeSegment(NEXT)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    expect(exists(fs, NEXT)).toBe(false);
    await spare.stamp(1);
    const writer = await spare.becomeSegment(NEXT);
    await expect(spare.stamp(1)).rejects.toMatchObject({ code: "WAL_CLOSED" });
    await expect(spare.becomeSegment(segmentPath(DIR, 3))).rejects.toMatchObject({ code: "WAL_CLOSED" });
    await spare.discard(true);
    expect(exists(fs, NEXT)).toBe(true);
    await writer.close();
  });

  it("is not stamped by a stamp that failed: it refuses to become a segment, whose header would not be durable", async () => {
    for (const op of ["write", "datasync"] as const) {
      const fs = newFs();
      const spare = await SpareSegment.prepare(fs, DIR, 0);
      const fault = fs.injectFault({ op, path: ANY_SPARE, errno: "EIO" });
      await expect(spare.stamp(1)).rejects.toMatchObject({ code: "WAL_IO" });
      expect(fault.hits).toBe(1);
      await expect(spare.becomeSegment(NEXT)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
      expect(exists(fs, NEXT)).toBe(false);
      await spare.discard(true);
      expect(spares(fs)).toEqual([]);
    }
  });

  it("leaves no spare behind when making it fails", async () => {
    const fs = newFs();
    fs.injectFault({ op: "write", path: ANY_SPARE, errno: "ENOSPC", partialBytes: 100 });
    await expect(SpareSegment.prepare(fs, DIR, 1 << 20)).rejects.toMatchObject({ code: "WAL_IO" });
    expect(spares(fs)).toEqual([]);
    fs.injectFault({ op: "datasync", path: ANY_SPARE, errno: "EIO" });
    await expect(SpareSegment.prepare(fs, DIR, 1 << 20)).rejects.toMatchObject({ code: "WAL_IO" });
    expect(spares(fs)).toEqual([]);
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });

  it("never renames over an existing segment", async () => {
    const fs = newFs();
    fs.writeFileSync(NEXT, new Uint8Array(100).fill(9));
    const spare = await SpareSegment.prepare(fs, DIR, 0);
    await spare.stamp(5);
    await expect(spare.becomeSegment(NEXT)).rejects.toMatchObject({ code: "WAL_MALFORMED" });
    expect(fs.readFileSync(NEXT)).toEqual(new Uint8Array(100).fill(9));
    expect(spares(fs)).toEqual([]);
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });

  it("refuses bad writer options before renaming, and stays usable", async () => {
    const fs = newFs();
    const spare = await SpareSegment.prepare(fs, DIR, 0);
    await spare.stamp(5);
    for (const options of [
      { maxUnsyncedBytes: 1 },
      { preallocateBytes: -1 },
      { bufferBytes: 0.5 },
      { syncDirectry: false },
      { buffers: [] },
      { buffers: "two" },
      { buffers: [new ByteWriter(8), {}] },
    ]) {
      await expect(spare.becomeSegment(NEXT, options as object)).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
      expect(exists(fs, NEXT)).toBe(false);
      expect(spares(fs)).toEqual([spare.path.slice(DIR.length + 1)]);
    }
    const writer = await spare.becomeSegment(NEXT);
    expect(writer.baseLsn).toBe(5);
    await writer.close();
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });

  it("a discard that keeps the name closes the file and removes nothing", async () => {
    const fs = newFs();
    const spare = await SpareSegment.prepare(fs, DIR, 0);
    await spare.discard(false);
    expect(exists(fs, spare.path)).toBe(true);
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });

  it("refuses a negative zero fill before touching the directory", async () => {
    const fs = newFs();
    await expect(SpareSegment.prepare(fs, DIR, -1)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    expect(spares(fs)).toEqual([]);
  });

  it("refuses a zero fill above the most one write can make, before touching the directory", async () => {
    const fs = newFs();
    for (const zeroFill of [MAX_PREALLOCATE_BYTES + 1, 2 ** 31, 2 ** 32]) {
      await expect(SpareSegment.prepare(fs, DIR, zeroFill)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    }
    expect(spares(fs)).toEqual([]);
  });
});
