/**
 * Each value a caller passes is read once, and what was read is what the call checks and uses: `Wal.open`'s options,
 * the events of `commitTx` and `appendBatch`, `follow`'s options. The caller's value here answers validly the first
 * time each property is read and throws after (`readOnce`): read twice, the second read's error escaped uncoded, or
 * the call used a value its checks never saw. Each call must succeed, read nothing twice, and the log must reopen
 * with what was committed.
 */

import { join } from "node:path";
import { makeTempDir, readOnce } from "@lora/test-utils";
import { bytesCodec, isWalError } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wal } from "./wal.js";
import type { WalOptions } from "./wal-options.js";

const EVENT = new Uint8Array([1, 2, 3]);

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let dir: string;
beforeEach(async () => {
  tmp = await makeTempDir("wal-read-once");
  dir = join(tmp.path, "log");
});
afterEach(async () => {
  await tmp.cleanup();
});

/** Every option given a valid value that is not its default. */
function everyOption(): WalOptions<Uint8Array> {
  return {
    codec: bytesCodec,
    syncMode: { mode: "group", intervalMs: 20 },
    segmentTargetBytes: 1 << 20,
    checkpointLsn: 0,
    allowTruncatedHistory: true,
    scanFrom: "oldest",
    recovery: "tolerate-torn-tail",
    onTransaction: () => {},
    onProgress: () => {},
    lockRetryMs: 10,
    unsyncedWindowBytes: 1 << 16,
    preallocateBytes: 0,
    blockingSync: false,
    maxSlotRetainedBytes: 1 << 30,
    publishDurableLsn: true,
  };
}

async function reopenedEvents(): Promise<number> {
  const { wal, events } = await Wal.open<Uint8Array>(dir, { codec: bytesCodec });
  await wal.close();
  return events.length;
}

describe("Wal.open reads each option once", () => {
  it("opens with options (and a syncMode object) whose every property throws on its second read", async () => {
    const seed = await Wal.open<Uint8Array>(dir, { codec: bytesCodec });
    await seed.wal.commitTx([EVENT]);
    await seed.wal.close();
    const syncMode = readOnce({ mode: "group" as const, intervalMs: 20 });
    let replayed = 0;
    const options = readOnce({ ...everyOption(), syncMode: syncMode.value, onTransaction: () => void replayed++ });
    const { wal } = await Wal.open<Uint8Array>(dir, options.value);
    expect(replayed).toBe(1);
    await wal.commitTx([EVENT]);
    await wal.close();
    expect(options.readTwice()).toEqual([]);
    expect(syncMode.readTwice()).toEqual([]);
    expect(await reopenedEvents()).toBe(2);
  });

  it("uses what the check read when a getter answers differently later", async () => {
    let reads = 0;
    const options = {
      codec: bytesCodec,
      get lockRetryMs(): unknown {
        reads++;
        // Valid when checked; a value the lock would refuse after the directory was created, if read again.
        return reads === 1 ? 10 : "soon";
      },
    } as WalOptions<Uint8Array>;
    const { wal } = await Wal.open<Uint8Array>(dir, options);
    await wal.close();
    expect(reads).toBe(1);
  });
});

describe("commitTx and appendBatch read the events once", () => {
  it("commits events whose length and elements throw on their second read", async () => {
    const { wal } = await Wal.open<Uint8Array>(dir, { codec: bytesCodec, syncMode: "none" });
    const events = readOnce([EVENT, EVENT]);
    await wal.commitTx(events.value);
    expect(events.readTwice()).toEqual([]);
    const tx = await wal.begin();
    const batch = readOnce([EVENT]);
    await wal.appendBatch(tx, batch.value);
    await wal.commit(tx);
    expect(batch.readTwice()).toEqual([]);
    await wal.close();
    expect(await reopenedEvents()).toBe(3);
  });

  it("refuses events whose length reads as a number once and throws after, with a code, when the handle is busy", async () => {
    // The slow path (waiting for a rotation) encodes once on the side, then again into the segment.
    const { wal } = await Wal.open<Uint8Array>(dir, { codec: bytesCodec, syncMode: "none", segmentTargetBytes: 64 });
    for (let i = 0; i < 4; i++) await wal.commitTx([EVENT]);
    const events = readOnce([EVENT]);
    const outcome = await wal.commitTx(events.value).then(
      (info) => info,
      (error: unknown) => error,
    );
    // Either committed from one read of each property, or refused with a code: never the read's own error.
    if (outcome instanceof Error) expect(isWalError(outcome), String(outcome)).toBe(true);
    expect(events.readTwice()).toEqual([]);
    await wal.commitTx([EVENT]);
    await wal.close();
  });
});

describe("follow reads its options once", () => {
  it("follows with options whose every property throws on its second read", async () => {
    const { wal } = await Wal.open<Uint8Array>(dir, { codec: bytesCodec, syncMode: "none" });
    await wal.commitTx([EVENT]);
    const controller = new AbortController();
    const options = readOnce({ after: 0, durability: "written" as const, signal: controller.signal });
    const follower = wal.follow(options.value);
    const iterator = follower[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    await iterator.return?.();
    expect(options.readTwice()).toEqual([]);
    await wal.close();
  });
});
