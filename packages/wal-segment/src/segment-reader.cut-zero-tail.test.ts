/**
 * A reader that follows a preallocated segment (it sits at the zero tail and refreshes) across a writer crash: a torn
 * write lands in the zeros, the next writer's recovery cuts it at the end of the last whole record, and that writer
 * appends there with zeros filled ahead again. The reader reads the whole record before the tear, never the torn
 * one, and then the records written after the cut, whether it looked at the file between the cut and the append or
 * not. A real file, written through a real segment writer.
 *
 * And when the cut takes records the reader had read (they never became durable) and the next writer's appends and
 * zero-fill grow the file back past the reader's position before it looks, its refresh says the file was rewritten
 * under it: the file did not shrink as far as the reader can see, and the bytes at its position are zeros. A cut
 * between the reader's measure of the file and its read ends the file where the read found it.
 */

import { truncateSync } from "node:fs";
import { mkdtemp, open, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const fs = createNodeFileSystem();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-cut-tail-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PREALLOCATE = { preallocateBytes: 8192 };

const tx = (begin: number, tag: number): WalRecord<Uint8Array>[] => [
  { kind: "txBegin", lsn: begin },
  { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array(40).fill(tag) },
  { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
];

/** A transaction of exactly `bytes` encoded bytes: its mutation's payload takes what the three records' framing leaves. */
function sizedTx(begin: number, bytes: number): WalRecord<Uint8Array>[] {
  const framing = tx(begin, 0).reduce((n, r) => n + encodeRecord(r, bytesCodec).byteLength, 0) - 40;
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array(bytes - framing).fill(7) },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

/** The steps up to the first that is not a record: each record as `[lsn, first payload byte]`, then how it ended. */
async function drain(reader: SegmentReader): Promise<{ records: [number, number?][]; last: string }> {
  const records: [number, number?][] = [];
  for (;;) {
    const step = await reader.next(bytesCodec);
    if (step.kind !== "record") return { records, last: step.kind === "damaged" ? step.reason : "end" };
    const r = step.record;
    records.push(r.kind === "mutation" ? [r.lsn, r.event[0] as number] : [r.lsn]);
  }
}

describe("SegmentReader at a zero tail across a torn write, the cut, and the appends after it", () => {
  for (const looksBetween of [true, false]) {
    it(`reads what follows the cut, never the torn record (${looksBetween ? "looks" : "does not look"} between the cut and the append)`, async () => {
      const path = join(dir, "0000000001.wal");
      const first = await SegmentWriter.create(fs, path, 1, PREALLOCATE);
      for (const r of tx(1, 1)) first.append(r, bytesCodec);
      await first.flush();
      const reader = await SegmentReader.open(fs, path);
      expect(await drain(reader)).toEqual({ records: [[1], [2, 1], [3]], last: "end" });
      const tailAt = reader.position;
      expect(reader.fileSize).toBeGreaterThan(tailAt); // zeros follow: the reader is at a zero tail

      // The writer dies with transaction 4 half written over the zeros: its begin whole, its mutation torn (the
      // second half never landed), its commit not at all.
      const [begin, mutation] = tx(4, 9).map((r) => encodeRecord(r, bytesCodec)) as [Uint8Array, Uint8Array];
      const torn = new Uint8Array(begin.byteLength + mutation.byteLength);
      torn.set(begin, 0);
      torn.set(mutation.subarray(0, mutation.byteLength >> 1), begin.byteLength);
      await first.discardAndClose();
      const raw = await open(path, "r+");
      await raw.write(torn, 0, torn.byteLength, tailAt);
      await raw.close();
      await reader.refresh();
      expect(await drain(reader)).toEqual({ records: [[4]], last: "corrupt" });
      const goodEnd = reader.position;
      expect(goodEnd).toBe(tailAt + begin.byteLength);

      // Recovery cuts the torn tail at the end of the last whole record; the next writer appends there (LSNs on
      // from the begin it kept, which never commits), filling zeros ahead of its records again.
      await truncate(path, goodEnd);
      if (looksBetween) {
        expect(await reader.refresh()).toMatchObject({ fileSize: goodEnd });
        expect(await drain(reader)).toEqual({ records: [], last: "end" });
      }
      const second = await SegmentWriter.openForAppend(fs, path, goodEnd, PREALLOCATE);
      for (const r of tx(5, 2)) second.append(r, bytesCodec);
      await second.flush();
      await reader.refresh();
      expect(reader.fileSize).toBeGreaterThan(goodEnd + 3 * 25);
      expect(await drain(reader)).toEqual({ records: [[5], [6, 2], [7]], last: "end" });

      // And on: a commit appended into the zeros while the reader sits at them.
      for (const r of tx(8, 3)) second.append(r, bytesCodec);
      await second.flush();
      await reader.refresh();
      expect(await drain(reader)).toEqual({ records: [[8], [9, 3], [10]], last: "end" });
      await reader.close();
      await second.discardAndClose();
    });
  }

  it("refresh says rewritten when records it read were cut and the file grew back past its position", async () => {
    const path = join(dir, "0000000001.wal");
    const first = await SegmentWriter.create(fs, path, 1, PREALLOCATE);
    for (const r of tx(1, 1)) first.append(r, bytesCodec);
    await first.flush();
    const durableEnd = first.size;
    for (const r of tx(4, 9)) first.append(r, bytesCodec);
    await first.flush();
    const reader = await SegmentReader.open(fs, path);
    expect(await drain(reader)).toEqual({ records: [[1], [2, 1], [3], [4], [5, 9], [6]], last: "end" });
    expect(await reader.refresh()).toMatchObject({ rewritten: false });
    expect(await drain(reader)).toEqual({ records: [], last: "end" });
    expect(await reader.refresh()).toMatchObject({ rewritten: false });
    const readTo = reader.position;

    // 4..6 never became durable: cut, and the next writer appends a shorter transaction there, zeros after it.
    await first.discardAndClose();
    await truncate(path, durableEnd);
    const second = await SegmentWriter.openForAppend(fs, path, durableEnd, PREALLOCATE);
    second.append({ kind: "txBegin", lsn: 4 }, bytesCodec);
    second.append({ kind: "txCommit", lsn: 5, txBeginLsn: 4 }, bytesCodec);
    await second.flush();
    const seen = await reader.refresh();
    expect(seen.fileSize).toBeGreaterThan(readTo); // no shrink to see
    expect(seen.rewritten).toBe(true);
    await reader.close();

    // A reader of the rewritten file reads what is there now.
    const again = await SegmentReader.open(fs, path);
    expect(await drain(again)).toEqual({ records: [[1], [2, 1], [3], [4], [5]], last: "end" });
    expect(await again.refresh()).toMatchObject({ rewritten: false });
    await again.close();
    await second.discardAndClose();
  });

  // A read-ahead that ends exactly at the end of what one read took: the next read starts the buffer at the position,
  // and the last record's bytes leave the buffer before the refresh that compares them.
  for (const readAhead of [4000, 4096, 8192]) {
    it(`refresh says rewritten after a cut also when the read-ahead (${readAhead} bytes) ended a read exactly`, async () => {
      const path = join(dir, "0000000001.wal");
      const first = await SegmentWriter.create(fs, path, 1, { preallocateBytes: 32768 });
      for (const r of tx(1, 1)) first.append(r, bytesCodec);
      await first.flush();
      const durableEnd = first.size;
      const reader = await SegmentReader.open(fs, path);
      for (let i = 0; i < 3; i++) {
        await drain(reader); // to the zero tail, and idle there: its reads are now of the tail's size
        await reader.refresh();
      }
      const ahead = sizedTx(4, readAhead);
      expect(ahead.reduce((n, r) => n + encodeRecord(r, bytesCodec).byteLength, 0)).toBe(readAhead);
      for (const r of ahead) first.append(r, bytesCodec);
      await first.flush();
      await reader.refresh();
      expect((await drain(reader)).records.map(([lsn]) => lsn)).toEqual([4, 5, 6]);
      expect(await reader.refresh()).toMatchObject({ rewritten: false });
      expect(await drain(reader)).toEqual({ records: [], last: "end" });

      // 4..6 never became durable: cut, and the next writer appends a shorter transaction there, zeros after it.
      await first.discardAndClose();
      await truncate(path, durableEnd);
      const second = await SegmentWriter.openForAppend(fs, path, durableEnd, { preallocateBytes: 32768 });
      for (const r of tx(4, 2)) second.append(r, bytesCodec);
      await second.flush();
      expect(await reader.refresh()).toMatchObject({ rewritten: true });
      await reader.close();
      await second.discardAndClose();
    });
  }

  it("a cut between the measure of the file and the read: the file ends where the read found it", async () => {
    const path = join(dir, "0000000001.wal");
    const writer = await SegmentWriter.create(fs, path, 1);
    for (const r of tx(1, 1)) writer.append(r, bytesCodec);
    await writer.flush();
    const goodEnd = writer.size;
    await writer.discardAndClose();
    // A torn record after them, measured by the open; recovery cuts it before the reader's first read of records.
    const raw = await open(path, "r+");
    await raw.write(encodeRecord({ kind: "txBegin", lsn: 4 }, bytesCodec).subarray(0, 20), 0, 20, goodEnd);
    await raw.close();
    let reads = 0;
    const seam = wrapFileSystem(
      fs,
      (file) =>
        new Proxy(file, {
          get(target, key) {
            if (key === "readSync") return undefined;
            if (key !== "read") return boundProperty(target, key);
            return (buffer: Uint8Array, offset: number, length: number, position: number) => {
              // Bounded: a reader that takes a read of nothing for a short one and asks again fails here, not hangs.
              if (++reads > 100) throw new Error(`more than 100 reads of ${path}`);
              if (position >= 32 && reads === 2) truncateSync(path, goodEnd);
              return target.read(buffer, offset, length, position);
            };
          },
        }),
    );
    const reader = await SegmentReader.open(seam, path, { chunkBytes: 64 });
    expect(reader.fileSize).toBe(goodEnd + 20);
    expect(await drain(reader)).toEqual({ records: [[1], [2, 1], [3]], last: "end" });
    expect(reader.fileSize).toBe(goodEnd);
    await reader.close();
  });
});
