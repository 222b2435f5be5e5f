/**
 * Long runs of buffered appends hand the buffer to the OS before it grows to a segment ("spill"). Written is not
 * durable and not committed: a crash keeps nothing of an open transaction, and a failed spill poisons the handle.
 */

import { bytesCodec, isWalError } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const event = new Uint8Array(1000).fill(9);

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
    let failure: unknown;
    for (let i = 0; i < 1500 && failure === undefined; i++) {
      failure = await wal.appendBatch(tx, [event]).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(isWalError(failure, "WAL_IO")).toBe(true);
    const after = await wal.commit(tx).catch((e: unknown) => e);
    expect(isWalError(after, "WAL_POISONED")).toBe(true);
    await wal.close().catch(() => undefined);
  });
});
