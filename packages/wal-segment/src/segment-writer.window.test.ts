/**
 * The unsynced window: a writer never has more than `maxUnsyncedBytes` written but not covered by a completed
 * fdatasync, whatever it is asked to write (small records, large records, huge batches, synchronous and
 * asynchronous writes). Recovery relies on it to tell a torn write from damage to synced data.
 */

import { fc, test } from "@fast-check/vitest";
import { bytesCodec } from "@lora/wal-codec";
import { describe, expect } from "vitest";
import type { WalFile, WalFileSystem } from "./fs/file-system.js";
import { SegmentWriter, UNSYNCED_WINDOW_BYTES } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";
import { wrapFileSystem } from "./testing/wrapped-fs.js";

/** Wraps a file system and records, for one file, the most bytes ever written and not yet covered by a sync. */
class WindowWatch {
  /** Ends of the writes done so far, in order; a sync covers the ones done when it started. */
  #written = 0;
  #synced = 0;
  maxUnsynced = 0;
  writes = 0;
  syncs = 0;

  wrap(inner: WalFileSystem): WalFileSystem {
    return wrapFileSystem(inner, (file) => this.#file(file));
  }

  #file(inner: WalFile): WalFile {
    const note = (bytes: number): void => {
      this.writes++;
      this.#written += bytes;
      this.maxUnsynced = Math.max(this.maxUnsynced, this.#written - this.#synced);
    };
    const file: WalFile = {
      path: inner.path,
      read: (...a) => inner.read(...a),
      write: async (data, position) => {
        note(data.byteLength);
        await inner.write(data, position);
      },
      datasync: async () => {
        const covered = this.#written;
        this.syncs++;
        await inner.datasync();
        this.#synced = Math.max(this.#synced, covered);
      },
      sync: async () => {
        const covered = this.#written;
        await inner.sync();
        this.#synced = Math.max(this.#synced, covered);
      },
      truncate: (n) => inner.truncate(n),
      size: () => inner.size(),
      close: () => inner.close(),
    };
    if (inner.writeSync !== undefined) {
      const writeSync = inner.writeSync.bind(inner);
      file.writeSync = (data, position) => {
        note(data.byteLength);
        writeSync(data, position);
      };
    }
    return file;
  }
}

const WINDOW = 8192;

describe("the unsynced window", () => {
  test.prop(
    [
      fc.array(
        fc.record({
          size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 3 * WINDOW })),
          after: fc.constantFrom("none", "writeNow", "write", "sync"),
        }),
        { minLength: 1, maxLength: 40 },
      ),
    ],
    { numRuns: 200 },
  )("never has more than maxUnsyncedBytes written and unsynced", async (steps) => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const watch = new WindowWatch();
    const fs = watch.wrap(sim);
    const writer = await SegmentWriter.create(fs, "/w/0000000001.wal", 1, { maxUnsyncedBytes: WINDOW });
    let lsn = 1;
    for (const step of steps) {
      writer.append({ kind: "txBegin", lsn }, bytesCodec);
      writer.append({ kind: "mutation", lsn: lsn + 1, txBeginLsn: lsn, event: new Uint8Array(step.size) }, bytesCodec);
      lsn += 2;
      if (step.after === "writeNow") {
        if (!writer.writeNow()) await writer.write();
      } else if (step.after === "write") await writer.write();
      else if (step.after === "sync") await writer.flush();
      expect(writer.unsyncedBytes).toBeLessThanOrEqual(WINDOW);
    }
    await writer.flush();
    await writer.close();
    expect(watch.maxUnsynced).toBeLessThanOrEqual(WINDOW);
  });

  test("a record larger than the window is written in window-sized pieces with a sync between them", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const watch = new WindowWatch();
    const writer = await SegmentWriter.create(watch.wrap(sim), "/w/0000000001.wal", 1, {
      maxUnsyncedBytes: WINDOW,
    });
    writer.append({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(10 * WINDOW) }, bytesCodec);
    expect(writer.writeNow()).toBe(false); // the synchronous path never exceeds the window
    await writer.write();
    expect(watch.maxUnsynced).toBe(WINDOW);
    expect(watch.syncs).toBeGreaterThanOrEqual(10);
    await writer.close();
  });

  test("a write the window holds back waits for the sync under way: not cut in two, no second sync", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const watch = new WindowWatch();
    const writer = await SegmentWriter.create(watch.wrap(sim), "/w/0000000001.wal", 1, {
      maxUnsyncedBytes: WINDOW,
    });
    const [writes, syncs] = [watch.writes, watch.syncs];
    // Over half the window written at once: a sync starts in the background.
    writer.append({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(5000) }, bytesCodec);
    expect(writer.writeNow()).toBe(true);
    // The next write fits the window only once that sync has completed.
    writer.append({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: new Uint8Array(4000) }, bytesCodec);
    expect(writer.writeNow()).toBe(false);
    await writer.write();
    expect(watch.writes - writes).toBe(2);
    expect(watch.syncs - syncs).toBe(1);
    expect(watch.maxUnsynced).toBeLessThanOrEqual(WINDOW);
    await writer.close();
  });

  test("the default window is 1 MiB and smaller windows than 4 KiB are refused", async () => {
    expect(UNSYNCED_WINDOW_BYTES).toBe(1 << 20);
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    for (const maxUnsyncedBytes of [100, 4095]) {
      await expect(SegmentWriter.create(sim, "/w/0000000001.wal", 1, { maxUnsyncedBytes })).rejects.toMatchObject({
        code: "WAL_INVALID_OPTION",
      });
    }
    expect(sim.listSync("/w")).toEqual([]);
    // 4 KiB itself is the smallest window accepted (CUT_STEP_BYTES relies on it).
    const writer = await SegmentWriter.create(sim, "/w/0000000001.wal", 1, { maxUnsyncedBytes: 4096 });
    await writer.close();
  });

  test("writeNow writes exactly up to the window and refuses one byte more", async () => {
    for (const over of [0, 1]) {
      const sim = new SimFS();
      sim.mkdirpSync("/w");
      const writer = await SegmentWriter.create(sim, "/w/0000000001.wal", 1, { maxUnsyncedBytes: WINDOW });
      // One record of exactly the window (its 25 framing bytes included), or one byte more.
      writer.append({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(WINDOW - 25 + over) }, bytesCodec);
      expect(writer.writeNow(), `${over} byte(s) over the window`).toBe(over === 0);
      expect(writer.unsyncedBytes).toBe(over === 0 ? WINDOW : 0);
      await writer.write();
      expect(writer.unsyncedBytes).toBeLessThanOrEqual(WINDOW);
      await writer.close();
    }
  });

  test("a bad buffer size or append offset is refused before any file is created or opened", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    for (const bufferBytes of [-1, Number.NaN, 1.5]) {
      await expect(SegmentWriter.create(sim, "/w/0000000001.wal", 1, { bufferBytes })).rejects.toMatchObject({
        code: "WAL_INVALID_OPTION",
      });
    }
    // Used to create and fsync the segment, then fail in the buffer's constructor with the file left open.
    expect(sim.listSync("/w")).toEqual([]);
    expect(sim.stats.opens).toBe(0);
    const writer = await SegmentWriter.create(sim, "/w/0000000001.wal", 1);
    await writer.close();
    const opens = sim.stats.opens;
    for (const offset of [Number.NaN, 40.5]) {
      await expect(SegmentWriter.openForAppend(sim, "/w/0000000001.wal", offset)).rejects.toMatchObject({
        code: "WAL_INVALID_ARGUMENT",
      });
    }
    expect(sim.stats.opens).toBe(opens);
  });
});
