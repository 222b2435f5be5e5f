import { fc, test } from "@fast-check/vitest";
import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { type ReadStepView, readStepView } from "./test-support/read-step-view.js";
import { SimFS } from "./testing/sim-fs.js";

const event = (n: number, length: number) => Uint8Array.from({ length }, (_, i) => (n * 13 + i) & 0xff);

/** TxBegin, a one-event MutationBatch, TxCommit: the layout `commitTx` writes. */
function commitTx(begin: number, length: number): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [event(begin, length)] },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

async function writeSegment(fs: SimFS, path: string, records: readonly WalRecord<Uint8Array>[]): Promise<void> {
  await fs.mkdirp("/w");
  const w = await SegmentWriter.create(fs, path, records[0]?.lsn ?? 1);
  for (const r of records) w.append(r, bytesCodec);
  await w.flush();
  await w.close();
}

/** Replace a file's bytes (SimFS has no append-at-will; reopen and rewrite). */
async function rewrite(fs: SimFS, path: string, bytes: Uint8Array): Promise<void> {
  await fs.unlink(path);
  const f = await fs.open(path, "createExclusive");
  await f.write(bytes, 0);
  await f.close();
}

async function readBytes(fs: SimFS, path: string): Promise<Uint8Array> {
  const f = await fs.open(path, "read");
  const bytes = new Uint8Array(await f.size());
  await f.read(bytes, 0, bytes.byteLength, 0);
  await f.close();
  return bytes;
}

/** Every step through `next()` only: the reference. */
async function slowWalk(reader: SegmentReader): Promise<ReadStepView[]> {
  const seen: ReadStepView[] = [];
  for (;;) {
    const step = await reader.next(bytesCodec);
    seen.push(readStepView(step));
    if (step.kind !== "record") return seen;
  }
}

/** The replay loop: `nextBufferedRecord` while it gives records, `next()` for everything else. */
async function fastWalk(reader: SegmentReader): Promise<{ seen: ReadStepView[]; fast: number }> {
  const seen: ReadStepView[] = [];
  let fast = 0;
  for (;;) {
    const offset = reader.position;
    const record = reader.nextBufferedRecord(bytesCodec);
    if (record !== undefined) {
      fast++;
      seen.push({ kind: "record", offset, record });
      continue;
    }
    expect(reader.position).toBe(offset);
    const step = await reader.next(bytesCodec);
    seen.push(readStepView(step));
    if (step.kind !== "record") return { seen, fast };
  }
}

describe("SegmentReader.nextBufferedRecord", () => {
  it("a record straddling the end of the read buffer at every offset is read whole, through next()", async () => {
    const fs = new SimFS();
    const records = [...commitTx(1, 100), ...commitTx(4, 100)];
    await writeSegment(fs, "/w/1.wal", records);
    const batchLength = encodeRecord(records[1] as WalRecord<Uint8Array>, bytesCodec).byteLength;
    const batchStart = SEGMENT_HEADER_BYTES + 25;
    // The first read fills `chunkBytes` bytes after the header, so the buffer ends `chunk - 25` bytes into the batch.
    for (let cut = 1; cut < batchLength; cut++) {
      const reader = await SegmentReader.open(fs, "/w/1.wal", { chunkBytes: 25 + cut });
      expect(reader.nextBufferedRecord(bytesCodec)).toBeUndefined(); // nothing read yet
      expect((await reader.next(bytesCodec)).kind).toBe("record"); // the fill: [header, header + chunk)
      expect(reader.position).toBe(batchStart);
      expect(reader.nextBufferedRecord(bytesCodec)).toBeUndefined(); // the batch is cut at `cut`
      expect(reader.position).toBe(batchStart);
      const step = await reader.next(bytesCodec);
      expect(step).toEqual({ kind: "record", record: records[1], offset: batchStart, byteLength: batchLength });
      const rest = await fastWalk(reader);
      expect(rest.seen.map((s) => s.record ?? s.kind)).toEqual([...records.slice(2), "end"]);
      await reader.close();
    }
  });

  test.prop(
    [
      fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 25, max: 700 }),
      fc.option(fc.nat(), { nil: undefined }),
      fc.option(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { nil: undefined }),
    ],
    { numRuns: 150 },
  )(
    "gives the same steps as next() alone for any chunk size, torn tail or flipped byte",
    async (sizes, chunkBytes, cut, flip) => {
      const fs = new SimFS();
      const records = sizes.flatMap((size, i) => commitTx(1 + 3 * i, size));
      await writeSegment(fs, "/w/1.wal", records);
      let bytes = await readBytes(fs, "/w/1.wal");
      const body = bytes.byteLength - SEGMENT_HEADER_BYTES;
      if (flip !== undefined) {
        const at = SEGMENT_HEADER_BYTES + (flip.at % body);
        bytes[at] = (bytes[at] as number) ^ flip.xor;
      }
      if (cut !== undefined) bytes = bytes.subarray(0, SEGMENT_HEADER_BYTES + (cut % (body + 1)));
      await rewrite(fs, "/w/1.wal", bytes);

      const slow = await SegmentReader.open(fs, "/w/1.wal", { chunkBytes });
      const expected = await slowWalk(slow);
      const slowEnd = slow.position;
      await slow.close();
      const reader = await SegmentReader.open(fs, "/w/1.wal", { chunkBytes });
      const { seen, fast } = await fastWalk(reader);
      expect(seen).toEqual(expected);
      expect(reader.position).toBe(slowEnd);
      await reader.close();
      // Undamaged records that fit the buffer come out of the fast path: most of them, whatever the chunk size.
      if (flip === undefined && cut === undefined && chunkBytes >= 400) {
        expect(fast).toBeGreaterThan(records.length / 2);
      }
    },
  );

  it("one read buffer serves several segments in turn, and earlier events survive its reuse", async () => {
    const fs = new SimFS();
    await writeSegment(fs, "/w/1.wal", [...commitTx(1, 100), ...commitTx(4, 2000)]);
    await writeSegment(fs, "/w/2.wal", [...commitTx(7, 100), ...commitTx(10, 50)]);
    const buffer = new Uint8Array(512);
    const kept: unknown[] = [];
    let readBuffer: Uint8Array = buffer;
    for (const path of ["/w/1.wal", "/w/2.wal"]) {
      const reader = await SegmentReader.open(fs, path, { chunkBytes: 512, readBuffer });
      const { seen } = await fastWalk(reader);
      for (const s of seen) if (s.record !== undefined) kept.push(s.record);
      await reader.close();
      readBuffer = reader.readBuffer;
    }
    // The 2000-byte event outgrew the 512-byte buffer in the first segment; the grown one went on to the second.
    expect(readBuffer).not.toBe(buffer);
    expect(readBuffer.byteLength).toBeGreaterThan(2000);
    expect(kept).toEqual([...commitTx(1, 100), ...commitTx(4, 2000), ...commitTx(7, 100), ...commitTx(10, 50)]);

    const small = new Uint8Array(4096);
    const reader = await SegmentReader.open(fs, "/w/2.wal", { readBuffer: small });
    expect(reader.nextBufferedRecord(bytesCodec)).toBeUndefined();
    expect((await reader.next(bytesCodec)).kind).toBe("record");
    expect(reader.readBuffer).toBe(small);
    await reader.close();
  });
});
