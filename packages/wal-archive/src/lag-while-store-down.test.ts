/**
 * While the store is down the archiver remembers a bounded number of durability times. It kept one entry per
 * `durable` event (an fsync round) until a pass archived past it, and a pass retrying a call to a store that stays
 * down (or an archiver failing for good on another history) never gets there: an outage of a day at a thousand
 * fsync rounds a second held 86 million entries. The lag it reports stays the age of the oldest LSN not archived.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, expect, it, vi } from "vitest";
import { startArchiver } from "./archiver.js";
import { DURABLE_TIMES_KEPT, DurableTimes } from "./durable-times.js";
import { memoryArchive } from "./memory-archive.js";

const COMMITS = 5000;

afterEach(() => {
  vi.restoreAllMocks();
});

it(`${COMMITS} durable commits while the store is down keep at most ${DURABLE_TIMES_KEPT} times`, async () => {
  const add = vi.spyOn(DurableTimes.prototype, "add");
  let now = 1_000_000;
  vi.spyOn(Date, "now").mockImplementation(() => now);
  const fs = new SimFS();
  const store = memoryArchive();
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 1 << 20 });
  await wal.commitTx([{ v: 0 }]);
  store.setDown(true);
  const archiver = startArchiver(wal, { store, fs, intervalMs: 3_600_000, retry: { initialMs: 3_600_000 } });
  const firstDurableAt = now;
  for (let i = 1; i <= COMMITS; i++) {
    now += 1;
    await wal.commitTx([{ v: i }]);
  }
  const times = add.mock.contexts[0] as DurableTimes;
  expect(add.mock.contexts.every((c) => c === times)).toBe(true);
  expect(add).toHaveBeenCalledTimes(COMMITS + 1);
  expect(times.size).toBeLessThanOrEqual(DURABLE_TIMES_KEPT);
  // Nothing is archived: the lag is the age of the first durable LSN, as without a bound.
  now += 10;
  expect(archiver.status()).toMatchObject({ archivedLsn: 0, lagMs: now - firstDurableAt });
  await archiver.stop({ flush: false });
  await wal.close();
});

it("merged times never make the lag smaller than the age of the oldest LSN not archived", () => {
  const times = new DurableTimes();
  for (let lsn = 1; lsn <= 10 * DURABLE_TIMES_KEPT; lsn++) times.add(lsn, lsn * 10);
  expect(times.size).toBeLessThanOrEqual(DURABLE_TIMES_KEPT);
  for (const archived of [0, 1, 7, 500, 4095, 4096, 9000, 10 * DURABLE_TIMES_KEPT - 1]) {
    const since = times.oldestAbove(archived) as number;
    // LSN archived + 1 became durable at (archived + 1) * 10: the age reported is at least that one's.
    expect(since).toBeLessThanOrEqual((archived + 1) * 10);
  }
  expect(times.oldestAbove(10 * DURABLE_TIMES_KEPT)).toBeUndefined();
  times.archivedThrough(5000);
  expect(times.oldestAbove(4000)).toBeLessThanOrEqual(5001 * 10);
  times.archivedThrough(10 * DURABLE_TIMES_KEPT);
  expect(times.size).toBe(0);
});
