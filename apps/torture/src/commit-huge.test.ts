/**
 * Tier A's `commitHuge` writes one record larger than two of the workload's 4 KiB unsynced windows: it goes out in
 * window-sized pieces synced in turn, its header in the first and its end in the last, so the crash states hold a
 * record whose fsynced start is followed by pieces torn or lost. Every such state must open with every acknowledged
 * commit (the clean build passes), and the op must have teeth: with the segment writers ignoring the window (the
 * planted `unsynced-window-ignored`), a tear of the whole write losing its first sector leaves damage more than a
 * window before the commit marker, which recovery refuses, and the op alone shows it.
 */

import { describe, expect, it } from "vitest";
import { caseIndex } from "./planted-bugs.js";
import { runTierA } from "./tier-a.js";
import { MODES, VARIANTS } from "./workloads.js";

const unbounded = { deadline: Number.POSITIVE_INFINITY, maxCases: Number.MAX_SAFE_INTEGER };
const ONE_SEGMENT = VARIANTS.findIndex((v) => v.name === "one-segment");
const singles = MODES.flatMap((mode) => VARIANTS.map((_, v) => caseIndex(["commitHuge"], mode, v)));
const oneSegment = MODES.map((mode) => caseIndex(["commitHuge"], mode, ONE_SEGMENT));

describe("commitHuge", () => {
  it("opens every crash state of a record over two windows with every acknowledged commit", async () => {
    for (const seed of [1, 2]) {
      const r = await runTierA({ seed, budget: unbounded, maxLen: 1, maxImages: 8, cases: singles });
      expect(r.violations.map((v) => v.message)).toEqual([]);
      expect(r.cases).toBe(12);
      expect(r.crashStates).toBeGreaterThan(12 * 15);
    }
  });

  it("is refused in some crash state when the writers ignore the unsynced window", async () => {
    for (const index of oneSegment) {
      const r = await runTierA({
        seed: 1,
        budget: unbounded,
        maxLen: 1,
        maxImages: 6,
        cases: [index],
        bugs: ["unsynced-window-ignored"],
        stopOnFirst: true,
      });
      expect(r.violations.length, `case ${index}`).toBeGreaterThan(0);
      expect(r.violations[0]?.message).toContain("commitHuge");
    }
  });
});
