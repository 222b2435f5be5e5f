/**
 * The harness catches every planted bug, and the clean build passes a small budget with zero violations.
 * (Tier B needs the built child process; `pnpm torture` runs it.)
 */

import { describe, expect, it } from "vitest";
import { runFaults } from "./faults.js";
import { runMisuse } from "./misuse.js";
import { PLANTED_BUGS, runPlantedBug } from "./planted-bugs.js";
import { runTierA } from "./tier-a.js";
import { runTierC } from "./tier-c.js";

/** A fixed number of cases, never a deadline: the verdict must not change with the machine's load. */
const cases = (n: number) => ({ deadline: Number.POSITIVE_INFINITY, maxCases: n });

describe("planted bugs", () => {
  for (const bug of PLANTED_BUGS) {
    it(`catches ${bug}`, async () => {
      const verdict = await runPlantedBug(bug, 1);
      expect(verdict.caught, `${bug} was not caught: ${verdict.example ?? ""}`).toBe(true);
    });
  }
});

describe("the clean build", () => {
  it("reports zero violations on a fixed set of cases", async () => {
    const a = await runTierA({ seed: 2, budget: cases(400), maxLen: 3, maxImages: 8 });
    const c = await runTierC({ seed: 2, budget: cases(2000) });
    const f = await runFaults({ seed: 2, budget: cases(200) });
    for (const r of [a, c, f]) {
      expect(r.cases).toBeGreaterThan(0);
      expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
    }
  });
});

describe("the misuse tier", () => {
  it("a small fixed run reports zero violations, and runs every planned case", async () => {
    const r = await runMisuse({ seed: 2, sequences: 12 });
    expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
    expect(r.cases).toBe(12);
    expect(r.extra.casesPlanned).toBe(12);
    expect(r.extra.calls).toBeGreaterThan(1000);
    expect(r.extra.refusals).toBeGreaterThan(100);
    expect(r.crashStates).toBeGreaterThan(50);
    expect(r.extra.reopenProbes).toBeGreaterThan(0);
    expect(r.extra.wrongCodecOpens).toBeGreaterThan(0);
  });

  it("is deterministic: the same seed runs the same calls", async () => {
    const a = await runMisuse({ seed: 5, sequences: 3, wrongCodec: false });
    const b = await runMisuse({ seed: 5, sequences: 3, wrongCodec: false });
    expect(b.extra).toEqual(a.extra);
    expect(b.crashStates).toBe(a.crashStates);
  });

  for (const bug of ["accept-unknown-tx", "unchecked-checkpoint-fence"] as const) {
    it(`catches ${bug}: a call that must be refused is accepted`, async () => {
      const r = await runMisuse({ seed: 1, sequences: 8, bugs: [bug], stopOnFirst: true, wrongCodec: false });
      expect(r.violations.length, `${bug} was not caught`).toBeGreaterThan(0);
      expect(r.violations[0]?.kind, r.violations[0]?.message).toBe("accepted-misuse");
    });
  }
});
