/**
 * The durable mark's binding (bytes 40..76): a reader of version 2 still reads the first 40 bytes as before, a
 * binding that is not whole is absent (never a wrong one), and `settleDurableBinding` leaves no binding but the one
 * recovery carries over.
 */

import { encodeRecord, jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import {
  DURABLE_MARK_BOUND_BYTES,
  DURABLE_MARK_FILE,
  type DurableBinding,
  DurableMarkWriter,
  decodeDurableMark,
  encodeDurableMark,
  readDurableMark,
  settleDurableBinding,
} from "./durable-mark.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const DIR = "/w";
const MARK = `${DIR}/${DURABLE_MARK_FILE}`;
const binding: DurableBinding = {
  segmentId: 2 ** 40 + 3,
  recordOffset: 2 ** 33 + 5,
  recordBytes: 0xffff_fff0,
  recordLsn: 2 ** 52 + 9,
  recordCrc: 0xdead_beef,
};
const core = { session: 77, durableLsn: 2 ** 52 + 11, closed: true, sessionStartLsn: 4 };

describe("the durable mark's binding", () => {
  it("round-trips after the version 2 mark, whose 40 bytes are unchanged for its readers", () => {
    const bytes = encodeDurableMark({ ...core, binding });
    expect(bytes.byteLength).toBe(DURABLE_MARK_BOUND_BYTES);
    expect(decodeDurableMark(bytes)).toEqual({ ...core, binding });
    // A version 2 reader reads 40 bytes: exactly the mark without a binding.
    expect(bytes.subarray(0, 40)).toEqual(encodeDurableMark(core));
    expect(decodeDurableMark(bytes.subarray(0, 40))).toEqual(core);
  });

  it("a binding that is torn, flipped, or paired with another mark's first 40 bytes reads as absent", () => {
    const bytes = encodeDurableMark({ ...core, binding });
    for (let i = 40; i < bytes.byteLength; i++) {
      const bad = bytes.slice();
      bad[i] = (bad[i] as number) ^ 0x04;
      expect(decodeDurableMark(bad), `byte ${i} flipped`).toEqual(core);
    }
    for (let n = 41; n < bytes.byteLength; n++) expect(decodeDurableMark(bytes.subarray(0, n))).toEqual(core);
    // A writer that writes 40 bytes over a longer file (an older version of this library) leaves a stale binding.
    const other = { ...core, session: 78, closed: false };
    const overwritten = bytes.slice();
    overwritten.set(encodeDurableMark(other), 0);
    expect(decodeDurableMark(overwritten)).toEqual(other);
  });

  it("refuses a binding with values out of range", () => {
    for (const bad of [{ recordBytes: 2 ** 32 }, { recordCrc: -1 }, { segmentId: 2 ** 53 }, { recordLsn: 0.5 }]) {
      expect(() => encodeDurableMark({ ...core, binding: { ...binding, ...bad } })).toThrow(
        expect.objectContaining({ code: "WAL_ENCODE" }),
      );
    }
  });

  it("the writer keeps its last binding until a newer one, and carries the one it was opened with", async () => {
    const fs = SimFS.withDir(DIR);
    const mark = await DurableMarkWriter.open(fs, DIR, 1, binding);
    mark.publish(5);
    expect((await readDurableMark(fs, DIR))?.binding).toEqual(binding);
    const newer = { ...binding, recordOffset: binding.recordOffset + 25, recordBytes: 25, recordLsn: 6 };
    mark.publish(6, false, newer);
    mark.publish(7);
    expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 7, binding: newer });
    await mark.close(7);
    expect(await readDurableMark(fs, DIR)).toMatchObject({ durableLsn: 7, closed: true, binding: newer });
  });

  it("settling keeps a binding whose record reads back, and cuts any other to the version 2 mark, durably", async () => {
    const fs = SimFS.withDir(DIR);
    fs.writeFileSync(MARK, encodeDurableMark({ ...core, session: 1 }));
    fs.writeFileSync(MARK, encodeDurableMark({ ...core, binding }), { durable: false });
    const asked: DurableBinding[] = [];
    const readsBack = (answer: boolean) => (b: DurableBinding) => {
      asked.push(b);
      return Promise.resolve(answer);
    };
    expect(await settleDurableBinding(fs, DIR, readsBack(true))).toEqual(binding);
    expect(fs.readFileSync(MARK).byteLength).toBe(DURABLE_MARK_BOUND_BYTES);
    expect(await settleDurableBinding(fs, DIR, readsBack(false))).toBeUndefined();
    expect(asked).toEqual([binding, binding]);
    expect(fs.readFileSync(MARK)).toEqual(encodeDurableMark(core));
    expect(fs.durableImage().readFileSync(MARK)).toEqual(encodeDurableMark(core));
    // Nothing to do, nothing asked: a mark without a binding, or no mark.
    expect(await settleDurableBinding(fs, DIR, readsBack(true))).toBeUndefined();
    await fs.unlink(MARK);
    expect(await settleDurableBinding(fs, DIR, readsBack(true))).toBeUndefined();
    expect(asked).toHaveLength(2);
    expect(fs.listSync(DIR)).toEqual([]);
  });

  it("settling cuts a binding that is not whole without asking about it; a failed check changes nothing", async () => {
    const fs = SimFS.withDir(DIR);
    const whole = encodeDurableMark({ ...core, binding });
    fs.writeFileSync(MARK, whole.subarray(0, whole.byteLength - 1));
    const never = () => Promise.reject(new Error("asked"));
    expect(await settleDurableBinding(fs, DIR, never)).toBeUndefined();
    expect(fs.durableImage().readFileSync(MARK)).toEqual(encodeDurableMark(core));
    fs.writeFileSync(MARK, whole);
    await expect(settleDurableBinding(fs, DIR, never)).rejects.toThrow("asked");
    expect(fs.durableImage().readFileSync(MARK)).toEqual(whole);
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });

  it("settling cuts binding bytes that no longer check too: an older version on disk may", async () => {
    const fs = SimFS.withDir(DIR);
    // On disk: a bound mark. In the page cache: a writer of 40-byte marks wrote over its first 40 bytes.
    fs.writeFileSync(MARK, encodeDurableMark({ ...core, binding }));
    const other = encodeDurableMark({ ...core, session: 2 });
    const bytes = fs.readFileSync(MARK);
    bytes.set(other, 0);
    fs.writeFileSync(MARK, bytes, { durable: false });
    expect((await readDurableMark(fs, DIR))?.binding).toBeUndefined();
    expect((await readDurableMark(fs.durableImage(), DIR))?.binding).toEqual(binding);
    // Even a verifier that would keep any binding: the one in the page cache does not check, so none is kept.
    expect(await settleDurableBinding(fs, DIR, () => Promise.resolve(true))).toBeUndefined();
    expect(fs.durableImage().readFileSync(MARK)).toEqual(other);
  });
});

describe("SegmentWriter.lastWrittenRecord", () => {
  it("names the last record written, once it is written, and nothing after a rollback or a truncation", async () => {
    const fs = SimFS.withDir(DIR);
    const writer = await SegmentWriter.create(fs, `${DIR}/0000000001.wal`, 1);
    expect(writer.lastWrittenRecord).toBeUndefined();
    const first = encodeRecord({ kind: "txBegin", lsn: 1 }, jsonCodec);
    writer.append({ kind: "txBegin", lsn: 1 }, jsonCodec);
    expect(writer.lastWrittenRecord).toBeUndefined(); // only pending
    await writer.write();
    const crcOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(b.byteLength - 4, true);
    expect(writer.lastWrittenRecord).toEqual({
      path: writer.path,
      offset: 32,
      bytes: 25,
      lsn: 1,
      crc: crcOf(first),
    });
    const batch = writer.appendCommitTx(2, ["a", "b"], jsonCodec);
    expect(writer.writeNow()).toBe(true);
    const bytes = fs.readFileSync(writer.path);
    const commit = bytes.subarray(bytes.byteLength - 25);
    expect(writer.lastWrittenRecord).toEqual({
      path: writer.path,
      offset: 57 + batch - 25,
      bytes: 25,
      lsn: 4,
      crc: crcOf(commit),
    });
    const mark = writer.mark();
    writer.append({ kind: "txBegin", lsn: 5 }, jsonCodec);
    writer.append({ kind: "mutation", lsn: 6, txBeginLsn: 5, event: "c" }, jsonCodec);
    writer.rollback(mark + 25);
    await writer.write();
    expect(writer.lastWrittenRecord).toBeUndefined(); // the record before the rolled-back one is not known
    writer.append({ kind: "txAbort", lsn: 7, txBeginLsn: 5 }, jsonCodec);
    await writer.write();
    expect(writer.lastWrittenRecord).toMatchObject({ lsn: 7, bytes: 25, offset: writer.writtenBytes - 25 });
    await writer.truncateTo(32);
    expect(writer.lastWrittenRecord).toBeUndefined();
    await writer.close();
  });
});
