/**
 * An explicit `flush()` (or `stop()`, which flushes) retries a store call that is sleeping out its back-off at once:
 * the caller asks for an attempt now. Before, it waited out the whole back-off (up to `retry.maxMs`, 30 s by
 * default) even with the store long back. One retry per request: a retry that fails backs off again as before, its
 * attempt count kept, so flushing in a loop calls a store that stays down once per flush, never more.
 *
 * Timers are fake (`setTimeout` only) and never advanced unless said: what is counted is store calls.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, expect, it, vi } from "vitest";
import { type ArchiverOptions, startArchiver } from "./archiver.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Let the archiver's promises and the file system's run, without moving the fake clock. */
async function turns(n = 100): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Whether `p` has settled (after a bounded number of turns). */
function tracked(p: Promise<void>): { readonly settled: boolean; readonly error: unknown } {
  const t = { settled: false, error: undefined as unknown };
  p.then(
    () => {
      t.settled = true;
    },
    (error: unknown) => {
      t.settled = true;
      t.error = error;
    },
  );
  return t;
}

/** A log with one durable record and an archiver on `store`, timers fake from before the archiver starts. */
async function attach(store: MemoryArchive, retry: NonNullable<ArchiverOptions["retry"]>, callTimeoutMs?: number) {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 1 << 20 });
  await wal.commitTx([{ v: 1 }]);
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  // No jitter: each back-off is exactly initialMs * 2^attempt, capped at maxMs.
  vi.spyOn(Math, "random").mockReturnValue(1);
  const archiver = startArchiver(wal, {
    store,
    fs,
    intervalMs: 3_600_000,
    retry,
    ...(callTimeoutMs === undefined ? {} : { callTimeoutMs }),
  });
  return { wal, archiver };
}

/**
 * Three puts fail (each followed by a back-off of a minute), then the store is healthy again: the archiver is
 * `retrying`, or `failing` when `failingAfter` is 3 or less.
 */
async function threePutsFailed(failingAfter = 5) {
  const store = memoryArchive();
  store.injectFault({ op: "put", times: 3 });
  const { wal, archiver } = await attach(store, { initialMs: 60_000, maxMs: 60_000, failingAfter });
  await turns();
  expect(store.calls.put).toBe(1);
  for (const put of [2, 3]) {
    await vi.advanceTimersByTimeAsync(60_000);
    await turns();
    expect(store.calls.put).toBe(put);
  }
  expect(wal.fsyncedLsn()).toBeGreaterThan(0);
  const state = failingAfter <= 3 ? "failing" : "retrying";
  expect(archiver.status()).toMatchObject({ state, failures: 3, archivedLsn: 0 });
  return { store, wal, archiver };
}

/** A store that is down, and an archiver already `failing` on it (`failingAfter: 1`): one call made so far. */
async function failingOnADownStore() {
  const store = memoryArchive();
  store.setDown(true);
  const { wal, archiver } = await attach(store, { initialMs: 60_000, maxMs: 60_000, failingAfter: 1 });
  let count = 0;
  store.onCall(() => count++);
  await turns();
  expect(count).toBe(1);
  expect(archiver.status().state).toBe("failing");
  return { wal, archiver, calls: () => count };
}

it("flush() with the store back retries the put sleeping out its back-off at once", async () => {
  const { store, wal, archiver } = await threePutsFailed();
  const flushed = tracked(archiver.flush());
  await turns();
  expect(flushed).toEqual({ settled: true, error: undefined });
  expect(store.calls.put).toBe(4);
  expect(archiver.status()).toMatchObject({ state: "running", archivedLsn: wal.fsyncedLsn(), failures: 3 });
  await archiver.stop();
  expect(store.calls.put).toBe(4);
  vi.useRealTimers();
  await wal.close();
});

for (const failingAfter of [5, 2]) {
  it(`stop() with the store back retries at once and ships what is durable (failingAfter ${failingAfter})`, async () => {
    // With failingAfter 2 the archiver is failing: stop() still tries the store once.
    const { store, wal, archiver } = await threePutsFailed(failingAfter);
    const stopped = tracked(archiver.stop());
    await turns();
    expect(stopped).toEqual({ settled: true, error: undefined });
    expect(store.calls.put).toBe(4);
    expect(archiver.status()).toMatchObject({ state: "stopped", archivedLsn: wal.fsyncedLsn() });
    vi.useRealTimers();
    await wal.close();
  });
}

it("stop({ flush: false }) during a back-off still ends it without another call", async () => {
  const { store, wal, archiver } = await threePutsFailed();
  const stopped = tracked(archiver.stop({ flush: false }));
  await turns();
  expect(stopped).toEqual({ settled: true, error: undefined });
  expect(store.calls.put).toBe(3);
  expect(archiver.status()).toMatchObject({ state: "stopped", archivedLsn: 0 });
  vi.useRealTimers();
  await wal.close();
});

it("a retry a flush asked for that fails backs off again with its attempt count kept", async () => {
  const store = memoryArchive();
  const fault = store.injectFault({ op: "put", times: Number.POSITIVE_INFINITY });
  const { wal, archiver } = await attach(store, { initialMs: 1000, maxMs: 60_000 });
  await turns();
  expect(store.calls.put).toBe(1);
  for (const [wait, put] of [
    [1000, 2],
    [2000, 3],
  ] as const) {
    await vi.advanceTimersByTimeAsync(wait);
    await turns();
    expect(store.calls.put).toBe(put);
  }
  // Sleeping 4000 ms after the third failure; the flush retries now, and the fourth failure sleeps 8000 ms.
  const flushed = tracked(archiver.flush());
  await turns();
  expect(store.calls.put).toBe(4);
  expect(flushed.settled).toBe(false); // retrying (failingAfter 5): it waits on
  await vi.advanceTimersByTimeAsync(7999);
  await turns();
  expect(store.calls.put).toBe(4);
  await vi.advanceTimersByTimeAsync(1);
  await turns();
  expect(store.calls.put).toBe(5);
  expect(flushed).toMatchObject({ settled: true, error: { code: "WAL_ARCHIVE_UNAVAILABLE" } });
  fault.cancel();
  await archiver.stop({ flush: false });
  vi.useRealTimers();
  await wal.close();
});

it("flush() in a loop against a store that stays down calls it once per flush, not more", async () => {
  const { wal, archiver, calls } = await failingOnADownStore();
  for (let i = 1; i <= 10; i++) {
    const flushed = tracked(archiver.flush());
    await turns();
    expect(flushed).toMatchObject({ settled: true, error: { code: "WAL_ARCHIVE_UNAVAILABLE" } });
    expect(calls()).toBe(1 + i);
  }
  // Ten at once are one request's worth: the sleep they cut is one.
  const burst = Array.from({ length: 10 }, () => tracked(archiver.flush()));
  await turns();
  expect(calls()).toBe(12);
  expect(burst.every((f) => f.settled)).toBe(true);
  // And nothing more until the back-off ends.
  await turns(500);
  expect(calls()).toBe(12);
  expect(archiver.status()).toMatchObject({ state: "failing", failures: 12 });
  await archiver.stop({ flush: false });
  vi.useRealTimers();
  await wal.close();
});

it("stop() when failing with the store still down stops and rejects with WAL_ARCHIVE_UNAVAILABLE", async () => {
  const { wal, archiver, calls } = await failingOnADownStore();
  const stopped = tracked(archiver.stop());
  await turns();
  expect(stopped).toMatchObject({ settled: true, error: { code: "WAL_ARCHIVE_UNAVAILABLE" } });
  expect(calls()).toBe(2);
  expect(archiver.status()).toMatchObject({ state: "stopped", archivedLsn: 0 });
  await turns(200);
  expect(calls()).toBe(2);
  vi.useRealTimers();
  await wal.close();
});

it("flush() while a store call runs: if that call fails, it is retried at once, not after a back-off", async () => {
  const store = memoryArchive();
  // The first put hangs until the call's time-out (fake timers: until the clock is moved).
  store.injectFault({ op: "put", error: "timeout", times: 1 });
  const { wal, archiver } = await attach(store, { initialMs: 60_000, maxMs: 60_000 }, 1000);
  await turns();
  expect(store.calls.put).toBe(1); // in flight, hanging
  const flushed = tracked(archiver.flush());
  await turns();
  expect(flushed.settled).toBe(false);
  await vi.advanceTimersByTimeAsync(1000); // the hanging put times out
  await turns();
  expect(store.calls.put).toBe(2);
  expect(flushed).toEqual({ settled: true, error: undefined });
  expect(archiver.status()).toMatchObject({ state: "running", archivedLsn: wal.fsyncedLsn(), failures: 1 });
  await archiver.stop();
  vi.useRealTimers();
  await wal.close();
});

it("a store call that fails with no flush waiting backs off as before", async () => {
  const store = memoryArchive();
  store.injectFault({ op: "put", error: "timeout", times: 1 });
  const { wal, archiver } = await attach(store, { initialMs: 60_000, maxMs: 60_000 }, 1000);
  await turns();
  await vi.advanceTimersByTimeAsync(1000);
  await turns();
  expect(store.calls.put).toBe(1); // sleeping its back-off
  await vi.advanceTimersByTimeAsync(59_999);
  await turns();
  expect(store.calls.put).toBe(1);
  await vi.advanceTimersByTimeAsync(1);
  await turns();
  expect(store.calls.put).toBe(2);
  await archiver.stop();
  vi.useRealTimers();
  await wal.close();
});

/** A log restored from `store` to an earlier point and written on: another history than the store's. */
async function divergedLog(fs: SimFS, store: MemoryArchive) {
  const commits = await archivedLog(fs, store, { commits: 30, segmentTargetBytes: 300, event: (i) => ({ old: i }) });
  await restore({ store, dir: "/b", toLsn: commits[10] as number, fs });
  const { wal } = await Wal.open<JsonValue>("/b", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
  const archiver = startArchiver(wal, { store, fs, intervalMs: 3_600_000 });
  for (let i = 0; i < 10; i++) await wal.commitTx([{ new: i }]);
  return { wal, archiver };
}

it("stop() on an archiver that found another history in the store does not flush, and resolves", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  const { wal, archiver } = await divergedLog(fs, store);
  await expect(archiver.flush()).rejects.toMatchObject({ code: "WAL_ARCHIVE_DIVERGED" });
  const calls = { ...store.calls };
  await expect(archiver.stop()).resolves.toBeUndefined();
  expect(archiver.status()).toMatchObject({ state: "stopped", lastError: { code: "WAL_ARCHIVE_DIVERGED" } });
  expect(store.calls).toEqual(calls);
  await wal.close();
});

it("stop() whose own flush finds another history in the store resolves too", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  const { wal, archiver } = await divergedLog(fs, store);
  await expect(archiver.stop()).resolves.toBeUndefined();
  expect(archiver.status()).toMatchObject({ state: "stopped", lastError: { code: "WAL_ARCHIVE_DIVERGED" } });
  await wal.close();
});

for (const request of ["flush", "stop"] as const) {
  it(`${request}() while failing and a store call runs: that call's failure is not its answer, the retry is`, async () => {
    const store = memoryArchive();
    store.injectFault({ op: "put", times: 1 }); // fails: failing at once (failingAfter 1)
    store.injectFault({ op: "put", error: "timeout", times: 1 }); // the retry hangs until its time-out
    const { wal, archiver } = await attach(store, { initialMs: 60_000, maxMs: 60_000, failingAfter: 1 }, 1000);
    await turns();
    expect(archiver.status().state).toBe("failing");
    await vi.advanceTimersByTimeAsync(60_000);
    await turns();
    expect(store.calls.put).toBe(2); // hanging; the store is healthy from here on
    const asked = tracked(request === "flush" ? archiver.flush() : archiver.stop());
    await turns();
    expect(asked.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1000); // the put that began before the request times out
    await turns();
    expect(store.calls.put).toBe(3);
    expect(asked).toEqual({ settled: true, error: undefined });
    expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
    if (request === "flush") await archiver.stop();
    vi.useRealTimers();
    await wal.close();
  });
}

it("a flush made from onStateChange as a call fails retries that call at once", async () => {
  const store = memoryArchive();
  store.injectFault({ op: "put", times: 1 });
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 1 << 20 });
  await wal.commitTx([{ v: 1 }]);
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  let flushed: ReturnType<typeof tracked> | undefined;
  const archiver = startArchiver(wal, {
    store,
    fs,
    intervalMs: 3_600_000,
    retry: { initialMs: 60_000, maxMs: 60_000 },
    onStateChange: (status) => {
      if (status.state === "retrying" && flushed === undefined) flushed = tracked(archiver.flush());
    },
  });
  await turns();
  expect(store.calls.put).toBe(2);
  expect(flushed).toEqual({ settled: true, error: undefined });
  expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
  await archiver.stop();
  vi.useRealTimers();
  await wal.close();
});
