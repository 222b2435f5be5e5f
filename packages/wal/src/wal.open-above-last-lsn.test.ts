/**
 * Regression (found by apps/torture): a log whose nextLsn at open is above its last record (opened with a fence
 * past it, e.g. restored from a snapshot) spun forever in microtasks on `flush`, `sync`, `truncateUpTo` or
 * `whenDurable` before the first append: the commit pipeline waited for LSNs that are never appended.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

/**
 * Whether `p` settles within `ticks` microtask turns, with a turn of the event loop every 100 of them (a blocking
 * sync round runs from the check phase). Counted, not timed: a pipeline spinning in microtasks starves the event
 * loop, and then this never returns and the test times out instead of passing.
 */
async function settles(p: Promise<unknown>, ticks = 20_000): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < ticks && !done; i++) {
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    else await Promise.resolve();
  }
  return done;
}

describe("a log opened above its last LSN", () => {
  for (const syncMode of ["perCommit", "none", { mode: "group", intervalMs: 60_000 }] as const) {
    const name = typeof syncMode === "string" ? syncMode : syncMode.mode;
    it(`flushes, syncs, truncates and reports durability before the first append (${name})`, async () => {
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, syncMode, checkpointLsn: 40 });
      expect(wal.nextLsn()).toBe(41);
      expect(await settles(wal.flush())).toBe(true);
      expect(await settles(wal.sync())).toBe(true);
      expect(await settles(wal.truncateUpTo(40))).toBe(true);
      expect(await settles(wal.whenDurable(40))).toBe(true);
      const info = await wal.commitTx(["a"]);
      expect(info?.beginLsn).toBe(41);
      await wal.close();
      const again = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, checkpointLsn: 40 });
      await again.wal.close();
      expect(again.events).toEqual(["a"]);
    });
  }
});
