/**
 * A sync round covers only the records written before its fdatasync began: a record written while an fdatasync runs
 * is acknowledged (`commitTx` in perCommit, `whenDurable`) only after a later fdatasync, whichever LSN it has, even
 * the one right after what the round covers.
 */

import { bytesCodec } from "@lora/wal-codec";
import type { OpenMode, WalFile } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { asyncMethodsOf, PassThroughFs } from "../test/pass-through-fs.js";
import type { SyncModeInput } from "./sync-mode.js";
import { Wal } from "./wal.js";

const SEGMENT = "/w/0000000001.wal";

/** A held step: `reached` resolves when the step gets to the hold, which lasts until `release()`. */
function gate(): { reached: Promise<void>; arrive: () => void; held: Promise<void>; release: () => void } {
  let arrive: () => void = () => undefined;
  let release: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { reached, arrive, held, release };
}

/** SimFS whose active segment numbers the end of each write and the start of each fdatasync. */
abstract class TracedSegmentFs extends PassThroughFs {
  seq = 0;
  writeEnds: number[] = [];
  syncStarts: number[] = [];
  /** The step the subclass holds next (an fdatasync or a write), once `holdNext` armed it. */
  protected hold: ReturnType<typeof gate> | undefined;

  /** Hold the segment's next held step; `reached` resolves once it is being held. */
  holdNext(): { reached: Promise<void>; release: () => void } {
    this.hold = gate();
    return this.hold;
  }

  /** The segment's file as the subclass changes it; every other call goes to `file`. */
  protected abstract traced(file: WalFile): Partial<WalFile>;

  override async open(path: string, mode: OpenMode): Promise<WalFile> {
    const file = await this.inner.open(path, mode);
    if (path !== SEGMENT) return file;
    return { ...asyncMethodsOf(file), ...this.traced(file) };
  }

  /** Whether an fdatasync started after the last write that had ended by `writesEnded` writes. */
  syncedAfterWrite(writesEnded: number): boolean {
    const writeEnd = this.writeEnds[writesEnded - 1];
    return writeEnd !== undefined && this.syncStarts.some((start) => start > writeEnd);
  }
}

/**
 * A traced segment that can hold one fdatasync after it has made the file durable (a slow fsync, during which the
 * handle goes on writing). No blocking fdatasync is offered, so every round runs on the thread pool.
 */
class HeldSyncFs extends TracedSegmentFs {
  protected traced(file: WalFile): Partial<WalFile> {
    return {
      writeSync: (data, position) => {
        file.writeSync?.(data, position);
        this.writeEnds.push(++this.seq);
      },
      write: async (data, position) => {
        await file.write(data, position);
        this.writeEnds.push(++this.seq);
      },
      datasync: async () => {
        this.syncStarts.push(++this.seq);
        await file.datasync();
        const hold = this.hold;
        if (hold === undefined) return;
        this.hold = undefined;
        hold.arrive();
        await hold.held;
      },
    };
  }
}

/**
 * A traced segment with no synchronous write (every write goes to the thread pool, and one can be held before it
 * reaches the file) but a blocking fdatasync: a blocking sync round may then run while a write is in flight.
 */
class HeldWriteFs extends TracedSegmentFs {
  protected traced(file: WalFile): Partial<WalFile> {
    return {
      write: async (data, position) => {
        const hold = this.hold;
        if (hold !== undefined) {
          this.hold = undefined;
          hold.arrive();
          await hold.held;
        }
        await file.write(data, position);
        this.writeEnds.push(++this.seq);
      },
      datasync: async () => {
        this.syncStarts.push(++this.seq);
        await file.datasync();
      },
      datasyncSync: () => {
        this.syncStarts.push(++this.seq);
        file.datasyncSync?.();
      },
    };
  }
}

/** Let the handle run (microtasks and a few turns), bounded by count, until `done()` holds. */
async function turnsUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(done()).toBe(true);
}

async function openHeld(syncMode: SyncModeInput = "perCommit"): Promise<{ fs: HeldSyncFs; wal: Wal<Uint8Array> }> {
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  const fs = new HeldSyncFs(sim);
  const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, blockingSync: false, syncMode });
  await wal.commitTx([new Uint8Array([0])]);
  return { fs, wal };
}

describe("a sync round", () => {
  it("does not cover a commit written while its fdatasync ran", async () => {
    const { fs, wal } = await openHeld();
    const hold = fs.holdNext();
    const first = wal.commitTx([new Uint8Array([1])]);
    await hold.reached;
    const writesBefore = fs.writeEnds.length;
    let syncedAtAck: boolean | undefined;
    const second = wal.commitTx([new Uint8Array([2])]).then((info) => {
      syncedAtAck = fs.syncedAfterWrite(writesBefore + 1);
      return info;
    });
    await turnsUntil(() => fs.writeEnds.length > writesBefore);
    hold.release();
    await Promise.all([first, second]);
    expect(syncedAtAck).toBe(true);
    await wal.close();
  });

  it("does not cover the LSN right after its own (a lone begin written while its fdatasync ran)", async () => {
    const { fs, wal } = await openHeld();
    const hold = fs.holdNext();
    const first = wal.commitTx([new Uint8Array([1])]);
    await hold.reached;
    const writesBefore = fs.writeEnds.length;
    const beginLsn = await wal.begin();
    let syncedAtAck: boolean | undefined;
    const durable = wal.whenDurable(beginLsn).then(() => {
      syncedAtAck = fs.syncedAfterWrite(writesBefore + 1);
    });
    await turnsUntil(() => fs.writeEnds.length > writesBefore);
    hold.release();
    const { commitLsn } = (await first) ?? { commitLsn: -1 };
    expect(beginLsn).toBe(commitLsn + 1);
    await durable;
    expect(syncedAtAck).toBe(true);
    await wal.commit(beginLsn);
    await wal.close();
  });

  it("in group mode, does not cover for whenDurable the LSN right after the synced one, written after it", async () => {
    const { fs, wal } = await openHeld({ mode: "group", intervalMs: 60_000 });
    await wal.sync();
    const writesBefore = fs.writeEnds.length;
    const beginLsn = await wal.begin();
    expect(beginLsn).toBe(wal.durableLsn() + 1);
    let syncedAtAck: boolean | undefined;
    const durable = wal.whenDurable(beginLsn).then(() => {
      syncedAtAck = fs.syncedAfterWrite(writesBefore + 1);
    });
    await turnsUntil(() => fs.writeEnds.length > writesBefore);
    await wal.sync();
    await durable;
    expect(syncedAtAck).toBe(true);
    await wal.commit(beginLsn);
    await wal.close();
  });

  it("asked for by sync() while one is in flight, is a new one: sync() waits for an fdatasync begun after the call", async () => {
    // `sync()` is a forced round (what a caller asks of fsync: also to hear of a writeback error since): the round in
    // flight, begun before the call, covers the LSNs but is not the fdatasync the call asked for.
    const { fs, wal } = await openHeld();
    const hold = fs.holdNext();
    const commit = wal.commitTx([new Uint8Array([1])]);
    await hold.reached;
    const calledAt = fs.seq;
    let syncedAfterCall: boolean | undefined;
    const synced = wal.sync().then(() => {
      syncedAfterCall = fs.syncStarts.some((start) => start > calledAt);
    });
    hold.release();
    await Promise.all([commit, synced]);
    expect(syncedAfterCall).toBe(true);
    await wal.close();
  });

  it("run blocking while a write is in flight, covers only what was written before it", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const fs = new HeldWriteFs(sim);
    const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, blockingSync: true });
    await wal.commitTx([new Uint8Array([0])]);
    const hold = fs.holdNext();
    const writesBefore = fs.writeEnds.length;
    let syncedAtAck: boolean | undefined;
    const commit = wal.commitTx([new Uint8Array([1])]).then((info) => {
      syncedAtAck = fs.syncedAfterWrite(writesBefore + 1);
      return info;
    });
    await hold.reached;
    // A second request while the write is held: it asks for a (blocking) sync round, which runs before the write ends.
    const durable = wal.whenDurable(wal.nextLsn() - 1);
    const syncsBefore = fs.syncStarts.length;
    await turnsUntil(() => fs.syncStarts.length > syncsBefore);
    hold.release();
    await Promise.all([commit, durable]);
    expect(syncedAtAck).toBe(true);
    await wal.close();
  });
});
