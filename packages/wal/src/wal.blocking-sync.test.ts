/**
 * `blockingSync`: fdatasync on the event-loop thread. The guarantees are perCommit's (an acknowledged commit is in
 * the durable image), concurrent commits still share sync rounds, a failed fsync poisons, and a seam without a
 * blocking fdatasync falls back to the thread pool. `"auto"`, the default, blocks while fsyncs are quick.
 */

import { bytesCodec, isWalError } from "@lora/wal-codec";
import type { OpenMode, WalFile } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it, vi } from "vitest";
import { PassThroughFs } from "../test/pass-through-fs.js";
import { useTempDirs } from "../test/support.js";
import { withTestingHooks } from "./testing/index.js";
import type { WalTestingClock } from "./testing-hooks.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();
const payload = (i: number) => new Uint8Array(100).fill(i & 0xff);

/**
 * SimFS whose segment files count blocking and thread-pool fdatasyncs, optionally hiding the blocking one (the spare
 * segment's zero-fill, made before it is a segment, is not counted: it is no commit's sync).
 */
class CountingFs extends PassThroughFs {
  blocking = 0;
  pooled = 0;
  /** Each blocking fdatasync takes at least this long (a slow disk). */
  blockingMs = 0;
  /** Each thread-pool fdatasync takes at least this long. */
  pooledMs = 0;
  constructor(
    inner: SimFS,
    readonly offerBlocking = true,
  ) {
    super(inner);
  }
  override async open(path: string, mode: OpenMode): Promise<WalFile> {
    const file = await this.inner.open(path, mode);
    if (!path.endsWith(".wal")) return file;
    const wrapped: WalFile = {
      path: file.path,
      read: (b, o, l, p) => file.read(b, o, l, p),
      write: (d, p) => file.write(d, p),
      writeSync: (d, p) => file.writeSync?.(d, p),
      datasync: async () => {
        this.pooled++;
        if (this.pooledMs > 0) await new Promise((resolve) => setTimeout(resolve, this.pooledMs));
        return file.datasync();
      },
      sync: () => file.sync(),
      truncate: (n) => file.truncate(n),
      size: () => file.size(),
      close: () => file.close(),
    };
    if (!this.offerBlocking) return wrapped;
    return {
      ...wrapped,
      datasyncSync: () => {
        this.blocking++;
        if (this.blockingMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.blockingMs);
        file.datasyncSync?.();
      },
    };
  }
}

/** Events of the log as a crash that keeps only fsynced data would leave it. */
async function durableEvents(sim: SimFS): Promise<number[]> {
  const { wal, events } = await Wal.open("/w", { fs: sim.durableImage(), codec: bytesCodec });
  await wal.close();
  return events.map((e) => e[0] as number);
}

/**
 * A clock that never moves: every sync round takes 0 ms on it, so `"auto"` blocks every round. On Node's clock a
 * round the machine stalled past 1 ms (the process descheduled) sends the next one to the thread pool.
 */
const STILL_CLOCK: WalTestingClock = { now: () => 0, interval: () => () => undefined };

/**
 * A new log on SimFS through a {@link CountingFs}, opened with `options` (no `blockingSync`: the default), its sync
 * rounds timed on `clock` when one is given.
 */
async function openCounting(
  options: { blockingSync?: boolean | "auto" },
  offerBlocking = true,
  clock?: WalTestingClock,
) {
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  const fs = new CountingFs(sim, offerBlocking);
  const walOptions = { fs, codec: bytesCodec, ...options };
  const { wal } = await Wal.open("/w", clock === undefined ? walOptions : withTestingHooks(walOptions, { clock }));
  return { sim, fs, wal };
}

/** {@link openCounting} with `blockingSync` (true unless given). */
const openBlocking = (offerBlocking = true, blockingSync: boolean | "auto" = true, clock?: WalTestingClock) =>
  openCounting({ blockingSync }, offerBlocking, clock);

/** A log opened with no `blockingSync` option at all (the default). */
const openDefault = () => openCounting({});

describe("blockingSync", () => {
  it("acknowledges a commit only once it is in the durable image, using the blocking fdatasync", async () => {
    const { sim, fs, wal } = await openBlocking();
    for (let i = 1; i <= 5; i++) {
      await wal.commitTx([payload(i)]);
      expect(await durableEvents(sim)).toEqual(Array.from({ length: i }, (_, k) => k + 1));
      expect(wal.durableLsn()).toBe(wal.nextLsn() - 1);
    }
    expect(fs.blocking).toBe(5);
    expect(fs.pooled).toBe(0);
    await wal.close();
  });

  it("concurrent commits in one turn share a sync round, and each is durable when it resolves", async () => {
    const { sim, fs, wal } = await openBlocking();
    const before = sim.stats.datasyncs;
    const durableAtAck: boolean[] = [];
    await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const info = await wal.commitTx([payload(i)]);
        durableAtAck.push(info !== null && wal.durableLsn() >= info.commitLsn);
      }),
    );
    expect(durableAtAck).toEqual(Array(64).fill(true));
    expect(sim.stats.datasyncs - before).toBe(1);
    expect([fs.blocking, fs.pooled]).toEqual([1, 0]);
    expect((await durableEvents(sim)).sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    await wal.close();
  });

  it("flush, sync and whenDurable use the blocking fdatasync too", async () => {
    const { sim, fs, wal } = await openBlocking();
    const tx = await wal.begin();
    await wal.append(tx, payload(1));
    const commitLsn = await wal.commit(tx);
    await wal.whenDurable(commitLsn);
    expect(await durableEvents(sim)).toEqual([1]);
    await wal.sync();
    await wal.flush();
    expect(fs.pooled).toBe(0);
    expect(fs.blocking).toBeGreaterThanOrEqual(2);
    await wal.close();
  });

  it("a failed blocking fdatasync rejects the commit with WAL_IO and poisons the handle", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const { wal } = await Wal.open("/w", { fs: sim, codec: bytesCodec, blockingSync: true });
    await wal.commitTx([payload(1)]);
    sim.injectFault({ op: "datasync", errno: "EIO" });
    const failed = await wal.commitTx([payload(2)]).catch((e: unknown) => e);
    expect(isWalError(failed, "WAL_IO")).toBe(true);
    const after = await wal.commitTx([payload(3)]).catch((e: unknown) => e);
    expect(isWalError(after, "WAL_POISONED")).toBe(true);
    expect(wal.bgFailure()).not.toBeNull();
    await wal.close().catch(() => undefined);
    sim.clearFaults();
    expect(await durableEvents(sim)).toEqual([1]);
  });

  it("falls back to the thread pool when the file system has no blocking fdatasync", async () => {
    const { sim, fs, wal } = await openBlocking(false);
    await wal.commitTx([payload(1)]);
    expect(fs.pooled).toBeGreaterThanOrEqual(1);
    expect(fs.blocking).toBe(0);
    expect(await durableEvents(sim)).toEqual([1]);
    await wal.close();
  });

  it("on the real file system, commits from concurrent writers all survive a reopen", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { codec: bytesCodec, blockingSync: true, segmentTargetBytes: 4096 });
    await Promise.all(
      Array.from({ length: 10 }, async (_, w) => {
        for (let k = 0; k < 20; k++) await wal.commitTx([payload(w * 20 + k)]);
      }),
    );
    expect(wal.activeSegmentId()).toBeGreaterThan(1);
    await wal.close();
    const reopened = await Wal.open(dir, { codec: bytesCodec });
    expect(reopened.events.map((e) => e[0]).sort((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: 200 }, (_, i) => i & 0xff).sort((a, b) => a - b),
    );
    await reopened.wal.close();
  });

  it("by default (auto) the first round blocks, and a round after one slower than 1 ms goes to the thread pool", async () => {
    const { sim, fs, wal } = await openDefault();
    fs.blockingMs = 3; // a slow disk: each blocking round takes 3 ms
    await wal.commitTx([payload(1)]);
    expect([fs.blocking, fs.pooled]).toEqual([1, 0]);
    await wal.commitTx([payload(2)]);
    expect([fs.blocking, fs.pooled]).toEqual([1, 1]);
    // Each acknowledged commit is durable, whichever way its round ran.
    expect(await durableEvents(sim)).toEqual([1, 2]);
    await wal.close();
  });

  it("auto keeps every round of a disk whose every fsync is slow on the thread pool after the first", async () => {
    const { fs, wal } = await openBlocking(true, "auto");
    fs.blockingMs = 3;
    fs.pooledMs = 3;
    for (let i = 1; i <= 6; i++) await wal.commitTx([payload(i)]);
    expect([fs.blocking, fs.pooled]).toEqual([1, 5]);
    await wal.close();
  });

  it("auto never blocks two rounds in a row when each blocking fsync is slow", async () => {
    const { fs, wal } = await openBlocking(true, "auto");
    fs.blockingMs = 3;
    // The pool's rounds on SimFS may be quick, so auto may try blocking again after each; every such try is slow
    // again, so at most every other round blocks.
    for (let i = 1; i <= 9; i++) await wal.commitTx([payload(i)]);
    expect(fs.blocking + fs.pooled).toBe(9);
    expect(fs.blocking).toBeLessThanOrEqual(5);
    await wal.close();
  });

  // Under "auto" only the first round is sure to block: a later one goes to the pool when the machine stalled the
  // previous one past 1 ms, so the count of blocking rounds there depends on the machine's speed. `true` pins the
  // blocking path on every round.
  it.each([
    [true, 3],
    ["auto", 1],
  ] as const)(
    "with %s, commits resolve under a test suite's fake timers (a blocking round waits for a turn, not a timer)",
    async (blockingSync, leastBlocking) => {
      vi.useFakeTimers();
      try {
        const { sim, fs, wal } = await openCounting({ blockingSync });
        for (let i = 1; i <= 3; i++) await wal.commitTx([payload(i)]);
        expect(fs.blocking).toBeGreaterThanOrEqual(leastBlocking);
        expect(fs.blocking + fs.pooled).toBe(3);
        expect(await durableEvents(sim)).toEqual([1, 2, 3]);
        await wal.close();
      } finally {
        vi.useRealTimers();
      }
    },
  );

  it.each([true, "auto"] as const)(
    "with %s, a loop of awaited commits still lets the event loop turn between rounds",
    async (blockingSync) => {
      // Rounds timed on a still clock: with "auto", which rounds block is then not the machine's speed (a stall past
      // 1 ms in most rounds, under load, left fewer than 100 of 200 blocking).
      const { fs, wal } = await openBlocking(true, blockingSync, STILL_CLOCK);
      let turns = 0;
      let ticking = true;
      const tick = (): void => {
        turns++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      for (let i = 0; i < 200; i++) await wal.commitTx([payload(i)]);
      ticking = false;
      // Rounds run from the check phase: the ticker runs about once per round (never, were they run in microtasks).
      expect(fs.blocking).toBeGreaterThan(100);
      expect(turns).toBeGreaterThanOrEqual(fs.blocking - 1);
      await wal.close();
    },
  );

  it("false keeps every round on the thread pool", async () => {
    const { sim, fs, wal } = await openBlocking(true, false);
    for (let i = 1; i <= 3; i++) await wal.commitTx([payload(i)]);
    expect([fs.blocking, fs.pooled]).toEqual([0, 3]);
    expect(await durableEvents(sim)).toEqual([1, 2, 3]);
    await wal.close();
  });

  it("refuses a value other than a boolean or auto with WAL_INVALID_OPTION", async () => {
    const dir = await tempDir();
    const error = await Wal.open(dir, { blockingSync: "yes" as unknown as boolean }).catch((e: unknown) => e);
    expect(isWalError(error, "WAL_INVALID_OPTION")).toBe(true);
  });
});
