/**
 * The harness catches every planted bug, and the clean build passes a small budget with zero violations.
 * (Tier B needs the built child process; `pnpm torture` runs it.)
 */

import { describe, expect, it } from "vitest";
import { runFaults } from "./faults.js";
import { PLANTED_BUGS, runPlantedBug } from "./planted-bugs.js";
import { runTierA } from "./tier-a.js";
import { runTierC } from "./tier-c.js";

const soon = (ms: number) => ({ deadline: Date.now() + ms, maxCases: Number.MAX_SAFE_INTEGER });

describe("planted bugs", () => {
  for (const bug of PLANTED_BUGS) {
    it(`catches ${bug}`, async () => {
      const verdict = await runPlantedBug(bug, 1, 6000);
      expect(verdict.caught, `${bug} was not caught`).toBe(true);
    });
  }
});

describe("the clean build", () => {
  it("reports zero violations on a small budget", async () => {
    const a = await runTierA({ seed: 2, budget: soon(6000), maxLen: 3, maxImages: 8 });
    const c = await runTierC({ seed: 2, budget: soon(3000) });
    const f = await runFaults({ seed: 2, budget: soon(3000) });
    for (const r of [a, c, f]) {
      expect(r.cases).toBeGreaterThan(0);
      expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
    }
  });
});
