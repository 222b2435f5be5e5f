/**
 * The assembler's per-record path converts no numbers to strings. V8 once merged the `${lsn}` conversions of the
 * assembler's never-taken error messages into one it computed for every record (see structure-errors.ts): each
 * conversion lands in V8's number-string cache, a root of every young-generation collection, so ~16,000 fresh
 * strings (~400 KB) were copied at every scavenge and replay spent ~20 % of its time there.
 *
 * Observed the only way JavaScript can: after an optimized run of the assembler, a young-generation collection
 * keeps what the cache holds alive in the new space. Bounded by count (records applied), not by time.
 */

import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { WalRecord } from "@lora/wal-codec";
import { expect, it } from "vitest";
import { TransactionAssembler } from "./transaction-assembler.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as (options: { type: "minor"; execution: "sync" }) => void;

function newSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_used_size ?? 0;
}

/** `count` transactions of one event each through a fresh assembler, as replay applies them. */
function applyTransactions(count: number): number {
  const assembler = new TransactionAssembler<number>(0, false, false, false, true);
  assembler.enterSegment(1, "/wal/0000000001.wal");
  let events = 0;
  for (let i = 0; i < count; i++) {
    const begin = 1 + i * 3;
    const records: WalRecord<number>[] = [
      { kind: "txBegin", lsn: begin },
      { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [i] },
      { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
    ];
    for (const record of records) {
      const committed = assembler.apply(record, 1, "/wal/0000000001.wal");
      if (committed !== undefined) events += committed.events.length;
    }
  }
  return events;
}

it("applying records leaves no fresh number strings for a young-generation collection to copy", () => {
  // Warm up until the per-record method is optimized, then measure a run that fits in the young generation.
  for (let round = 0; round < 5; round++) expect(applyTransactions(40_000)).toBe(40_000);
  gc({ type: "minor", execution: "sync" });
  gc({ type: "minor", execution: "sync" });
  const before = newSpaceUsed();
  expect(applyTransactions(20_000)).toBe(20_000);
  gc({ type: "minor", execution: "sync" });
  const kept = newSpaceUsed() - before;
  // 20,000 converted LSNs would leave the cache's 16,384 entries all fresh strings (~24 bytes each, ~390 KB).
  expect(kept).toBeLessThan(100_000);
});
