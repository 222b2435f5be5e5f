/** The clean build passes a small fixed budget of tiers A, C and F with zero violations. */

import { describe, expect, it } from "vitest";
import { faultCases, runFaults } from "./faults.js";
import { runTierA } from "./tier-a.js";
import { runTierC } from "./tier-c.js";

/** A fixed number of cases, never a deadline: the verdict must not change with the machine's load. */
const cases = (n: number) => ({ deadline: Number.POSITIVE_INFINITY, maxCases: n });

describe("the clean build", () => {
  it("reports zero violations on a fixed set of cases", async () => {
    const a = await runTierA({ seed: 2, budget: cases(400), maxLen: 3, maxImages: 8 });
    const c = await runTierC({ seed: 2, budget: cases(2000) });
    const f = await runFaults({ seed: 2, budget: cases(faultCases(2).length) });
    for (const r of [a, c, f]) {
      expect(r.cases).toBeGreaterThan(0);
      expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
    }
  });
});
