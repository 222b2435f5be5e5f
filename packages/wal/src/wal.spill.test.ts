/**
 * Long runs of buffered appends hand the buffer to the OS before it grows to a segment ("spill"), and hold back when
 * it cannot keep up. Written is not durable and not committed: a crash keeps nothing of an open transaction, and a
 * failed spill poisons the handle.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { settlesWithinTurns } from "@lora/test-utils";
import { bytesCodec, isWalError } from "@lora/wal-codec";
import type { WalFile } from "@lora/wal-segment";
import { boundProperty, SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const event = new Uint8Array(1000).fill(9);

/** Run `body` with a fresh directory of real files, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lora-wal-spill-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const SPILL_BYTES = 512 * 1024;

/**
 * A SimFS whose fdatasync completes the way the real one does, on a later turn of the event loop (libuv's thread
 * pool reports it in the poll phase), and only once `hold` (if given) has resolved.
 */
function simWithLateSyncs(hold?: () => Promise<void>): { sim: SimFS; fs: ReturnType<typeof wrapFileSystem> } {
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  const wrapFile = (file: WalFile): WalFile =>
    new Proxy(file, {
      get(target, key) {
        if (key === "datasync") {
          return async () => {
            await new Promise<void>((resolve) => setImmediate(resolve));
            await hold?.();
            return target.datasync();
          };
        }
        return boundProperty(target, key);
      },
    });
  return { sim, fs: wrapFileSystem(sim, wrapFile) };
}

/**
 * Append one event at a time, at most `limit` times, until an append is refused: it must be WAL_IO (the failed
 * write's), and the handle poisoned after it.
 */
async function appendUntilRefused(wal: Wal<Uint8Array>, tx: number, limit: number): Promise<void> {
  let failure: unknown;
  for (let i = 0; i < limit && failure === undefined; i++) {
    failure = await wal.appendBatch(tx, [event]).then(
      () => undefined,
      (e: unknown) => e,
    );
  }
  expect(isWalError(failure, "WAL_IO")).toBe(true);
  const after = await wal.commit(tx).catch((e: unknown) => e);
  expect(isWalError(after, "WAL_POISONED")).toBe(true);
  await wal.close().catch(() => undefined);
}

describe("buffered appends spill to the OS", () => {
  it("writes a long open transaction before its commit, and a crash then keeps none of it", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const { wal } = await Wal.open("/w", { fs: sim, codec: bytesCodec });
    const tx = await wal.begin();
    const writesBefore = sim.stats.writes;
    for (let i = 0; i < 1500; i++) await wal.appendBatch(tx, [event]); // ~1.5 MB, more than the spill size
    expect(sim.stats.writes).toBeGreaterThan(writesBefore);
    expect(sim.readFileSync("/w/0000000001.wal").byteLength).toBeGreaterThan(512 * 1024);

    for (const image of sim.crashImages({ maxImages: 6, seed: 3 })) {
      const r = await Wal.open("/w", { fs: image.fs, codec: bytesCodec });
      expect(r.events).toEqual([]);
      await r.wal.close();
    }

    await wal.commit(tx);
    await wal.flush();
    await wal.close();
    const reopened = await Wal.open("/w", { fs: sim.durableImage(), codec: bytesCodec });
    expect(reopened.events.length).toBe(1500);
    await reopened.wal.close();
  });

  it("a failed spill rejects the append with WAL_IO and poisons the handle", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    // The fault hits the spill's own write, with no zero-fill ahead of it (a failed fill only ends preallocation).
    const { wal } = await Wal.open("/w", { fs: sim, codec: bytesCodec, preallocateBytes: 0 });
    const tx = await wal.begin();
    sim.injectFault({ op: "write", errno: "ENOSPC", partialBytes: 100 });
    await appendUntilRefused(wal, tx, 1500);
  });

  // On real files: the window's fsync completes only when the event loop turns, which SimFS does not need.
  it("a loop of appends that never yields to the event loop keeps a few MiB buffered, not a segment", () =>
    inTempDir(async (dir) => {
      const { wal } = await Wal.open(dir, { codec: bytesCodec, segmentTargetBytes: 64 * 1024 * 1024 });
      const tx = await wal.begin();
      let most = 0;
      for (let i = 0; i < 12_000; i++) {
        await wal.appendBatch(tx, [event]); // ~12 MB in all; a call that leaves 2 MiB buffered resolves once it is written
        most = Math.max(most, wal.ioStats().bufferedBytes);
      }
      expect(most).toBeLessThanOrEqual(2 * 1024 * 1024 + 2 * event.byteLength);
      await wal.commit(tx);
      await wal.close();
      const { events, wal: again } = await Wal.open(dir, { codec: bytesCodec });
      expect(events.length).toBe(12_000);
      await again.close();
    }));

  it("a held-back spill writes on the next turn once the window's fsync has landed: about one spill buffered", async () => {
    const { fs } = simWithLateSyncs();
    const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, preallocateBytes: 0 });
    const tx = await wal.begin();
    let most = 0;
    for (let i = 0; i < 6000; i++) {
      await wal.appendBatch(tx, [event]); // ~6 MB; every spill after the first waits for the previous one's fsync
      most = Math.max(most, wal.ioStats().bufferedBytes);
    }
    // The first append held back takes the turn, and the spill then writes: never more than a record past the spill
    // size (without the turn the buffer grew to the 2 MiB hold-back before the fsync was seen).
    expect(most).toBeLessThan(SPILL_BYTES + 2 * (event.byteLength + 64));
    await wal.commit(tx);
    await wal.close();
    const { events, wal: again } = await Wal.open("/w", { fs, codec: bytesCodec });
    expect(events.length).toBe(6000);
    await again.close();
  });

  it("while the window's fsync is slow, appends go on buffering to the hold-back instead of waiting for it", async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const { fs } = simWithLateSyncs(() => (holding ? held : Promise.resolve()));
    const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, preallocateBytes: 0 });
    const tx = await wal.begin();
    holding = true;
    // Each append resolves (some after a turn) until 2 MiB wait to be written; the one that reaches that waits for
    // the write. "Not settled" is judged after three turns of the event loop (an append's own turn takes one).
    let resolved = 0;
    let waiting: Promise<number> | undefined;
    for (let i = 0; i < 6000 && waiting === undefined; i++) {
      const call = wal.appendBatch(tx, [event]);
      if (await settlesWithinTurns(call, 3)) resolved++;
      else waiting = call;
    }
    expect(waiting).toBeDefined();
    // The first spill (~0.5 MiB) was written in line; 2 MiB more were appended, and resolved, behind the slow fsync.
    // (Counted in events: each record adds a few dozen bytes of framing to the 1000.)
    expect(resolved * event.byteLength).toBeGreaterThan(4 * SPILL_BYTES);
    expect(resolved * event.byteLength).toBeLessThan(6 * SPILL_BYTES);
    holding = false;
    release();
    await waiting;
    await wal.commit(tx);
    await wal.close();
  });

  it("a spill that fails on its turn rejects that append with WAL_IO and poisons the handle", async () => {
    const { sim, fs } = simWithLateSyncs();
    const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, preallocateBytes: 0 });
    const tx = await wal.begin();
    // The first spill writes in line (nothing unsynced yet); the second is held back and written on a turn.
    let i = 0;
    for (; wal.ioStats().bufferedBytes < SPILL_BYTES / 2 || i < 600; i++) await wal.appendBatch(tx, [event]);
    sim.injectFault({ op: "write", errno: "EIO" });
    await appendUntilRefused(wal, tx, 3000 - i);
  });

  it("a close issued while an append waits for its turn completes it, the commit after it and the close", async () => {
    const { fs } = simWithLateSyncs();
    const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, preallocateBytes: 0 });
    const tx = await wal.begin();
    let appended = 0;
    let waiting: Promise<number> | undefined;
    for (let i = 0; i < 3000 && waiting === undefined; i++) {
      const call = wal.appendBatch(tx, [event]);
      appended++;
      let settled = false;
      void call.then(() => {
        settled = true;
      });
      for (let k = 0; k < 3; k++) await Promise.resolve();
      if (!settled) waiting = call; // this one waits for its turn (a setImmediate)
    }
    expect(waiting).toBeDefined();
    const commit = wal.commit(tx);
    await Promise.all([waiting, commit, wal.close()]);
    const { events, wal: again } = await Wal.open("/w", { fs, codec: bytesCodec });
    expect(events.length).toBe(appended);
    await again.close();
  });

  it("appends issued without waiting keep their call order past the hold-back", () =>
    inTempDir(async (dir) => {
      const { wal } = await Wal.open(dir, { codec: bytesCodec });
      const tx = await wal.begin();
      const numbered = (i: number) => {
        const e = new Uint8Array(1000);
        new DataView(e.buffer).setUint32(0, i, true);
        return e;
      };
      const calls: Promise<number>[] = [];
      for (let i = 0; i < 5000; i++) calls.push(wal.appendBatch(tx, [numbered(i)]));
      const lsns = await Promise.all(calls);
      expect(lsns).toEqual(lsns.toSorted((a, b) => a - b));
      await wal.commit(tx);
      await wal.close();
      const { events, wal: again } = await Wal.open(dir, { codec: bytesCodec });
      expect(events.map((e) => new DataView(e.buffer, e.byteOffset).getUint32(0, true))).toEqual(
        Array.from({ length: 5000 }, (_, i) => i),
      );
      await again.close();
    }));

  it("a sync after appends and a commit issued without waiting makes that commit durable", () =>
    inTempDir(async (dir) => {
      const { wal } = await Wal.open(dir, { codec: bytesCodec });
      const tx = await wal.begin();
      const appends: Promise<number>[] = [];
      for (let i = 0; i < 3000; i++) appends.push(wal.appendBatch(tx, [event]));
      const commit = wal.commit(tx);
      await wal.sync();
      // Every call made before sync() is covered by it, held-back promises or not.
      expect(wal.durableLsn()).toBeGreaterThanOrEqual(await commit);
      expect((await Promise.all(appends)).length).toBe(3000);
      await wal.close();
    }));

  it("a call made after a flush never overtakes appends issued before it", () =>
    inTempDir(async (dir) => {
      const { wal } = await Wal.open(dir, { codec: bytesCodec, syncMode: "none" });
      const tx = await wal.begin();
      const appends: Promise<unknown>[] = [];
      for (let i = 0; i < 3000; i++) appends.push(wal.appendBatch(tx, [event]).catch((e: unknown) => e));
      await wal.flush();
      const commitLsn = await wal.commit(tx);
      const results = await Promise.all(appends);
      expect(results.filter((r) => typeof r !== "number")).toEqual([]);
      expect(commitLsn).toBe(tx + 3001);
      await wal.close();
    }));
});
