/**
 * Tier A's write-after-recovery check (I8, crash-check.ts): a commit made on a recovered image, a close and a second
 * open must give the same history plus that commit, compared transaction by transaction. The planted bug
 * `double-batch-after-recovery` keeps the number of transactions (its commit writes its events twice): a check that
 * compared only how many transactions came back would let it through, and Tier A would not see it at all (none of its
 * focused workloads commits after a reopen of its own).
 */

import { describe, expect, it } from "vitest";
import { runPlantedBug } from "./planted-bugs.js";

describe("the write-after-recovery reopen compares content, not a count", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`catches double-batch-after-recovery in Tier A, same count and other content (seed ${seed})`, async () => {
      const verdict = await runPlantedBug("double-batch-after-recovery", seed);
      expect(verdict.caught, verdict.example ?? "").toBe(true);
      expect(verdict.tier).toBe("A");
      expect(verdict.example).toMatch(
        /the second open recovered a different history \((\d+) transactions, expected \1\)/,
      );
    });
  }
});
