/**
 * `syncNow` refuses beside an fdatasync in flight. On Linux a writeback error reaches only one of two fdatasyncs of
 * a file that overlap, so a blocking one beside a failing one (the background sync's) would return normally for
 * bytes the kernel dropped: fsyncgate. The refusal changes nothing, and the in-flight sync's failure still reaches
 * the caller at the next call.
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import type { WalFile } from "./fs/file-system.js";
import { SegmentWriter } from "./segment-writer.js";
import { transaction } from "./test-support/transaction-records.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";

/**
 * A SimFS whose asynchronous fdatasyncs and fsyncs run at once but report their outcome only when the test releases
 * them: the kernel has already done (or failed) the writeback while the thread-pool call is still in flight.
 */
function heldDatasyncs(sim: SimFS) {
  const held: (() => void)[] = [];
  /** Off while the writer creates its file (whose header it fsyncs). */
  let holding = false;
  const fs = wrapFileSystem(
    sim,
    (file: WalFile) =>
      new Proxy(file, {
        get(target, key) {
          if (!holding || (key !== "datasync" && key !== "sync")) return boundProperty(target, key);
          return async () => {
            const outcome = target[key]().then(
              () => undefined,
              (error: unknown) => ({ error }),
            );
            await new Promise<void>((release) => held.push(release));
            const failed = await outcome;
            if (failed !== undefined) throw failed.error;
          };
        },
      }),
  );
  const releaseAll = () => {
    for (const release of held.splice(0)) release();
  };
  return {
    fs,
    releaseAll,
    startHolding: () => {
      holding = true;
    },
  };
}

/** A writer over {@link heldDatasyncs} holding from now on, with one transaction written (not synced). */
async function heldWriter() {
  const sim = SimFS.withDir("/w");
  const io = heldDatasyncs(sim);
  const writer = await SegmentWriter.create(io.fs, PATH, 1);
  io.startHolding();
  for (const r of transaction(1)) writer.append(r, bytesCodec);
  expect(writer.writeNow()).toBe(true);
  return { sim, io, writer };
}

async function writerWithSyncInFlight(failIt: boolean) {
  const { sim, io, writer } = await heldWriter();
  if (failIt) sim.injectFault({ op: "datasync", errno: "EIO" });
  const inFlight = writer.sync();
  inFlight.catch(() => undefined);
  // Let the wrapped datasync start (and, when failing, drop the unsynced bytes) before the test calls syncNow.
  await new Promise((resolve) => setImmediate(resolve));
  return { sim, io, writer, inFlight };
}

describe("SegmentWriter.syncNow beside an fdatasync in flight", () => {
  it("refuses with WAL_INVALID_ARGUMENT while a failing one is in flight, and the failure still reaches the caller", async () => {
    const { sim, io, writer, inFlight } = await writerWithSyncInFlight(true);
    expect(writer.canSyncNow).toBe(false);
    const durableBefore = sim.durableImage().readFileSync(PATH);
    expect(() => writer.syncNow()).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT", details: { path: PATH } }),
    );
    // The refusal synced nothing and poisoned nothing: the bytes the failure dropped are not claimed durable.
    expect(writer.failure).toBeUndefined();
    expect(sim.durableImage().readFileSync(PATH)).toEqual(durableBefore);
    io.releaseAll();
    const failure = await inFlight.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: "WAL_IO", details: { errno: "EIO" } });
    expect(() => writer.syncNow()).toThrow(failure as Error);
    await writer.close().catch(() => undefined);
  });

  it("refuses beside a healthy one too, and works again once it has settled", async () => {
    const { sim, io, writer, inFlight } = await writerWithSyncInFlight(false);
    expect(() => writer.syncNow()).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
    io.releaseAll();
    await inFlight;
    expect(writer.canSyncNow).toBe(true);
    for (const r of transaction(4)) writer.append(r, bytesCodec);
    expect(writer.writeNow()).toBe(true);
    writer.syncNow();
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    const closing = writer.close();
    io.releaseAll();
    await closing;
  });

  it("refuses beside a truncation's fsync in flight, and works again once it has settled", async () => {
    const { sim, io, writer } = await heldWriter();
    const cut = writer.writtenBytes;
    for (const r of transaction(4)) writer.append(r, bytesCodec);
    expect(writer.writeNow()).toBe(true);
    const truncating = writer.truncateTo(cut);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writer.canSyncNow).toBe(false);
    expect(() => writer.syncNow()).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
    expect(writer.failure).toBeUndefined();
    io.releaseAll();
    await truncating;
    expect(writer.canSyncNow).toBe(true);
    writer.syncNow();
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(cut);
    const closing = writer.close();
    io.releaseAll();
    await closing;
  });
});
