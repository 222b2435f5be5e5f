/**
 * The writes a seal makes, and those that land once it has been called, are not zero-filled ahead of: nothing is
 * appended to a sealed segment, and the seal cuts every zero past the records off before its header. Before, a seal
 * whose last write ran past the zero-filled part first wrote `preallocateBytes` of zeros past it, then cut them off
 * (a write and a truncate + fsync of the file for nothing). The sealed file still holds exactly the records and the
 * sealed header, and every crash image of the seal reads as the records ending cleanly.
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { segmentLsns } from "./test-support/segment-lsns.js";
import { writerOverTornTail } from "./test-support/writer-over-torn-tail.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";
const AHEAD = 64 * 1024;

/** A mutation of `bytes` payload bytes, filled with its LSN. */
function mutation(lsn: number, bytes: number): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(bytes).fill(lsn) };
}

/**
 * A preallocating writer whose records have run past its zeros: record 1 (small, filled ahead of), then record 2,
 * a bulk write past the zeros (not filled ahead of), both fsynced; record 3 (small) is pending.
 */
async function pastTheZeros(): Promise<{ sim: SimFS; writer: SegmentWriter; record3: number }> {
  const sim = SimFS.withDir("/w");
  const writer = await SegmentWriter.create(sim, PATH, 1, { preallocateBytes: AHEAD });
  writer.append(mutation(1, 100), bytesCodec);
  await writer.flush();
  writer.append(mutation(2, 2 * AHEAD), bytesCodec);
  await writer.flush();
  expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes); // no zeros left ahead
  const record3 = writer.append(mutation(3, 1000), bytesCodec);
  return { sim, writer, record3 };
}

describe("a seal whose last write runs past the zeros", () => {
  it("writes the records and the sealed header, no zeros, and cuts nothing", async () => {
    const { sim, writer, record3 } = await pastTheZeros();
    const before = { ...sim.stats };
    await writer.seal();
    const io = {
      writes: sim.stats.writes - before.writes,
      bytesWritten: sim.stats.bytesWritten - before.bytesWritten,
      truncates: sim.stats.truncates - before.truncates,
      flushes: sim.stats.datasyncs + sim.stats.syncs - before.datasyncs - before.syncs,
    };
    // Record 3, then the sealed header; an fdatasync after each.
    expect(io).toEqual({ writes: 2, bytesWritten: record3 + SEGMENT_HEADER_BYTES, truncates: 0, flushes: 2 });
    expect(writer.sealed).toBe(true);
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
    await writer.close();
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
  });

  it("leaves a crash image at every step that reads as a prefix of the records, sealed only over all of them", async () => {
    const { sim, writer } = await pastTheZeros();
    const images: { step: string; fs: SimFS }[] = [];
    const stop = sim.onOperation((event) => {
      for (const image of sim.crashImages({ maxImages: 64 })) {
        images.push({ step: `after ${event.op} #${event.seq}: ${image.description}`, fs: image.fs });
      }
    });
    await writer.seal();
    stop();
    expect(images.length).toBeGreaterThan(4);
    let sealed = 0;
    for (const image of images) {
      const { lsns, end } = await segmentLsns(image.fs, PATH);
      const reader = await SegmentReader.open(image.fs, PATH);
      const header = reader.header;
      await reader.close();
      if (header.sealed) {
        sealed++;
        expect({ lsns, end, bytes: image.fs.readFileSync(PATH).byteLength }, image.step).toEqual({
          lsns: [1, 2, 3],
          end: "end",
          bytes: writer.writtenBytes,
        });
      } else if (end === "damaged") {
        // Record 3 torn before the seal's first fdatasync: records 1 and 2 were fsynced before the seal.
        expect(lsns, image.step).toEqual([1, 2]);
      } else {
        expect(
          [
            [1, 2],
            [1, 2, 3],
          ],
          image.step,
        ).toContainEqual(lsns);
      }
    }
    expect(sealed).toBeGreaterThan(0);
    await writer.close();
  });
});

describe("a close whose last write runs past the zeros", () => {
  it("writes the records only: no zeros, nothing to cut", async () => {
    const { sim, writer, record3 } = await pastTheZeros();
    const before = { ...sim.stats };
    await writer.close();
    expect({
      writes: sim.stats.writes - before.writes,
      bytesWritten: sim.stats.bytesWritten - before.bytesWritten,
      truncates: sim.stats.truncates - before.truncates,
    }).toEqual({ writes: 1, bytesWritten: record3, truncates: 0 });
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
  });
});

describe("a seal over a torn tail that openForAppend found", () => {
  it("still zero-fills over its bytes and cuts them off: the sealed file holds only the records", async () => {
    const sim = SimFS.withDir("/w");
    const writer = await writerOverTornTail(sim, PATH, AHEAD);
    writer.append(mutation(2, 100), bytesCodec);
    await writer.seal();
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
    await writer.close();
  });
});
