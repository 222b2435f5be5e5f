/**
 * The faults tier's background-sync cases: EIO lands on the segment writer's background fdatasync (the one it starts
 * once half the unsynced window is written), and the tier catches a commit round that runs its fdatasync beside that
 * one (the planted bug `sync-beside-background-sync`, the fsyncgate mistake the writer's one-sync-at-a-time rule
 * fixed) on every seed, where the clean build passes the same cases.
 */

import { describe, expect, it } from "vitest";
import { faultCases, runFaults } from "./faults.js";

const unbounded = { deadline: Number.POSITIVE_INFINITY, maxCases: Number.MAX_SAFE_INTEGER };
const SEEDS = [1, 2, 3, 393712725];

/** The indices of the background-sync cases of `seed`. */
function backgroundCases(seed: number): number[] {
  return faultCases(seed).flatMap((c, i) => (c.background === undefined ? [] : [i]));
}

describe("the faults tier's background-sync cases", () => {
  it("put the fault on a background fdatasync in every case, and the clean build passes them", async () => {
    for (const seed of SEEDS) {
      const cases = backgroundCases(seed);
      // Three modes, thread-pool and blocking rounds, once and persistent.
      expect(cases).toHaveLength(12);
      const r = await runFaults({ seed, budget: unbounded, cases });
      expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
      expect(r.extra.backgroundSyncFaults, `seed ${seed}`).toBe(12);
    }
  });

  it("catch sync-beside-background-sync on every seed, in every mode: an acknowledgement after the background sync failed", async () => {
    for (const seed of SEEDS) {
      const r = await runFaults({
        seed,
        budget: unbounded,
        bugs: ["sync-beside-background-sync"],
        cases: backgroundCases(seed),
      });
      // Every case whose fault fails only the background sync: a round beside it succeeds and acknowledges (a
      // persistent fault fails the round's fdatasync too, which then refuses the commit as it should).
      const once = backgroundCases(seed).filter((i) => faultCases(seed)[i]?.fault.persistent !== true);
      expect(once).toHaveLength(6);
      expect([...new Set(r.violations.map((v) => Number(v.caseId)))], `seed ${seed}`).toEqual(once);
      // The acknowledgement came after the fault, and the commit it named is in no crash image: its bytes went
      // with the failed background sync.
      expect(new Set(r.violations.map((v) => v.kind))).toEqual(new Set(["poison", "lost"]));
    }
  });
});
