/**
 * Records larger than the read buffer, and the scan for an intact marker after damage. A torn record may claim
 * many MiB; the reader checks its CRC by streaming it through its own buffer (at least 64 KiB of it) before growing
 * the buffer to hold it, and the marker scan reads through that same buffer. What is pinned here: the steps are
 * exactly those of a reader whose buffer holds everything (so streaming changes no verdict), a torn large record
 * never grows the buffer past 64 KiB or the read size, and the scan finds the first intact marker wherever it lies,
 * across window ends included.
 */

import { fc, test } from "@fast-check/vitest";
import { bytesCodec, crc32, decodeRecord, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { WalFile } from "./fs/file-system.js";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { type ReadStepView, readStepView } from "./test-support/read-step-view.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";
const CHUNK = 4096;

const event = (n: number, length: number) => Uint8Array.from({ length }, (_, i) => (n * 31 + i * 7) & 0xff);

/** A segment holding `records`, then `tail` appended as raw bytes. */
async function segment(
  records: readonly WalRecord<Uint8Array>[],
  tail: Uint8Array = new Uint8Array(0),
): Promise<SimFS> {
  const fs = SimFS.withDir("/w");
  const w = await SegmentWriter.create(fs, PATH, 1);
  for (const r of records) w.append(r, bytesCodec);
  await w.flush();
  await w.close();
  const body = fs.readFileSync(PATH);
  const bytes = new Uint8Array(body.byteLength + tail.byteLength);
  bytes.set(body);
  bytes.set(tail, body.byteLength);
  fs.writeFileSync(PATH, bytes, { durable: true });
  return fs;
}

/** Every step up to the first that is not a record, and the reader's buffer size at the end. */
async function walk(fs: SimFS, chunkBytes: number): Promise<{ steps: ReadStepView[]; bufferBytes: number }> {
  const reader = await SegmentReader.open(fs, PATH, { chunkBytes });
  const steps: ReadStepView[] = [];
  for (;;) {
    const step = await reader.next(bytesCodec);
    steps.push(readStepView(step));
    if (step.kind !== "record") break;
  }
  const bufferBytes = reader.readBuffer.byteLength;
  await reader.close();
  return { steps, bufferBytes };
}

/** A mutation batch of one `bytes`-byte event at LSN 2 of transaction 1, encoded. */
function bigRecord(bytes: number): Uint8Array {
  return encodeRecord({ kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: [event(2, bytes)] }, bytesCodec);
}

describe("a record larger than the read buffer", () => {
  it("with a wrong CRC: the error decoding would give, and the buffer does not grow to hold it", async () => {
    const record = bigRecord(64 * CHUNK);
    record[record.byteLength - 100] = (record[record.byteLength - 100] as number) ^ 0x01; // a flipped bit near the end: only the CRC can tell
    const fs = await segment([{ kind: "txBegin", lsn: 1 }], record);
    const { steps, bufferBytes } = await walk(fs, CHUNK);
    const offset = SEGMENT_HEADER_BYTES + 25;
    const decoded = decodeRecord(record, 0, bytesCodec);
    if (decoded.kind !== "corrupt") throw new Error("the damaged record decoded");
    expect(steps.at(-1)).toEqual({
      kind: "damaged",
      offset,
      reason: "corrupt",
      code: "WAL_CRC_MISMATCH",
      message: decoded.error.message,
      frameValid: false,
      details: { ...decoded.error.details, offset, path: PATH, segment: PATH },
    });
    // Streamed through a scratch of 64 KiB (the least a scan reads at a time), a quarter of the record.
    expect(bufferBytes).toBe(64 * 1024);
  });

  it("intact: decoded whole (the buffer grows to hold it)", async () => {
    const record: WalRecord<Uint8Array> = { kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: [event(2, 9000)] };
    const fs = await segment([{ kind: "txBegin", lsn: 1 }, record, { kind: "txCommit", lsn: 3, txBeginLsn: 1 }]);
    const { steps, bufferBytes } = await walk(fs, CHUNK);
    expect(steps.map((s) => s.kind)).toEqual(["record", "record", "record", "end"]);
    expect(steps[1]?.record).toEqual(record);
    expect(bufferBytes).toBeGreaterThan(9000);
  });

  it("whose header changed before it was streamed (a file rewritten under a reader): read as the file is now", async () => {
    const torn = bigRecord(64 * CHUNK);
    torn[torn.byteLength - 100] = (torn[torn.byteLength - 100] as number) ^ 0x01;
    const sim = await segment([{ kind: "txBegin", lsn: 1 }], torn);
    const at = SEGMENT_HEADER_BYTES + 25;
    // Now: a smaller intact record where the torn one started, then a commit, then zeros as far as the torn record
    // reached, so the old length still fits in the file (streaming it would find a CRC mismatch, not a short file).
    const replacement: WalRecord<Uint8Array> = {
      kind: "mutationBatch",
      lsn: 2,
      txBeginLsn: 1,
      events: [event(5, 2 * CHUNK)],
    };
    const now = new Uint8Array(at + torn.byteLength);
    now.set(sim.readFileSync(PATH).subarray(0, at));
    const body = [
      encodeRecord(replacement, bytesCodec),
      encodeRecord({ kind: "txCommit", lsn: 3, txBeginLsn: 1 }, bytesCodec),
    ];
    now.set(body[0] as Uint8Array, at);
    now.set(body[1] as Uint8Array, at + (body[0] as Uint8Array).byteLength);
    let rewritten = false;
    // The first read at the record's offset is the streaming's (the first fill read from the segment header's end).
    const fs = wrapFileSystem(sim, (file) => {
      const read: WalFile["read"] = async (buffer, offset, length, position) => {
        if (position === at && !rewritten) {
          rewritten = true;
          sim.writeFileSync(PATH, now);
        }
        return await file.read(buffer, offset, length, position);
      };
      return new Proxy(file, { get: (target, key) => (key === "read" ? read : boundProperty(target, key)) });
    });
    const reader = await SegmentReader.open(fs, PATH, { chunkBytes: CHUNK });
    const steps: ReadStepView[] = [];
    for (let step = await reader.next(bytesCodec); ; step = await reader.next(bytesCodec)) {
      steps.push(readStepView(step));
      if (step.kind !== "record") break;
    }
    await reader.close();
    expect(rewritten).toBe(true);
    expect(steps.map((s) => s.kind)).toEqual(["record", "record", "record", "end"]);
    expect(steps[1]?.record).toEqual(replacement);
  });

  it("with an unknown kind byte: reported as an unknown kind, as decoding checks the kind before the CRC", async () => {
    const record = bigRecord(3 * CHUNK);
    record[4] = 0x7f;
    const fs = await segment([{ kind: "txBegin", lsn: 1 }], record);
    const { steps } = await walk(fs, CHUNK);
    expect(steps.at(-1)).toMatchObject({ kind: "damaged", code: "WAL_UNKNOWN_KIND" });
  });

  test.prop(
    [
      fc.array(fc.integer({ min: 0, max: 6 * CHUNK }), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.boolean(),
      fc.constantFrom(1, 3, 25, CHUNK),
    ],
    { numRuns: 60 },
  )(
    "reads exactly as a reader whose buffer holds the whole file, whatever byte is damaged or cut, whatever the read size",
    async (sizes, where, xor, cut, chunkBytes) => {
      const records: WalRecord<Uint8Array>[] = [{ kind: "txBegin", lsn: 1 }];
      sizes.forEach((size, i) => {
        records.push({ kind: "mutation", lsn: i + 2, txBeginLsn: 1, event: event(i, size) });
      });
      const fs = await segment(records);
      const bytes = fs.readFileSync(PATH);
      const at = SEGMENT_HEADER_BYTES + (where % (bytes.byteLength - SEGMENT_HEADER_BYTES));
      const damaged = cut ? bytes.slice(0, at) : bytes.slice();
      if (!cut) damaged[at] = (damaged[at] as number) ^ (xor === 0 ? 0x80 : xor);
      fs.writeFileSync(PATH, damaged, { durable: true });
      const small = await walk(fs, chunkBytes);
      const whole = await walk(fs, 1 << 20);
      expect(small.steps).toEqual(whole.steps);
    },
  );
});

/** `bytes` with an intact TxCommit marker (LSN `lsn`) written at `at`. */
function withMarker(bytes: Uint8Array, at: number, lsn: number): Uint8Array {
  const marker = encodeRecord({ kind: "txCommit", lsn, txBeginLsn: 1 }, bytesCodec);
  bytes.set(marker, at);
  return bytes;
}

/** The first offset at or after `from` where an intact marker with an LSN above `minLsn` starts, byte by byte. */
function firstMarkerByBruteForce(file: Uint8Array, from: number, minLsn: number): number | undefined {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  for (let i = from; i + 25 <= file.byteLength; i++) {
    if (view.getUint32(i, true) !== 25) continue;
    const kind = file[i + 4] as number;
    if (kind < 2 || kind > 5) continue;
    const lsn = view.getUint32(i + 9, true) * 2 ** 32 + view.getUint32(i + 5, true);
    if (lsn <= minLsn) continue;
    if (crc32(file.subarray(i, i + 21)) === view.getUint32(i + 21, true)) return i;
  }
  return undefined;
}

/** Bytes rich in near-markers: a quarter 25s, a quarter zeros, some marker kinds, the rest anything. */
function noisyByte(i: number): number {
  const r = Math.imul(i, 0x9e3779b1) >>> 0;
  const pick = r >>> 29;
  return pick < 2 ? 25 : pick < 4 ? 0 : pick === 4 ? 3 : r & 0xff;
}

describe("findIntactMarkerAfter", () => {
  const SCAN_WINDOW = 64 * 1024; // the least the scan reads at a time, however small the chunk

  for (const k of [-24, -13, -1, 0, 1]) {
    it(`finds a marker that starts ${k} bytes from where a 64 KiB window ends`, async () => {
      const tail = new Uint8Array(3 * SCAN_WINDOW).fill(0x19); // 25s: every byte starts a marker-shaped length
      const from = SEGMENT_HEADER_BYTES + 25;
      // Windows overlap by 24 bytes: the second starts at from + 64 KiB - 24.
      const at = SCAN_WINDOW - 24 + k;
      const fs = await segment([{ kind: "txBegin", lsn: 1 }], withMarker(tail, at, 2));
      const reader = await SegmentReader.open(fs, PATH, { chunkBytes: CHUNK });
      const found = await reader.findIntactMarkerAfter(from, 1);
      await reader.close();
      expect(found).toEqual({ offset: from + at, lsn: 2 });
    });
  }

  it("scans through the reader's own buffer when it is large enough, and reads from the file after", async () => {
    const tail = withMarker(
      Uint8Array.from({ length: 4 << 20 }, (_, i) => noisyByte(i)),
      (4 << 20) - 200,
      3,
    );
    const fs = await segment(
      [
        { kind: "txBegin", lsn: 1 },
        { kind: "txCommit", lsn: 2, txBeginLsn: 1 },
      ],
      tail,
    );
    const reader = await SegmentReader.open(fs, PATH);
    const buffer = reader.readBuffer;
    expect((await reader.next(bytesCodec)).kind).toBe("record");
    const from = SEGMENT_HEADER_BYTES + 50;
    expect(await reader.findIntactMarkerAfter(from, 2)).toEqual({ offset: from + (4 << 20) - 200, lsn: 3 });
    expect(reader.readBuffer).toBe(buffer);
    // The first read's size (the read size, 1 MiB, is reached by doubling): fresh memory is paid for as it is used.
    expect(buffer.length).toBe(256 * 1024);
    // The buffer holds the last window the scan read: windows of its size overlapping by 24 bytes, the 17th has the
    // marker.
    const file = fs.readFileSync(PATH);
    const window = buffer.length - 24;
    expect(Math.floor(((4 << 20) - 200) / window)).toBe(16);
    const lastWindow = from + 16 * window;
    const read = Math.min(4096, file.length - lastWindow);
    expect(read).toBeGreaterThan(200);
    expect(buffer.subarray(0, read)).toEqual(file.subarray(lastWindow, lastWindow + read));
    // The scan overwrote the buffer; the next record is still read right.
    const step = await reader.next(bytesCodec);
    expect(step).toMatchObject({ kind: "record", record: { kind: "txCommit", lsn: 2 } });
    await reader.close();
  });

  it("with a read size under 64 KiB, scans 64 KiB at a time in a buffer of that size", async () => {
    const tail = withMarker(
      Uint8Array.from({ length: 200_000 }, (_, i) => noisyByte(i)),
      150_000,
      2,
    );
    const fs = await segment([{ kind: "txBegin", lsn: 1 }], tail);
    const reader = await SegmentReader.open(fs, PATH, { chunkBytes: CHUNK });
    const from = SEGMENT_HEADER_BYTES + 25;
    expect(await reader.findIntactMarkerAfter(from, 1)).toEqual({ offset: from + 150_000, lsn: 2 });
    expect(reader.readBuffer.byteLength).toBe(64 * 1024);
    await reader.close();
  });

  it("reads no more than the read size at a time into a buffer a large record grew", async () => {
    const big: WalRecord<Uint8Array> = { kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: [event(2, 300_000)] };
    const tail = Uint8Array.from({ length: 200_000 }, (_, i) => noisyByte(i));
    const fs = await segment([{ kind: "txBegin", lsn: 1 }, big], tail);
    const reader = await SegmentReader.open(fs, PATH, { chunkBytes: 100_000 });
    expect((await reader.next(bytesCodec)).kind).toBe("record");
    expect((await reader.next(bytesCodec)).kind).toBe("record");
    const buffer = reader.readBuffer;
    expect(buffer.byteLength).toBeGreaterThan(300_000);
    const beyond = buffer.slice(100_000);
    const from = reader.position;
    expect(await reader.findIntactMarkerAfter(from, 2)).toBeUndefined();
    // The scan read 100,000 bytes at a time: what the buffer held past that is as the record's read left it.
    expect(reader.readBuffer).toBe(buffer);
    expect(Buffer.from(buffer.subarray(100_000)).equals(Buffer.from(beyond))).toBe(true);
    await reader.close();
  });

  // The scan steps over bytes it has proved cannot start a marker: the three zeros of a marker-shaped length, the
  // bytes before the next 25. A marker starting right after what it stepped over is still found.
  const overlapping: Record<string, number[]> = {
    "in the kind byte of a marker-shaped length": [25, 0, 0, 0],
    "after a chain of marker-shaped lengths": [25, 0, 0, 0, 25, 0, 0, 0, 25, 0, 0, 0],
    "inside a rejected frame's LSN field": [25, 0, 0, 0, 3],
    "inside a frame with a kind out of range": [25, 0, 0, 0, 7, 25, 0, 0, 0, 1],
    "8 bytes after a lone 25": [25, 1, 1, 1, 1, 1, 1, 1],
    "9 bytes after a lone 25": [25, 1, 1, 1, 1, 1, 1, 1, 1],
  };
  for (const [where, prefix] of Object.entries(overlapping)) {
    it(`finds a marker that starts ${where}`, async () => {
      const tail = new Uint8Array(4096).fill(0xaa);
      const at = 1000 + prefix.length;
      tail.set(prefix, 1000);
      withMarker(tail, at, 2);
      const fs = await segment([{ kind: "txBegin", lsn: 1 }], tail);
      const from = SEGMENT_HEADER_BYTES + 25;
      expect(firstMarkerByBruteForce(fs.readFileSync(PATH), from, 1)).toBe(from + at);
      const reader = await SegmentReader.open(fs, PATH);
      const found = await reader.findIntactMarkerAfter(from, 1);
      await reader.close();
      expect(found).toEqual({ offset: from + at, lsn: 2 });
    });
  }

  it("never takes a marker from the buffer past the bytes a short last window read", async () => {
    // Window 1 (64 KiB) holds an intact marker 30,000 bytes in whose LSN is too high to follow the damage that
    // closely (the bound there is 3 + 30,000 / 25 = 1,203). The last window reads 1,024 bytes into the same buffer:
    // at the same index, 65,512 bytes further on, that LSN would pass (bound 3,823), but those bytes are window 1's.
    const tail = new Uint8Array(SCAN_WINDOW + 1000).fill(0xaa);
    withMarker(tail, 30_000, 2003);
    const fs = await segment([{ kind: "txBegin", lsn: 1 }], tail);
    const from = SEGMENT_HEADER_BYTES + 25;
    const reader = await SegmentReader.open(fs, PATH, { chunkBytes: CHUNK });
    const found = await reader.findIntactMarkerAfter(from, 1);
    expect(reader.readBuffer.byteLength).toBe(SCAN_WINDOW);
    await reader.close();
    expect(found).toBeUndefined();
  });

  test.prop(
    [
      fc.integer({ min: 1, max: 200_000 }),
      fc.array(fc.record({ at: fc.nat(), lsn: fc.integer({ min: 2, max: 3 }), broken: fc.boolean() }), {
        maxLength: 4,
      }),
      fc.constantFrom(CHUNK, 100_000, 1 << 20),
      fc.nat(),
    ],
    { numRuns: 40 },
  )("finds the first intact marker a byte-by-byte search finds", async (size, markers, chunkBytes, seed) => {
    const tail = Uint8Array.from({ length: size }, (_, i) => noisyByte(i + seed));
    for (const m of markers) {
      if (size < 25) break;
      const at = m.at % (size - 24);
      withMarker(tail, at, m.lsn);
      if (m.broken) tail[at + 22] = (tail[at + 22] as number) ^ 0xff;
    }
    const fs = await segment([{ kind: "txBegin", lsn: 1 }], tail);
    const file = fs.readFileSync(PATH);
    const from = SEGMENT_HEADER_BYTES + 25;
    const reader = await SegmentReader.open(fs, PATH, { chunkBytes });
    const found = await reader.findIntactMarkerAfter(from, 1);
    await reader.close();
    const expected = firstMarkerByBruteForce(file, from, 1);
    // (The scan also passes over a marker whose LSN is too high to follow the damage that closely; LSNs 2 and 3
    // are never too high, so the brute-force search needs no such rule.)
    expect(found?.offset).toBe(expected);
  });
});
