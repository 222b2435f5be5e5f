/**
 * `truncateTo` waits, inside its flush and after the sync in flight it waits for there, for a fill ahead of the
 * records still on its way: a write called before the cut uses up the zeros ahead and starts the next fill on the
 * thread pool. Were the cut made with that fill still on its way, its zeros would land past the cut and lengthen the
 * file again, after `truncateTo` resolved with the file "`offset` bytes long". A write called while the cut waits
 * starts no fill: it waits for the cut and writes at the new end (it once landed during the wait, cut with the rest).
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { expect, it } from "vitest";
import type { WalFile } from "./fs/file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";
const AHEAD = 64 * 1024;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A zero-fill: a write of at least a page of zeros (records never are: every header has a non-zero length). */
function isFill(data: Uint8Array): boolean {
  return data.byteLength >= 4096 && data.every((b) => b === 0);
}

/**
 * SimFS behind a seam that holds asynchronous zero-fills and fdatasyncs until released, and logs, in the order they
 * reach the file, every fill that lands and every truncation.
 */
function heldFillsAndSyncs(sim: SimFS) {
  const fills: (() => void)[] = [];
  const syncs: (() => void)[] = [];
  const state = { holdFills: false, holdSyncs: false };
  const log: string[] = [];
  const wrap = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        if (key === "write") {
          return async (data: Uint8Array, at: number) => {
            if (!isFill(data)) return target.write(data, at);
            const copy = data.slice();
            if (state.holdFills) await new Promise<void>((go) => fills.push(go));
            await target.write(copy, at);
            log.push(`fill ${at}..${at + copy.byteLength}`);
          };
        }
        if (key === "datasync") {
          return async () => {
            if (state.holdSyncs) await new Promise<void>((go) => syncs.push(go));
            return target.datasync();
          };
        }
        if (key === "truncate") {
          return async (length: number) => {
            await target.truncate(length);
            log.push(`truncate ${length}`);
          };
        }
        // The seam holds only the asynchronous calls: keep the writer off their blocking twins.
        if (key === "datasyncSync" || key === "writeSync") return undefined;
        return boundProperty(target, key);
      },
    });
  const release = (held: (() => void)[]): void => {
    for (const go of held.splice(0)) go();
  };
  return {
    fs: wrapFileSystem(sim, wrap),
    state,
    log,
    heldFills: () => fills.length,
    heldSyncs: () => syncs.length,
    releaseFills: () => {
      state.holdFills = false;
      release(fills);
    },
    releaseSyncs: () => {
      state.holdSyncs = false;
      release(syncs);
    },
  };
}

/** One mutation record of `bytes` payload bytes, its payload filled with its LSN. */
function mutation(lsn: number, bytes: number): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(bytes).fill(lsn) };
}

async function readBack(fs: SimFS): Promise<{ lsns: number[]; end: string }> {
  const reader = await SegmentReader.open(fs, PATH);
  const lsns: number[] = [];
  try {
    for (;;) {
      const step = await reader.next(bytesCodec);
      if (step.kind !== "record") return { lsns, end: step.kind };
      lsns.push(step.record.lsn);
    }
  } finally {
    await reader.close();
  }
}

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
  const fillsBefore = io.log.length;

  // A sync in flight, held: the cut waits for it inside its flush.
  io.state.holdSyncs = true;
  const syncing = writer.sync();
  await turn();
  expect(io.heldSyncs()).toBe(1);
  // A third write, called before the cut, lands inside the zeros, leaves less than half the fill size ahead, and so
  // starts the next fill on the thread pool: held.
  io.state.holdFills = true;
  writer.append(mutation(3, 30 * 1024), bytesCodec);
  const writing = writer.write();
  let truncated = false;
  const truncating = writer.truncateTo(cut).then(() => {
    truncated = true;
  });
  await writing;
  expect(writer.writtenBytes).toBeGreaterThan(cut);
  expect(io.heldFills()).toBe(1);

  // The sync finishes; the cut must still wait for the fill (bounded by turns, not time: SimFS needs a handful).
  io.releaseSyncs();
  await syncing;
  for (let i = 0; i < 20 && !truncated; i++) await turn();
  expect(truncated).toBe(false);
  expect(io.log.slice(fillsBefore)).toEqual([]);

  io.releaseFills();
  await truncating;
  // The fill landed before any truncation, and the file is as long as the cut.
  const after = io.log.slice(fillsBefore);
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
  const fillsBefore = io.log.length;

  io.state.holdSyncs = true;
  const syncing = writer.sync();
  await turn();
  expect(io.heldSyncs()).toBe(1);
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
  expect(io.log.slice(fillsBefore)).toEqual([]);

  io.releaseSyncs();
  await Promise.all([syncing, truncating, writing]);
  await writer.flush();
  await expect(readBack(sim)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
  await writer.close();
  expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
  await expect(readBack(sim)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
});
