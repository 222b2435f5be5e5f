/**
 * `truncateTo` waits, inside its flush and after the sync in flight it waits for there, for a fill ahead of the
 * records still on its way: a write called before the cut uses up the zeros ahead and starts the next fill on the
 * thread pool. Were the cut made with that fill still on its way, its zeros would land past the cut and lengthen the
 * file again, after `truncateTo` resolved with the file "`offset` bytes long". A write called while the cut waits
 * starts no fill: it waits for the cut and writes at the new end (it once landed during the wait, cut with the rest).
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";
import { segmentLsns } from "./test-support/segment-lsns.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";
const AHEAD = 64 * 1024;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * SimFS behind a seam that holds asynchronous zero-fills and fdatasyncs until released (no blocking twins: the seam
 * holds only the asynchronous calls), and the fills that landed and the truncations, in the order they reached the
 * file.
 */
function heldFillsAndSyncs(sim: SimFS) {
  const io = heldFileOps(sim, { blocking: false });
  return { ...io, fillsAndCuts: () => io.log.filter((entry) => /^(fill|truncate) /.test(entry)) };
}

/** One mutation record of `bytes` payload bytes, its payload filled with its LSN. */
function mutation(lsn: number, bytes: number): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(bytes).fill(lsn) };
}

const readBack = (fs: SimFS) => segmentLsns(fs, PATH);

it("truncateTo waits for a fill started by a write called before it, so no zeros land past the cut", async () => {
  const sim = SimFS.withDir("/w");
  const io = heldFillsAndSyncs(sim);
  const writer = await SegmentWriter.create(io.fs, PATH, 1, { preallocateBytes: AHEAD });
  // Writes of 30 KiB (less than half the fill size: not bulk). The first fills 64 KiB past itself on its own path;
  // after the second, more than half the fill size of zeros is still ahead, so no fill runs ahead yet.
  writer.append(mutation(1, 30 * 1024), bytesCodec);
  await writer.write();
  writer.append(mutation(2, 30 * 1024), bytesCodec);
  await writer.write();
  const cut = writer.writtenBytes;
  const fillsBefore = io.fillsAndCuts().length;

  // A sync in flight, held: the cut waits for it inside its flush.
  io.hold("datasync");
  const syncing = writer.sync();
  await turn();
  expect(io.heldCount("datasync")).toBe(1);
  // A third write, called before the cut, lands inside the zeros, leaves less than half the fill size ahead, and so
  // starts the next fill on the thread pool: held.
  io.hold("fill");
  writer.append(mutation(3, 30 * 1024), bytesCodec);
  const writing = writer.write();
  let truncated = false;
  const truncating = writer.truncateTo(cut).then(() => {
    truncated = true;
  });
  await writing;
  expect(writer.writtenBytes).toBeGreaterThan(cut);
  expect(io.heldCount("fill")).toBe(1);

  // The sync finishes; the cut must still wait for the fill (bounded by turns, not time: SimFS needs a handful).
  io.release("datasync");
  await syncing;
  for (let i = 0; i < 20 && !truncated; i++) await turn();
  expect(truncated).toBe(false);
  expect(io.fillsAndCuts().slice(fillsBefore)).toEqual([]);

  io.release("fill");
  await truncating;
  // The fill landed before any truncation, and the file is as long as the cut.
  const after = io.fillsAndCuts().slice(fillsBefore);
  expect(after[0]).toMatch(/^fill /);
  expect(after.slice(1).every((entry) => entry.startsWith("truncate "))).toBe(true);
  expect(sim.readFileSync(PATH).byteLength).toBe(cut);
  await expect(readBack(sim)).resolves.toEqual({ lsns: [1, 2], end: "end" });

  // Records appended after the cut, then synced: every crash image holds them all (the sync covered them), with
  // no zeros over them.
  writer.append(mutation(4, 100), bytesCodec);
  writer.append(mutation(5, 100), bytesCodec);
  await writer.flush();
  let images = 0;
  for (const image of sim.crashImages()) {
    images++;
    await expect(readBack(image.fs), image.description).resolves.toEqual({ lsns: [1, 2, 4, 5], end: "end" });
  }
  expect(images).toBeGreaterThan(0);
  await writer.close();
  expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
});

it("a write called while truncateTo waits for a sync in flight starts no fill and lands after the cut", async () => {
  const sim = SimFS.withDir("/w");
  const io = heldFillsAndSyncs(sim);
  const writer = await SegmentWriter.create(io.fs, PATH, 1, { preallocateBytes: AHEAD });
  writer.append(mutation(1, 30 * 1024), bytesCodec);
  await writer.write();
  writer.append(mutation(2, 30 * 1024), bytesCodec);
  await writer.write();
  const cut = writer.writtenBytes;
  const fillsBefore = io.fillsAndCuts().length;

  io.hold("datasync");
  const syncing = writer.sync();
  await turn();
  expect(io.heldCount("datasync")).toBe(1);
  const truncating = writer.truncateTo(cut);
  await turn();
  // Appended and written after the call, while the cut waits for the sync: nothing is written, no fill starts.
  writer.append(mutation(3, 30 * 1024), bytesCodec);
  let written = false;
  const writing = writer.write().then(() => {
    written = true;
  });
  for (let i = 0; i < 20; i++) await turn();
  expect(written).toBe(false);
  expect(writer.writtenBytes).toBe(cut);
  expect(io.fillsAndCuts().slice(fillsBefore)).toEqual([]);

  io.release("datasync");
  await Promise.all([syncing, truncating, writing]);
  await writer.flush();
  await expect(readBack(sim)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
  await writer.close();
  expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
  await expect(readBack(sim)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
});
