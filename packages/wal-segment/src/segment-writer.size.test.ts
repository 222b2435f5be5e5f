/**
 * `size` is what the segment will hold once the writes and cuts called so far have run. It counted a write larger
 * than the unsynced window twice for the pieces already written (the whole buffer stayed counted beside them), and
 * while a cut was waiting or under way it counted the bytes the cut removes.
 */

import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentWriter } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";
import { segmentLsns } from "./test-support/segment-lsns.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

function mutation(lsn: number, bytes = 100): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(bytes).fill(lsn) };
}
const length = (record: WalRecord<Uint8Array>): number => encodeRecord(record, bytesCodec).byteLength;

async function setup(options: { maxUnsyncedBytes?: number } = {}) {
  const sim = SimFS.withDir("/w");
  const io = heldFileOps(sim, { blocking: false });
  const writer = await SegmentWriter.create(io.fs, PATH, 1, options);
  return { sim, io, writer };
}

describe("SegmentWriter.size", () => {
  it("counts a write larger than the window once while it is written in pieces", async () => {
    const { sim, io, writer } = await setup({ maxUnsyncedBytes: 4096 });
    const big = mutation(1, 10_000);
    writer.append(big, bytesCodec);
    io.hold("datasync"); // the sync between the first and second pieces
    const writing = writer.write();
    await io.untilHeld("datasync");
    expect(writer.writtenBytes).toBeGreaterThan(SEGMENT_HEADER_BYTES);
    expect(writer.size).toBe(SEGMENT_HEADER_BYTES + length(big));
    writer.append(mutation(2), bytesCodec);
    expect(writer.size).toBe(SEGMENT_HEADER_BYTES + length(big) + length(mutation(2)));
    io.release("datasync");
    await writing;
    await writer.flush();
    expect(writer.size).toBe(writer.writtenBytes);
    await writer.close();
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
  });

  it("counts a waiting cut as made: its offset plus what was appended after its call", async () => {
    const { sim, io, writer } = await setup();
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    io.hold("records");
    writer.append(mutation(2), bytesCodec);
    const writing = writer.write(); // held
    await io.untilHeld("records");
    writer.append(mutation(3), bytesCodec); // before the cut's call: dropped
    const truncating = writer.truncateTo(cut);
    writer.append(mutation(4), bytesCodec);
    expect(writer.size).toBe(cut + length(mutation(4)));
    io.release("records");
    await Promise.all([writing, truncating]);
    expect(writer.size).toBe(cut + length(mutation(4)));
    await writer.flush();
    expect(writer.size).toBe(writer.writtenBytes);
    await writer.close();
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 4], end: "end" });
  });

  it("counts a cut under way as made, and a refused one no more once refused", async () => {
    const { io, writer } = await setup();
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    writer.append(mutation(2), bytesCodec);
    await writer.flush();
    const end = writer.writtenBytes;
    io.hold("truncate");
    const truncating = writer.truncateTo(cut);
    await io.untilHeld("truncate");
    writer.append(mutation(3), bytesCodec);
    expect(writer.size).toBe(cut + length(mutation(3)));
    const refused = writer.truncateTo(end); // past the end the first cut leaves
    refused.catch(() => undefined);
    expect(writer.size).toBe(end);
    io.release("truncate");
    await truncating;
    await expect(refused).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
    expect(writer.size).toBe(cut + length(mutation(3)));
    await writer.close();
  });
});
