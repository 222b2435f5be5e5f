/**
 * A flush that comes while a store call runs has that call retried at once if it fails, and waits for the retry:
 * the failure of a call that began before the flush is not its answer. The retry's failure is, once the archiver is
 * `failing`, even when another flush came during the retry (that one waits for the next attempt in turn). Before,
 * one flag stood for every flush: each failure that a newer flush had come during was retried with every waiter
 * kept, so an application that flushed at least once per store call while the store was down (a store that
 * refuses at once, flushed as each call fails; or every call timing out, flushed more often than the time-out) got
 * flushes that never settled while the archiver called the store again and again.
 *
 * The archiver runs on a `ManualClock`: no timer fires unless the test moves it, and every loop is bounded by count.
 */

import { Wal } from "@lora/wal";
import { ManualClock, withArchiverClock } from "@lora/wal-archive/testing";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { type ArchiverOptions, startArchiver } from "./archiver.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";

/** Event-loop turns without a timer: the archiver's promises, the store's and the file system's run. */
async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A flush, the store calls settled before it was made, and (once it settles) how many had settled by then. */
interface Tracked {
  readonly madeAt: number;
  settledAt: number | undefined;
  error: unknown;
}

function track(p: Promise<void>, calls: () => number): Tracked {
  const t: Tracked = { madeAt: calls(), settledAt: undefined, error: undefined };
  p.then(
    () => {
      t.settledAt = calls();
    },
    (error: unknown) => {
      t.settledAt = calls();
      t.error = error;
    },
  );
  return t;
}

/** What a flush answered, and whether it did by the `bound`-th store call (reported on failure). */
function answer(i: number, f: Tracked, bound: number) {
  const inBound = f.settledAt !== undefined && f.settledAt <= bound;
  const code = (f.error as { code?: string } | undefined)?.code;
  return inBound ? { i, inBound, code } : { i, inBound, code, madeAt: f.madeAt, settledAt: f.settledAt, bound };
}

/** A log with one durable record, not yet archived, and an archiver on `store` driven by `clock`. */
async function attach(store: MemoryArchive, clock: ManualClock, options: Partial<ArchiverOptions>) {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 1 << 20 });
  await wal.commitTx([{ v: 1 }]);
  const archiver = startArchiver(wal, withArchiverClock({ store, fs, intervalMs: 3_600_000, ...options }, clock));
  return { wal, archiver };
}

const FLUSHES = 20;
const FAILING_AFTER = 3;

it("a store that refuses at once, flushed as each call fails: every flush rejects, one call per flush", async () => {
  const clock = new ManualClock(7);
  const store = memoryArchive();
  store.setDown(true);
  let calls = 0;
  const flushes: Tracked[] = [];
  let archiver: ReturnType<typeof startArchiver> | undefined;
  // Reported as the call fails, before the archiver sees the failure: the flush comes while the call runs.
  store.onCall((call) => {
    calls++;
    if (call.outcome === "fault" && archiver !== undefined && flushes.length < FLUSHES) {
      flushes.push(track(archiver.flush(), () => calls));
    }
  });
  const attached = await attach(store, clock, {
    retry: { initialMs: 60_000, maxMs: 60_000, failingAfter: FAILING_AFTER },
  });
  archiver = attached.archiver;
  await turns(FLUSHES * 20);
  expect(flushes).toHaveLength(FLUSHES);
  for (const [i, f] of flushes.entries()) {
    // Its answer is the failure of the call that began after it; until the archiver is failing it waits on.
    const bound = Math.max(f.madeAt + 1, FAILING_AFTER);
    expect(answer(i, f, bound)).toEqual({ i, inBound: true, code: "WAL_ARCHIVE_UNAVAILABLE" });
  }
  // Once per flush, never more: the first call plus one retry per flush, and nothing more while the clock stands.
  expect(calls).toBe(1 + FLUSHES);
  await turns(200);
  expect(calls).toBe(1 + FLUSHES);
  // The back-off is kept: 30 to 60 s (60 s with its jitter), so nothing before 30 s and one call by 60 s.
  clock.advance(29_999);
  await turns();
  expect(calls).toBe(1 + FLUSHES);
  clock.advance(30_001);
  await turns();
  expect(calls).toBe(2 + FLUSHES);
  expect(attached.archiver.status()).toMatchObject({ state: "failing", failures: 2 + FLUSHES, archivedLsn: 0 });
  await attached.archiver.stop({ flush: false });
  await attached.wal.close();
});

it("every call timing out, flushed twice per time-out: every flush rejects within two calls of it", async () => {
  const clock = new ManualClock(11);
  const store = memoryArchive();
  store.injectFault({ op: "*", error: "timeout", times: Number.POSITIVE_INFINITY });
  let calls = 0;
  store.onCall(() => calls++);
  const { wal, archiver } = await attach(store, clock, {
    callTimeoutMs: 1000,
    retry: { initialMs: 60_000, maxMs: 60_000, failingAfter: FAILING_AFTER },
  });
  await turns();
  const flushes: Tracked[] = [];
  for (let step = 0; step < FLUSHES * 2; step++) {
    flushes.push(track(archiver.flush(), () => calls));
    await turns();
    clock.advance(500);
    await turns();
  }
  // A call hangs for its whole time-out each time: 40 steps of 500 ms are 20 calls ended.
  expect(calls).toBe(FLUSHES);
  expect(archiver.status().state).toBe("failing");
  // The last flushes wait for the call running now; all before them have their answer.
  const answered = flushes.filter((f) => f.madeAt + 2 <= calls);
  expect(answered.length).toBeGreaterThan(FLUSHES);
  for (const [i, f] of answered.entries()) {
    const bound = Math.max(f.madeAt + 2, FAILING_AFTER);
    expect(answer(i, f, bound)).toEqual({ i, inBound: true, code: "WAL_ARCHIVE_UNAVAILABLE" });
  }
  // The flushes stop: the call running now fails, the ones waiting on it reject, and the back-off holds.
  clock.advance(1000);
  await turns();
  expect(calls).toBe(FLUSHES + 1);
  expect(flushes.every((f) => f.settledAt !== undefined)).toBe(true);
  clock.advance(29_999);
  await turns();
  expect(calls).toBe(FLUSHES + 1);
  await archiver.stop({ flush: false });
  await wal.close();
});
