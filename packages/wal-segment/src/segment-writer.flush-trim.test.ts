/**
 * `flush({ trimZeroTail: true })`: the last flush of a writer closed otherwise than by `close()` (the Wal handle's
 * close), which leaves the file as long as its records with that length durable. Its write is not zero-filled ahead
 * of (the zeros would only be cut off again), and the cut and the records share one fsync. Before, the same end took
 * `flush()` then `trimZeroTail()`: a last write past the zeros wrote `preallocateBytes` of zeros past it, fdatasynced,
 * cut them off and fsynced.
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { segmentLsns } from "./test-support/segment-lsns.js";
import { writerOverTornTail } from "./test-support/writer-over-torn-tail.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";
const AHEAD = 64 * 1024;

function mutation(lsn: number, bytes: number): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(bytes).fill(lsn) };
}

/**
 * A preallocating writer with record 1 fsynced and record 2 (small) pending. With `pastTheZeros`, record 1 is a bulk
 * write (not filled ahead of): the file ends where it does, and record 2's write runs past the zeros; otherwise
 * record 1 is small, filled ahead of, and record 2's write lands in the zeros.
 */
async function withPending(pastTheZeros: boolean): Promise<{ sim: SimFS; writer: SegmentWriter; record2: number }> {
  const sim = SimFS.withDir("/w");
  const writer = await SegmentWriter.create(sim, PATH, 1, { preallocateBytes: AHEAD });
  writer.append(mutation(1, pastTheZeros ? 2 * AHEAD : 100), bytesCodec);
  await writer.flush();
  expect(sim.readFileSync(PATH).byteLength > writer.writtenBytes).toBe(!pastTheZeros);
  const record2 = writer.append(mutation(2, 1000), bytesCodec);
  return { sim, writer, record2 };
}

function ioSince(sim: SimFS, before: SimFS["stats"]) {
  return {
    writes: sim.stats.writes - before.writes,
    bytesWritten: sim.stats.bytesWritten - before.bytesWritten,
    truncates: sim.stats.truncates - before.truncates,
    datasyncs: sim.stats.datasyncs - before.datasyncs,
    syncs: sim.stats.syncs - before.syncs,
  };
}

describe("flush({ trimZeroTail: true })", () => {
  it("past the zeros: writes the records only, cuts nothing, one fdatasync", async () => {
    const { sim, writer, record2 } = await withPending(true);
    const before = { ...sim.stats };
    await writer.flush({ trimZeroTail: true });
    expect(ioSince(sim, before)).toEqual({ writes: 1, bytesWritten: record2, truncates: 0, datasyncs: 1, syncs: 0 });
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim.durableImage(), PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
    await writer.close();
  });

  it("into the zeros: writes the records, cuts the zeros, one fsync for both", async () => {
    const { sim, writer, record2 } = await withPending(false);
    const before = { ...sim.stats };
    await writer.flush({ trimZeroTail: true });
    expect(ioSince(sim, before)).toEqual({ writes: 1, bytesWritten: record2, truncates: 1, datasyncs: 0, syncs: 1 });
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim.durableImage(), PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
    await writer.close();
  });

  // The zeros end exactly where the records do (a trim or a cut just left them so): there is nothing to cut, and
  // neither a truncate nor an fsync of the file's length is owed, only the fdatasync docs/durability.md promises.
  it("with the file already ending at the records (after a trim): one fdatasync, no truncate, no fsync", async () => {
    const { sim, writer } = await withPending(false);
    await writer.flush({ trimZeroTail: true });
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    const before = { ...sim.stats };
    await writer.flush({ trimZeroTail: true });
    expect(ioSince(sim, before)).toEqual({ writes: 0, bytesWritten: 0, truncates: 0, datasyncs: 1, syncs: 0 });
    await writer.close();
  });

  it("right after a truncateTo: a trimming flush and a close truncate nothing more", async () => {
    const { sim, writer } = await withPending(true);
    await writer.flush();
    const end = writer.writtenBytes;
    writer.append(mutation(3, 100), bytesCodec);
    await writer.flush();
    await writer.truncateTo(end);
    const before = { ...sim.stats };
    await writer.flush({ trimZeroTail: true });
    await writer.close();
    expect(ioSince(sim, before)).toEqual({ writes: 0, bytesWritten: 0, truncates: 0, datasyncs: 1, syncs: 0 });
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
  });

  for (const pastTheZeros of [true, false]) {
    it(`${pastTheZeros ? "past" : "into"} the zeros: every crash image reads as record 1, or records 1 and 2`, async () => {
      const { sim, writer } = await withPending(pastTheZeros);
      const images: { step: string; fs: SimFS }[] = [];
      const stop = sim.onOperation((event) => {
        for (const image of sim.crashImages({ maxImages: 64 })) {
          images.push({ step: `after ${event.op} #${event.seq}: ${image.description}`, fs: image.fs });
        }
      });
      await writer.flush({ trimZeroTail: true });
      stop();
      expect(images.length).toBeGreaterThan(2);
      for (const { step, fs } of images) {
        const { lsns } = await segmentLsns(fs, PATH);
        // Record 1 was fsynced before; record 2 (torn, or lost) may be missing until the flush resolves.
        expect([[1], [1, 2]], step).toContainEqual(lsns);
      }
      await writer.close();
    });
  }

  it("a writer appended to after it fills ahead again, and a later flush({ trimZeroTail: true }) cuts that", async () => {
    const { sim, writer } = await withPending(true);
    await writer.flush({ trimZeroTail: true });
    writer.append(mutation(3, 100), bytesCodec);
    await writer.flush();
    expect(sim.readFileSync(PATH).byteLength).toBeGreaterThan(writer.writtenBytes + AHEAD / 2);
    await writer.flush({ trimZeroTail: true });
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
    await writer.close();
  });

  it("over a torn tail openForAppend found: still zero-fills over its bytes, then cuts them off", async () => {
    const sim = SimFS.withDir("/w");
    const writer = await writerOverTornTail(sim, PATH, AHEAD);
    writer.append(mutation(2, 100), bytesCodec);
    await writer.flush({ trimZeroTail: true });
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim.durableImage(), PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
    await writer.close();
  });

  it("refuses options that are not an object, or an unknown name, before writing anything", async () => {
    const { sim, writer } = await withPending(false);
    const before = { ...sim.stats };
    await expect(writer.flush(null as never)).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    await expect(writer.flush({ trimZeroTails: true } as never)).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining('did you mean "trimZeroTail"'),
    });
    expect(ioSince(sim, before)).toEqual({ writes: 0, bytesWritten: 0, truncates: 0, datasyncs: 0, syncs: 0 });
    expect(writer.pendingBytes).toBeGreaterThan(0);
    await writer.flush();
    await writer.close();
  });

  it("after close() is refused with WAL_CLOSED", async () => {
    const { writer } = await withPending(false);
    await writer.close();
    await expect(writer.flush({ trimZeroTail: true })).rejects.toMatchObject({ code: "WAL_CLOSED" });
  });
});
