/**
 * Regression (found by apps/torture): a log whose nextLsn at open is above its last record (opened with a fence
 * past it, e.g. restored from a snapshot) spun forever in microtasks on `flush`, `sync`, `truncateUpTo` or
 * `whenDurable` before the first append: the commit pipeline waited for LSNs that are never appended.
 */

import { settlesWithinTurns } from "@lora/test-utils";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

/**
 * How many turns of the event loop each call is given to settle (a blocking sync round runs from the check phase).
 * Counted, not timed: a pipeline spinning in microtasks starves the event loop, and then the wait never returns and
 * the test times out instead of passing.
 */
const TURNS = 200;

describe("a log opened above its last LSN", () => {
  for (const syncMode of ["perCommit", "none", { mode: "group", intervalMs: 60_000 }] as const) {
    const name = typeof syncMode === "string" ? syncMode : syncMode.mode;
    it(`flushes, syncs, truncates and reports durability before the first append (${name})`, async () => {
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, syncMode, checkpointLsn: 40 });
      expect(wal.nextLsn()).toBe(41);
      expect(await settlesWithinTurns(wal.flush(), TURNS)).toBe(true);
      expect(await settlesWithinTurns(wal.sync(), TURNS)).toBe(true);
      expect(await settlesWithinTurns(wal.truncateUpTo(40), TURNS)).toBe(true);
      expect(await settlesWithinTurns(wal.whenDurable(40), TURNS)).toBe(true);
      const info = await wal.commitTx(["a"]);
      expect(info?.beginLsn).toBe(41);
      await wal.close();
      const again = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, checkpointLsn: 40 });
      await again.wal.close();
      expect(again.events).toEqual(["a"]);
    });
  }
});
