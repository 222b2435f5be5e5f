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
setFlagsFromString("--allow-natives-syntax");
const gc = runInNewContext("gc") as (options: { type: "minor"; execution: "sync" }) => void;
// Compiled after the flag: V8's own report of how a function runs (bit 64: optimized by TurboFan).
const optimizationStatus = new Function("f", "return %GetOptimizationStatus(f);") as (f: unknown) => number;
const TURBOFANNED = 64;

function newSpaceUsed(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  if (space === undefined) throw new Error("V8 reports no new_space: this test cannot observe what it checks");
  return space.space_used_size;
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
  // Warm up until the per-record method is optimized (the merged conversion exists only in optimized code), then
  // measure a run that fits in the young generation. Bounded by rounds; compilation runs beside, so a loaded machine
  // may need more of them.
  let rounds = 0;
  while (rounds < 5 || (optimizationStatus(TransactionAssembler.prototype.apply) & TURBOFANNED) === 0) {
    expect(applyTransactions(40_000)).toBe(40_000);
    if (++rounds === 100) throw new Error("the assembler's apply was not optimized after 100 rounds");
  }
  gc({ type: "minor", execution: "sync" });
  gc({ type: "minor", execution: "sync" });
  const before = newSpaceUsed();
  expect(applyTransactions(20_000)).toBe(20_000);
  gc({ type: "minor", execution: "sync" });
  const kept = newSpaceUsed() - before;
  // 20,000 converted LSNs would leave the cache's 16,384 entries all fresh strings (~24 bytes each, ~390 KB).
  expect(kept).toBeLessThan(100_000);
});
