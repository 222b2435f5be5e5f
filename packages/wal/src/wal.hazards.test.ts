/**
 * One group per item of docs/durability.md, 'Where this log differs from LoraDB's engine' (3.n is item n).
 */

import { appendFile, readFile, stat, writeFile } from "node:fs/promises";
import { encodeRecord } from "@lora/wal-codec";
import { createNodeFileSystem, readDurableMark, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it, vi } from "vitest";
import { ev, useTempDirs } from "../test/support.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();
/** A 4 KiB unsynced window, so a small log has bytes before it (the default window is 1 MiB). */
const WINDOW = { unsyncedWindowBytes: 4096 } as const;
const nodeFs = createNodeFileSystem();

async function writeTxs(dir: string, n: number, options: Parameters<typeof Wal.open>[1] = {}) {
  const { wal } = await Wal.open(dir, options);
  for (let i = 0; i < n; i++) await wal.commitTx([ev(i)]);
  await wal.close();
}

describe("3.1 torn tail versus corruption", () => {
  it("interior corruption of the active segment is refused, never cut (Rust truncated it silently)", async () => {
    // Damage before the unsynced window (here 4 KiB) lies in bytes an fsync covered.
    const dir = await tempDir();
    await writeTxs(dir, 60, WINDOW);
    const path = segmentPath(dir, 1);
    const bytes = await readFile(path);
    expect(bytes.byteLength).toBeGreaterThan(2 * 4096);
    bytes[32 + 25 + 30] = (bytes[32 + 25 + 30] as number) ^ 0x04; // inside the first transaction's batch
    await writeFile(path, bytes);
    await expect(Wal.open(dir, WINDOW)).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      cause: { code: "WAL_CRC_MISMATCH" },
    });
    expect((await stat(path)).size).toBe(bytes.byteLength);
    expect(await readFile(path)).toEqual(bytes);
  });

  it("the same damage within the last unsynced window opens as a torn tail: a torn write whose later sectors landed", async () => {
    const dir = await tempDir();
    // No durable mark says these bytes were fsynced (a writer that publishes none, as LoraDB's engine): with one, its
    // binding shows they were, and the same flip is corruption (wal.durable-mark-binding.test.ts).
    await writeTxs(dir, 5, { publishDurableLsn: false });
    const path = segmentPath(dir, 1);
    const bytes = await readFile(path);
    bytes[32 + 25 + 30] = (bytes[32 + 25 + 30] as number) ^ 0x04;
    await writeFile(path, bytes);
    const { wal, events, tornTail, healed } = await Wal.open(dir);
    expect(events).toEqual([]);
    expect(tornTail).toMatchObject({ offset: 32 + 25, droppedBytes: bytes.byteLength - 57 });
    expect(healed[0]).toMatchObject({ kind: "tornTailTruncated", offset: 57 });
    await wal.close();
  });

  it("a CRC-valid record whose payload does not decode is corruption, not a tail (Rust cut it)", async () => {
    const dir = await tempDir();
    await writeTxs(dir, 2);
    const path = segmentPath(dir, 1);
    const size = (await stat(path)).size;
    // A future writer's mutation tag 99, framed correctly.
    const alien = encodeRecord(
      { kind: "mutation", lsn: 7, txBeginLsn: 4, event: new Uint8Array([0x4c, 0x57, 0x31, 0x00, 99]) },
      {
        name: "raw",
        encodeEvent: (e: Uint8Array, out) => out.raw(e),
        encodeBatch: () => undefined,
        decodeEvent: (p) => p,
        decodeBatch: () => [],
      },
    );
    await appendFile(path, alien);
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: "WAL_CORRUPT", cause: { code: "WAL_DECODE" } });
    expect((await stat(path)).size).toBe(size + alien.byteLength);
  });

  it("point-in-time keeps what precedes the damage and moves the rest to .broken", async () => {
    const dir = await tempDir();
    await writeTxs(dir, 60, WINDOW);
    const path = segmentPath(dir, 1);
    const bytes = await readFile(path);
    const cut = 32 + 3 * 25 + 81 + 4; // inside the second transaction
    const second = 32 + 2 * 25 + 81 + 25 - 25; // start of its TxBegin
    bytes[second + 30] = 0;
    await writeFile(path, bytes);
    const { wal, events, healed } = await Wal.open(dir, { ...WINDOW, recovery: "point-in-time" });
    expect(events).toEqual([ev(0)]);
    expect(healed[0]).toMatchObject({ kind: "corruptionCut", segment: path });
    const action = healed[0];
    if (action?.kind !== "corruptionCut" || action.brokenCopy === null) {
      throw new Error(`expected a corruption cut with a copy, got ${JSON.stringify(action)}`);
    }
    expect(await readFile(action.brokenCopy)).toEqual(bytes.subarray(action.offset));
    expect(action.offset).toBeLessThan(cut);
    await wal.commitTx([ev(42)]);
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.events).toEqual([ev(0), ev(42)]);
    await again.wal.close();
  });

  it("absolute mode refuses even a torn tail", async () => {
    const dir = await tempDir();
    await writeTxs(dir, 1);
    await appendFile(segmentPath(dir, 1), new Uint8Array([1, 2, 3]));
    await expect(Wal.open(dir, { recovery: "absolute" })).rejects.toMatchObject({ code: "WAL_TORN_TAIL" });
    const { wal, healed } = await Wal.open(dir);
    expect(healed).toHaveLength(1);
    await wal.close();
  });
});

describe("3.3 a crash mid-rotation heals", () => {
  it("a sealed newest segment gets its successor (Rust: 'segment is sealed; cannot append')", async () => {
    const dir = await tempDir();
    await writeTxs(dir, 2);
    // The crash came between seal() and creating segment 2.
    const writer = await SegmentWriter.openForAppend(
      nodeFs,
      segmentPath(dir, 1),
      (await stat(segmentPath(dir, 1))).size,
    );
    await writer.seal();
    await writer.close();
    const { wal, events, healed } = await Wal.open(dir);
    expect(events).toEqual([ev(0), ev(1)]);
    expect(healed).toEqual([
      { kind: "sealedSegmentSucceeded", sealed: segmentPath(dir, 1), created: segmentPath(dir, 2) },
    ]);
    expect(wal.activeSegmentId()).toBe(2);
    await wal.commitTx([ev(2)]);
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.events).toEqual([ev(0), ev(1), ev(2)]);
    await again.wal.close();
  });

  it("a newest segment too short for its header is removed and recreated (Rust: UnexpectedEof)", async () => {
    const dir = await tempDir();
    await writeTxs(dir, 1, { segmentTargetBytes: 64 });
    const s1 = await SegmentWriter.openForAppend(nodeFs, segmentPath(dir, 1), (await stat(segmentPath(dir, 1))).size);
    await s1.seal();
    await s1.close();
    await writeFile(segmentPath(dir, 2), new Uint8Array(13));
    const { wal, events, healed } = await Wal.open(dir);
    expect(events).toEqual([ev(0)]);
    expect(healed.map((h) => h.kind)).toEqual(["headerlessSegmentRemoved", "sealedSegmentSucceeded"]);
    expect(wal.activeSegmentId()).toBe(2);
    await wal.commitTx([ev(1)]);
    await wal.close();
    expect((await Wal.open(dir)).events).toHaveLength(2);
  });
});

describe("3.4 nextLsn at open", () => {
  it("is at least the active segment's base LSN (Rust used maxLsn + 1 only)", async () => {
    const dir = await tempDir();
    await writeTxs(dir, 1); // LSNs 1..3
    const s1 = await SegmentWriter.openForAppend(nodeFs, segmentPath(dir, 1), (await stat(segmentPath(dir, 1))).size);
    await s1.seal();
    await s1.close();
    // A rotation after an LSN gap left an empty segment based at 100.
    await (await SegmentWriter.create(nodeFs, segmentPath(dir, 2), 100)).close();
    const { wal } = await Wal.open(dir);
    expect(wal.nextLsn()).toBe(100);
    await wal.commitTx([ev(1)]);
    await wal.close();
    const again = await Wal.open(dir); // Rust would now fail: record lsn 4 is below segment base_lsn 100
    expect(again.events).toEqual([ev(0), ev(1)]);
    await again.wal.close();
  });

  it("is above the fence, so new records are not skipped by the next recovery (Rust reused LSNs below it)", async () => {
    const dir = await tempDir();
    await writeTxs(dir, 1); // LSNs 1..3, then the snapshot at LSN 50 comes from a replaced WAL
    const { wal } = await Wal.open(dir, { checkpointLsn: 50 });
    expect(wal.nextLsn()).toBe(51);
    await wal.commitTx([ev(7)]);
    await wal.close();
    const again = await Wal.open(dir, { checkpointLsn: 50 });
    expect(again.events).toEqual([ev(7)]);
    await again.wal.close();
  });
});

describe("3.5 any failed write or fsync poisons", () => {
  async function simWal(options: Parameters<typeof Wal.open>[1] = {}) {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const { wal } = await Wal.open("/w", { fs, ...options });
    return { fs, wal };
  }

  it("a failed fdatasync rejects the commit, poisons with the first failure as cause, and close releases the lock", async () => {
    const { fs, wal } = await simWal();
    await wal.commitTx([ev(1)]);
    fs.injectFault({ op: "datasync", errno: "EIO" });
    await expect(wal.commitTx([ev(2)])).rejects.toMatchObject({ code: "WAL_IO", details: { errno: "EIO" } });
    expect(wal.bgFailure()).toMatch(/EIO|I\/O/);
    const poisoned = await wal.commitTx([ev(3)]).catch((e: unknown) => e);
    expect(poisoned).toMatchObject({ code: "WAL_POISONED", cause: { code: "WAL_IO" } });
    for (const call of [() => wal.begin(), () => wal.flush(), () => wal.forceFsync(), () => wal.checkpointMarker(1)]) {
      await expect(call()).rejects.toMatchObject({ code: "WAL_POISONED" });
    }
    const writesBefore = fs.stats.writes;
    await wal.close(); // skips the final write: the buffer is not trusted
    expect(fs.stats.writes).toBe(writesBefore);
    // fsyncgate: the failed sync's data never becomes durable, even though the next fsync would succeed.
    const { wal: reopened, events } = await Wal.open("/w", { fs: fs.durableImage() });
    expect(events).toEqual([ev(1)]);
    await reopened.close();
    const again = await Wal.open("/w", { fs }); // the lock was released
    await again.wal.close();
  });

  it.each([false, true])(
    "a failed fdatasync moves nothing durable: fsyncedLsn, durableLsn, the mark and `durable` stay (blockingSync %s)",
    async (blockingSync) => {
      // A round that reported its LSN synced after its fdatasync failed would tell followers (the mark) and archiving
      // (`durable`) that records are safe which fsyncgate may have dropped.
      const { fs, wal } = await simWal({ blockingSync });
      const good = await wal.commitTx([ev(1)]);
      const durable: number[] = [];
      wal.onLifecycle((event) => {
        if (event.type === "durable") durable.push(event.lsn);
      });
      fs.injectFault({ op: "datasync", errno: "EIO" });
      await expect(wal.commitTx([ev(2)])).rejects.toMatchObject({ code: "WAL_IO" });
      expect(wal.fsyncedLsn()).toBe(good?.commitLsn);
      expect(wal.durableLsn()).toBe(good?.commitLsn);
      expect(durable).toEqual([]);
      expect((await readDurableMark(fs, "/w"))?.durableLsn).toBe(good?.commitLsn);
      await wal.close();
    },
  );

  it("after a failed fsync, the next open makes what it recovered durable before acknowledging more", async () => {
    // fsyncgate: the kernel keeps the failed write's pages but marks them clean, so a later fsync alone would not
    // persist them and a later durable commit would sit after a hole. Found by the model-based test.
    const { fs, wal } = await simWal();
    fs.injectFault({ op: "datasync", errno: "EIO" });
    await expect(wal.commitTx([ev(1)])).rejects.toMatchObject({ code: "WAL_IO" });
    await wal.close();
    const reopened = await Wal.open("/w", { fs });
    expect(reopened.events).toEqual([ev(1)]); // still in the page cache
    await reopened.wal.commitTx([ev(2)]);
    const { events } = await Wal.open("/w", { fs: fs.durableImage() });
    expect(events).toEqual([ev(1), ev(2)]);
    await reopened.wal.close();
  });

  it("a failed write poisons (no retry over a half-written buffer)", async () => {
    // The fault hits the next write: the records' own, with no zero-fill ahead of it (a failed fill only ends
    // preallocation, see segment-writer.preallocate.test.ts).
    const { fs, wal } = await simWal({ preallocateBytes: 0 });
    fs.injectFault({ op: "write", errno: "ENOSPC", partialBytes: 10 });
    await expect(wal.commitTx([ev(1)])).rejects.toMatchObject({ code: "WAL_IO", details: { errno: "ENOSPC" } });
    await expect(wal.commitTx([ev(2)])).rejects.toMatchObject({ code: "WAL_POISONED" });
    await wal.close();
    const { wal: w2, events, tornTail } = await Wal.open("/w", { fs });
    expect(events).toEqual([]);
    expect(tornTail?.droppedBytes).toBe(10);
    await w2.close();
  });

  it("every concurrent caller affected by a failed fsync is rejected; none is acknowledged after it", async () => {
    const { fs, wal } = await simWal();
    fs.injectFault({ op: "datasync", errno: "EIO" });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => wal.commitTx([ev(i)])));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    await wal.close();
  });

  it("a failed background fsync in group mode poisons too", async () => {
    const { fs, wal } = await simWal({ syncMode: { mode: "group", intervalMs: 5 } });
    fs.injectFault({ op: "datasync", errno: "EIO" });
    const info = await wal.commitTx([ev(1)]);
    // The flusher's failure reaches the waiting caller as the poison, with the I/O error as its cause.
    await expect(wal.whenDurable(info?.commitLsn ?? 0)).rejects.toMatchObject({
      code: "WAL_POISONED",
      cause: { code: "WAL_IO" },
    });
    expect(wal.bgFailure()).not.toBeNull();
    await expect(wal.commitTx([ev(2)])).rejects.toMatchObject({ code: "WAL_POISONED" });
    // The acknowledged commit 1 was never fsynced: close cannot promise it survives a power loss, and says so.
    await expect(wal.close()).rejects.toMatchObject({ code: "WAL_POISONED", cause: { code: "WAL_IO" } });
  });

  it("a failed rotation poisons", async () => {
    const { fs, wal } = await simWal({ segmentTargetBytes: 64 });
    await wal.commitTx([ev(1)]);
    fs.injectFault({ op: "open", path: /0000000002\.wal$/, errno: "ENOSPC" });
    await expect(wal.commitTx([ev(2)])).rejects.toMatchObject({ code: "WAL_IO" });
    await expect(wal.begin()).rejects.toMatchObject({ code: "WAL_POISONED" });
    await wal.close();
  });
});

describe("3.6 the group flusher", () => {
  it("skips idle fsyncs and its timer never keeps the process alive", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    // The fake setInterval is wrapped by hand, not with vi.spyOn: vitest restores its spies again when the file ends,
    // which would put the fake (uninstalled by then) back as the global for every later file in the same worker.
    const fakeSetInterval = globalThis.setInterval;
    const timers: NodeJS.Timeout[] = [];
    globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
      const timer = fakeSetInterval(...args);
      timers.push(timer);
      return timer;
    }) as typeof setInterval;
    try {
      const fs = new SimFS();
      fs.mkdirpSync("/w");
      const { wal } = await Wal.open("/w", { fs, syncMode: { mode: "group", intervalMs: 10 } });
      const timer = timers.at(-1) as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
      const idle = fs.stats.datasyncs;
      await vi.advanceTimersByTimeAsync(1000);
      expect(fs.stats.datasyncs).toBe(idle);
      const info = await wal.commitTx([ev(1)]);
      expect(fs.stats.datasyncs).toBe(idle);
      await vi.advanceTimersByTimeAsync(10);
      await wal.whenDurable(info?.commitLsn ?? 0);
      expect(fs.stats.datasyncs).toBe(idle + 1);
      await vi.advanceTimersByTimeAsync(1000);
      expect(fs.stats.datasyncs).toBe(idle + 1);
      await wal.close();
    } finally {
      globalThis.setInterval = fakeSetInterval;
      vi.useRealTimers();
    }
  });
});
