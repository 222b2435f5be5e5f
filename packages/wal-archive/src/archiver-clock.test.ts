/**
 * An archiver given a clock of the test's own (`withArchiverClock`, for tests) arms every timer on it: its shipping
 * interval, the back-off after a failed call and each call's time-out fire when the test advances the clock, and
 * only then, whatever the real time. Tier R of the torture harness drives archivers this way, so a seed does the same
 * work on a slow machine as on a fast one; a call hanging on a store that is down must still be abandoned there.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { ManualClock } from "./testing/manual-clock.js";
import { withArchiverClock } from "./testing/with-archiver-clock.js";

/** Event-loop turns without a timer: the archiver's promises, the store's and the file system's run. */
async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Real milliseconds pass (the event loop turning): far longer than any delay the archivers below are given. */
async function realWait(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function archived(clock: ManualClock, callTimeoutMs = 10) {
  const fs = new SimFS();
  const store = memoryArchive();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 1 << 20 });
  const archiver = startArchiver(
    wal,
    withArchiverClock(
      { store, fs, intervalMs: 5, retry: { initialMs: 4, maxMs: 4, failingAfter: 100 }, callTimeoutMs },
      clock,
    ),
  );
  await archiver.flush();
  return { wal, store, archiver };
}

it("the shipping interval fires when the clock is advanced past it, never on its own", async () => {
  const clock = new ManualClock();
  const { wal, store, archiver } = await archived(clock);
  await wal.commitTx([{ v: 1 }]);
  const puts = store.calls.put;
  await realWait(30);
  await turns();
  expect(store.calls.put).toBe(puts);
  clock.advance(4);
  await turns();
  expect(store.calls.put).toBe(puts);
  clock.advance(1);
  await turns();
  expect(store.calls.put).toBe(puts + 1);
  expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
  await archiver.stop();
  await wal.close();
});

it("a failed call is retried when the clock passes its back-off", async () => {
  const clock = new ManualClock();
  const { wal, store, archiver } = await archived(clock);
  store.setDown(true);
  await wal.commitTx([{ v: 1 }]);
  clock.advance(5);
  await turns();
  const puts = store.calls.put;
  expect(archiver.status().state).toBe("retrying");
  await realWait(30);
  await turns();
  expect(store.calls.put).toBe(puts);
  store.setDown(false);
  // The back-off is 2 to 4 ms (4 with its jitter): past it, the retry runs and succeeds.
  clock.advance(4);
  await turns();
  expect(store.calls.put).toBe(puts + 1);
  expect(archiver.status()).toMatchObject({ state: "running", archivedLsn: wal.fsyncedLsn() });
  await archiver.stop();
  await wal.close();
});

it("a call that hangs is abandoned when the clock passes the call time-out, and the flush then settles", async () => {
  const clock = new ManualClock();
  const { wal, store, archiver } = await archived(clock, 10);
  // The store hangs the next put until its signal aborts.
  store.injectFault({ op: "put", error: "timeout" });
  await wal.commitTx([{ v: 1 }]);
  let settled = false;
  const flushed = archiver.flush().then(() => {
    settled = true;
  });
  await turns();
  await realWait(30);
  await turns();
  expect(settled).toBe(false);
  expect(archiver.status().failures).toBe(0);
  clock.advance(10);
  await turns();
  // Abandoned at the time-out and counted as a failure; the retry sleeps out its back-off (2 to 4 ms).
  expect(archiver.status().failures).toBe(1);
  expect(settled).toBe(false);
  clock.advance(4);
  await turns();
  expect(settled).toBe(true);
  await flushed;
  expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
  await archiver.stop();
  await wal.close();
});

it("two archivers on equal clocks given the same steps draw the same back-offs", async () => {
  const runOnce = async () => {
    const clock = new ManualClock(7);
    const { wal, store, archiver } = await archived(clock);
    store.setDown(true);
    await wal.commitTx([{ v: 1 }]);
    const seen: number[] = [];
    for (let i = 0; i < 40; i++) {
      clock.advance(1);
      await turns(5);
      seen.push(store.calls.put);
    }
    await archiver.stop({ flush: false });
    await wal.close();
    return seen;
  };
  const first = await runOnce();
  expect(first.at(-1)).toBeGreaterThan(3);
  expect(await runOnce()).toEqual(first);
});

it("something other than a clock under the clock's key is refused with WAL_INVALID_OPTION, and nothing starts", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
  const options = { store, fs, intervalMs: 5 };
  const partial = { now: () => 0, wallNow: () => 0, random: () => 0, timeout: () => () => {} };
  const throwing = Object.defineProperty({ ...options }, Symbol.for("@lora/wal-archive.clock"), {
    get() {
      throw new Error("trap");
    },
  });
  const refusals = [
    () => startArchiver(wal, withArchiverClock(options, null as never)),
    () => startArchiver(wal, withArchiverClock(options, 5 as never)),
    () => startArchiver(wal, withArchiverClock(options, partial as never)),
    () => startArchiver(wal, throwing),
  ];
  for (const start of refusals) {
    expect(start).toThrow(expect.objectContaining({ code: "WAL_INVALID_OPTION" }));
  }
  expect(() => startArchiver(wal, withArchiverClock(options, partial as never))).toThrow(/lacks interval/);
  expect(await fs.readdir("/w")).not.toContain("slots");
  expect(store.calls.put).toBe(0);
  // The slot was never taken: a real archiver starts on it.
  const archiver = startArchiver(wal, withArchiverClock(options, new ManualClock()));
  await archiver.stop();
  await wal.close();
});
