/**
 * `SegmentWriter.truncateTo` is ordered with the writes and cuts around it, as they were called. A record appended
 * after the call belongs after the cut: a write made while the cut runs waits for it and lands at the new end, before
 * records appended later (it landed at the old end, past the cut, and was read after them: LSNs 1, 4, 3), and an
 * append made while the cut waits for a write in flight is kept (it was dropped with the bytes pending before the
 * call). A second cut called before the first has run is checked against the end the first leaves (it was checked
 * against the old end, then refused by `cutFile` with the writer failed). Real files, through the Node seam, with the
 * segment's ftruncate held where a test needs the cut to be running.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WalFileSystem } from "./fs/file-system.js";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentWriter } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";
import { segmentLsns } from "./test-support/segment-lsns.js";

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-trunc-order-"));
  path = join(dir, "0000000001.wal");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A mutation of `bytes` payload bytes, filled with its LSN. */
function mutation(lsn: number, bytes = 100): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(bytes).fill(lsn) };
}

/** The Node seam, with the segment's truncations held while `hold` is set. */
const heldCuts = () => heldFileOps(createNodeFileSystem());

/** The LSNs of the records in the segment, in file order, and how the read ended. */
const lsnsIn = (fs: WalFileSystem) => segmentLsns(fs, path);

describe("SegmentWriter.truncateTo, ordered with writes as called", () => {
  it("a record appended and written while the cut runs lands at the new end, before those appended later", async () => {
    const io = heldCuts();
    const writer = await SegmentWriter.create(io.fs, path, 1);
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    writer.append(mutation(2), bytesCodec);
    await writer.flush();

    io.hold("truncate");
    const truncating = writer.truncateTo(cut);
    await io.untilHeld("truncate");
    // The cut is running (its ftruncate held): a record appended now, and a write and a sync of it.
    writer.append(mutation(3), bytesCodec);
    const writing = writer.write().then(() => writer.sync());
    for (let i = 0; i < 20; i++) await turn();
    // Nothing is written until the cut is done.
    expect(writer.writtenBytes).toBeGreaterThan(cut);
    io.release("truncate");
    await truncating;
    await writing;
    writer.append(mutation(4), bytesCodec);
    await writer.flush();
    await writer.close();
    expect(writer.failure).toBeUndefined();
    await expect(lsnsIn(io.fs)).resolves.toEqual({ lsns: [1, 3, 4], end: "end" });
  });

  it("writeNow refuses to write while the cut runs (canWriteNow is false), and the record lands after it", async () => {
    const io = heldCuts();
    const writer = await SegmentWriter.create(io.fs, path, 1);
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    writer.append(mutation(2), bytesCodec);
    await writer.flush();

    io.hold("truncate");
    const truncating = writer.truncateTo(cut);
    await io.untilHeld("truncate");
    writer.append(mutation(3), bytesCodec);
    expect(writer.canWriteNow).toBe(false);
    expect(writer.writeNow()).toBe(false);
    io.release("truncate");
    await truncating;
    expect(writer.writeNow()).toBe(true);
    writer.append(mutation(4), bytesCodec);
    await writer.flush();
    await writer.close();
    await expect(lsnsIn(io.fs)).resolves.toEqual({ lsns: [1, 3, 4], end: "end" });
  });

  it("a record appended while the cut waits for a write in flight is kept, after the cut", async () => {
    const fs = createNodeFileSystem();
    const writer = await SegmentWriter.create(fs, path, 1);
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    writer.append(mutation(2), bytesCodec);
    const writing = writer.write(); // in flight
    const truncating = writer.truncateTo(cut); // waits for it
    writer.append(mutation(3), bytesCodec); // after the call: after the cut
    await writing;
    await truncating;
    await writer.flush();
    await writer.close();
    await expect(lsnsIn(fs)).resolves.toEqual({ lsns: [1, 3], end: "end" });
  });

  it("a write called before truncateTo writes what was appended before the cut's call, not what came after", async () => {
    const fs = createNodeFileSystem();
    const writer = await SegmentWriter.create(fs, path, 1);
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    writer.append(mutation(2), bytesCodec);
    const first = writer.write(); // in flight
    writer.append(mutation(3), bytesCodec);
    const second = writer.write(); // waits for the first
    const truncating = writer.truncateTo(cut); // after both: cuts records 2 and 3
    writer.append(mutation(4), bytesCodec); // after the call: kept, after the cut
    const third = writer.write(); // after the cut
    await Promise.all([first, second, truncating, third]);
    await writer.sync();
    await writer.close();
    await expect(lsnsIn(fs)).resolves.toEqual({ lsns: [1, 4], end: "end" });
  });

  it("a rollback, while a cut waits, of records appended before its call keeps those appended after it", async () => {
    const fs = createNodeFileSystem();
    const writer = await SegmentWriter.create(fs, path, 1);
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    writer.append(mutation(2), bytesCodec);
    const writing = writer.write(); // in flight
    const mark = writer.mark();
    writer.append(mutation(3), bytesCodec);
    const truncating = writer.truncateTo(cut); // waits; record 3 was appended before its call
    writer.rollback(mark); // record 3 goes
    writer.append(mutation(4), bytesCodec); // after the call: kept
    await Promise.all([writing, truncating]);
    await writer.flush();
    await writer.close();
    await expect(lsnsIn(fs)).resolves.toEqual({ lsns: [1, 4], end: "end" });
  });

  it("a cut past the end a write called before it leaves is checked against that end", async () => {
    const fs = createNodeFileSystem();
    const writer = await SegmentWriter.create(fs, path, 1);
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    writer.append(mutation(2), bytesCodec);
    const end = writer.size; // where record 2 ends once written
    const writing = writer.write();
    // In range once the write in flight has landed: it cuts nothing.
    await writer.truncateTo(end);
    await writing;
    writer.append(mutation(3), bytesCodec);
    await writer.flush();
    await writer.close();
    await expect(lsnsIn(fs)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
  });
});

describe("SegmentWriter.truncateTo, two cuts called before either runs", () => {
  async function threeRecords(fs: WalFileSystem): Promise<{ writer: SegmentWriter; ends: number[] }> {
    const writer = await SegmentWriter.create(fs, path, 1);
    const ends: number[] = [];
    for (const lsn of [1, 2, 3]) {
      writer.append(mutation(lsn), bytesCodec);
      await writer.flush();
      ends.push(writer.writtenBytes);
    }
    return { writer, ends };
  }

  it("the second, past the end the first leaves, is refused with WAL_BAD_HEADER and the writer stays usable", async () => {
    const fs = createNodeFileSystem();
    const { writer, ends } = await threeRecords(fs);
    const first = writer.truncateTo(ends[0] as number);
    const second = writer.truncateTo(ends[1] as number);
    await expect(first).resolves.toBeUndefined();
    await expect(second).rejects.toMatchObject({ name: "WalError", code: "WAL_BAD_HEADER" });
    expect(writer.failure).toBeUndefined();
    expect(writer.writtenBytes).toBe(ends[0]);
    writer.append(mutation(4), bytesCodec);
    await writer.flush();
    await writer.close();
    await expect(lsnsIn(fs)).resolves.toEqual({ lsns: [1, 4], end: "end" });
  });

  it("the second, within the end the first leaves, cuts after it", async () => {
    const fs = createNodeFileSystem();
    const { writer, ends } = await threeRecords(fs);
    const first = writer.truncateTo(ends[1] as number);
    const second = writer.truncateTo(ends[0] as number);
    await Promise.all([first, second]);
    expect(writer.writtenBytes).toBe(ends[0]);
    writer.append(mutation(4), bytesCodec);
    await writer.flush();
    await writer.close();
    await expect(lsnsIn(fs)).resolves.toEqual({ lsns: [1, 4], end: "end" });
  });

  it("a record appended between the two calls is kept after both cuts", async () => {
    const fs = createNodeFileSystem();
    const { writer, ends } = await threeRecords(fs);
    const first = writer.truncateTo(ends[1] as number);
    writer.append(mutation(4), bytesCodec);
    const writing = writer.write(); // after the first cut: lands at its end
    const second = writer.truncateTo(ends[1] as number); // cuts record 4 again
    writer.append(mutation(5), bytesCodec);
    await Promise.all([first, writing, second]);
    await writer.flush();
    await writer.close();
    await expect(lsnsIn(fs)).resolves.toEqual({ lsns: [1, 2, 5], end: "end" });
  });
});
