/**
 * Each store call's signal (the archiver's stop, or the call's time-out) is let go once the call settles. Composed
 * with `AbortSignal.any` from the archiver's stop signal, which lives as long as the archiver, every call left an
 * entry behind in that signal on Node 20 (nodejs/node#55351), even after garbage collection: an archiver shipping a
 * piece a second grew by megabytes a day.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, expect, it, vi } from "vitest";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Entries Node keeps in `signal` for the signals composed from it (0 where Node keeps none under that name). */
function dependants(signal: AbortSignal): number {
  const symbol = Object.getOwnPropertySymbols(signal).find((s) => s.description === "kDependantSignals");
  const set =
    symbol === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[symbol];
  return set?.size ?? 0;
}

it("the probe sees the entries Node keeps (so the check below cannot pass for want of them)", () => {
  const source = new AbortController();
  const composed = AbortSignal.any([source.signal]);
  expect(dependants(source.signal)).toBe(1);
  expect(composed.aborted).toBe(false);
});

it("store calls leave nothing behind in a signal that outlives them", async () => {
  const sources = new Set<AbortSignal>();
  const any = AbortSignal.any.bind(AbortSignal);
  vi.spyOn(AbortSignal, "any").mockImplementation((signals) => {
    for (const s of signals) sources.add(s);
    return any(signals);
  });
  const fs = new SimFS();
  const store = memoryArchive();
  let calls = 0;
  store.onCall(() => calls++);
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 1 << 20 });
  const archiver = startArchiver(wal, { store, fs, intervalMs: 3_600_000 });
  for (let i = 0; i < 200; i++) {
    await wal.commitTx([{ v: i }]);
    await archiver.flush();
  }
  expect(calls).toBeGreaterThanOrEqual(200);
  // Every signal the calls were composed from that is still live (not aborted) holds no entry per call.
  const live = [...sources].filter((s) => !s.aborted);
  expect(live.map(dependants).reduce((a, b) => a + b, 0)).toBeLessThan(10);
  await archiver.stop();
  await wal.close();
});
