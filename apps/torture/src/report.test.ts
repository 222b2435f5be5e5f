/**
 * The run's verdict (report.ts): every violation of every kind, and every planted bug not caught (unless skipped),
 * makes the run fail; `main.ts` exits non-zero exactly when `violationCount` is above zero.
 */

import { describe, expect, it } from "vitest";
import type { BugVerdict } from "./planted-bugs.js";
import { type RunReport, renderTable, renderViolations, toJson, violationCount } from "./report.js";
import { TierResult, type ViolationKind } from "./result.js";

function tierWith(kind: ViolationKind): TierResult {
  const t = new TierResult("A");
  t.cases = 1;
  t.add({ tier: "A", kind, caseId: "0", message: "m", replay: "r" });
  return t;
}

const bug = (caught: boolean, skipped?: boolean): BugVerdict => ({
  bug: "ack-before-fsync",
  caught,
  tier: caught ? "A" : null,
  expectedTiers: ["A"],
  example: null,
  ms: 0,
  ...(skipped === undefined ? {} : { skipped }),
});

/** A seam bug skipped as tier D skips one without strace: `example` says why. */
const skippedSeamBug: BugVerdict = {
  bug: "snapshot-rename-before-fsync",
  caught: false,
  tier: null,
  expectedTiers: ["D"],
  example: "strace not found",
  ms: 0,
  skipped: true,
  otherTiers: "none: only Tier D sees this order",
};

const report = (tiers: TierResult[], bugs: BugVerdict[] | null): RunReport => ({
  seed: 1,
  minutes: 0,
  tiers,
  bugs,
  ms: 0,
});

/** The cells of the table's "planted bugs" row (cell 2: bugs, 11: missed, 12: caught/ran). */
function plantedBugsRow(r: RunReport): string[] {
  const row = renderTable(r)
    .split("\n")
    .find((l) => l.startsWith("| planted bugs"));
  return (row ?? "").split("|").map((c) => c.trim());
}

describe("the run's verdict", () => {
  it("a clean run with every planted bug caught passes", () => {
    const r = report([new TierResult("A")], [bug(true), bug(false, true)]);
    expect(violationCount(r)).toBe(0);
    expect(toJson(r).ok).toBe(true);
  });

  const kinds: ViolationKind[] = [
    "lost",
    "phantom",
    "hole",
    "lsn",
    "idempotence",
    "unopenable",
    "sync-order",
    "wrong-code",
    "error",
  ];
  for (const kind of kinds) {
    it(`one ${kind} violation fails the run`, () => {
      const r = report([new TierResult("B"), tierWith(kind)], null);
      expect(violationCount(r)).toBe(1);
      expect(toJson(r).ok).toBe(false);
    });
  }

  it("a planted bug the harness did not catch fails the run, even with no violation in any tier", () => {
    const r = report([new TierResult("A")], [bug(true), bug(false)]);
    expect(violationCount(r)).toBe(1);
    expect(toJson(r).ok).toBe(false);
  });

  it("a skipped planted bug (no strace here) is neither caught nor missed in the table and the listing", () => {
    const r = report([new TierResult("A")], [bug(true), bug(false, true)]);
    const cells = plantedBugsRow(r);
    expect(cells[2]).toBe("1 (+1 skipped)");
    expect(cells[11]).toBe("0");
    expect(cells[12]).toBe("1/1");
    expect(renderViolations(r)).not.toContain("not caught");
  });

  it("the JSON counts only the planted bugs that ran, and lists the skipped ones apart with why", () => {
    const r = report([new TierResult("A")], [bug(true), bug(false), skippedSeamBug]);
    const planted = toJson(r).plantedBugs as {
      caught: number;
      total: number;
      bugs: { bug: string }[];
      skipped: { bug: string; why: string; otherTiers?: string }[];
    };
    expect(planted.caught).toBe(1);
    expect(planted.total).toBe(2);
    expect(planted.bugs.map((b) => b.bug)).toEqual(["ack-before-fsync", "ack-before-fsync"]);
    expect(planted.skipped).toEqual([
      {
        bug: "snapshot-rename-before-fsync",
        expectedTiers: ["D"],
        why: "strace not found",
        otherTiers: "none: only Tier D sees this order",
      },
    ]);
    // The table's caught/ran cell says the same.
    expect(plantedBugsRow(r)[12]).toBe(`${planted.caught}/${planted.total}`);
  });

  it("a planted bug that ran and was missed shows in the table and the listing", () => {
    const r = report([new TierResult("A")], [bug(true), bug(false)]);
    const cells = plantedBugsRow(r);
    expect(cells[2]).toBe("2");
    expect(cells[11]).toBe("1");
    expect(cells[12]).toBe("1/2");
    expect(renderViolations(r)).toContain("planted bug ack-before-fsync was not caught");
  });
});
