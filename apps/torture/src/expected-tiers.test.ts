/**
 * The planted bugs' expected tiers (expected-tiers.ts): every bug has one, and a bug caught only by a tier it is not
 * expected from fails the run as a missed one does, in the table, the listing and the JSON.
 */

import { describe, expect, it } from "vitest";
import { caughtByExpectedTier, EXPECTED_TIERS } from "./expected-tiers.js";
import { type BugVerdict, PLANTED_BUGS, runPlantedBug } from "./planted-bugs.js";
import { type RunReport, renderFigures, renderTable, renderViolations, toJson, violationCount } from "./report.js";
import { TierResult } from "./result.js";
import { FOLLOW_BUGS } from "./tier-f.js";
import { SEAM_BUGS } from "./trace-workload.js";

const report = (bugs: BugVerdict[]): RunReport => ({ seed: 1, minutes: 0, tiers: [new TierResult("A")], bugs, ms: 0 });

/** The "planted bugs" row's caught/ran cell. */
const caughtCell = (r: RunReport) =>
  (
    renderTable(r)
      .split("\n")
      .find((l) => l.startsWith("| planted bugs")) ?? ""
  )
    .split("|")
    .map((c) => c.trim())[12];

describe("the planted bugs' expected tiers", () => {
  it("name at least one tier for every bug the run plants, and nothing else", () => {
    const all = [...PLANTED_BUGS, ...SEAM_BUGS, ...FOLLOW_BUGS];
    expect(Object.keys(EXPECTED_TIERS).sort()).toEqual([...all].sort());
    for (const bug of all) expect(EXPECTED_TIERS[bug].length, bug).toBeGreaterThan(0);
  });

  it("the check: caught by an expected tier passes; caught by another, or not at all, does not", () => {
    expect(caughtByExpectedTier({ caught: true, tier: "A", expectedTiers: ["C", "A"] })).toBe(true);
    expect(caughtByExpectedTier({ caught: true, tier: "A", expectedTiers: ["R"] })).toBe(false);
    expect(caughtByExpectedTier({ caught: false, tier: null, expectedTiers: ["A"] })).toBe(false);
    expect(caughtByExpectedTier({ caught: true, tier: "A", expectedTiers: [] })).toBe(false);
  });

  it("a bug caught only by a tier it is not expected from fails the run, and every report says so", () => {
    const right: BugVerdict = {
      bug: "ack-before-fsync",
      caught: true,
      tier: "A",
      expectedTiers: ["A"],
      example: "x",
      ms: 0,
    };
    const wrong: BugVerdict = { ...right, bug: "durable-event-one-short", expectedTiers: ["R"] };
    const ok = report([right]);
    expect(violationCount(ok)).toBe(0);
    expect(caughtCell(ok)).toBe("1/1");
    const r = report([right, wrong]);
    expect(violationCount(r)).toBe(1);
    expect(caughtCell(r)).toBe("1/2 (+1 by another tier)");
    const json = toJson(r);
    expect(json.ok).toBe(false);
    expect(json.plantedBugs).toMatchObject({
      caught: 1,
      caughtElsewhere: 1,
      total: 2,
      bugs: [
        { bug: "ack-before-fsync", tier: "A", expectedTiers: ["A"], byExpectedTier: true },
        { bug: "durable-event-one-short", tier: "A", expectedTiers: ["R"], byExpectedTier: false },
      ],
    });
    expect(renderViolations(r)).toContain(
      "planted bug durable-event-one-short was caught by tier A only, not by its expected tier R",
    );
    expect(renderFigures(r)).toContain(
      "planted durable-event-one-short (expected: tier R): NOT CAUGHT BY AN EXPECTED TIER, only by tier A",
    );
  });

  it("a real run of a bug planted with the wrong expected tier is caught elsewhere and fails the check", async () => {
    // skip-dir-fsync-on-create is Tier A's; told to expect Tier C (on-disk damage), the run searches C first, finds
    // nothing there, and Tier A catches it.
    const verdict = await runPlantedBug("skip-dir-fsync-on-create", 1, ["C"]);
    expect(verdict).toMatchObject({ caught: true, tier: "A", expectedTiers: ["C"] });
    expect(caughtByExpectedTier(verdict)).toBe(false);
    expect(violationCount(report([verdict]))).toBe(1);
    const right = await runPlantedBug("skip-dir-fsync-on-create", 1);
    expect(right).toMatchObject({ caught: true, tier: "A", expectedTiers: ["A"] });
    expect(violationCount(report([right]))).toBe(0);
  });
});
