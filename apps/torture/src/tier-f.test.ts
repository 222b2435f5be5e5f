/**
 * Tier F (the change feed): a small fixed run of the clean build reports zero violations, and every planted bug of
 * the tier is caught. F-proc's child script is bundled from the sources here (see follow-child-build.ts), so it
 * needs no build.
 */

import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FOLLOW_BUGS, runFollowBug, runTierF } from "./tier-f.js";
import { followProcRootPrefix } from "./tier-f-proc.js";

const listed = (r: { violations: readonly { kind: string; message: string }[] }) =>
  r.violations.map((v) => `${v.kind}: ${v.message}`);

describe("tier F (the change feed)", () => {
  it("F-sim: a fixed run of the clean build reports zero violations and checks every kind of thing", async () => {
    const r = await runTierF({ seed: 2, simCases: 3, simOps: 30, procCycles: 0 });
    expect(listed(r)).toEqual([]);
    expect(r.cases).toBe(3);
    expect(r.extra.operations).toBeGreaterThan(60);
    expect(r.extra.deliveriesChecked).toBeGreaterThan(100);
    expect(r.extra.crashImages).toBeGreaterThan(5);
    expect(r.extra.kills).toBeGreaterThan(3);
    expect(r.extra.resumes).toBeGreaterThan(5);
    expect(r.extra.rotations).toBeGreaterThan(5);
    expect(r.extra.tokenChecks).toBeGreaterThan(0);
    expect(r.extra.durableOnlyChecked).toBeGreaterThan(0);
    expect(r.extra.interleaved).toBeGreaterThan(0); // exact resume tokens are exercised
    expect(r.extra.straddledRestarts).toBeGreaterThan(0); // a restart learned of before reading the session's end
  });

  it("F-sim: a case limiting its slot lags it behind truncation, and the writer links the slot's marker into place", async () => {
    // Case 3 limits what the slot may hold back; at seed 2 it lags the slot 4 times and the writer invalidates it 3.
    const r = await runTierF({ seed: 2, simCases: 0, simOps: 40, simCaseList: [3], procCycles: 0 });
    expect(listed(r)).toEqual([]);
    expect(r.extra.slotLags).toBeGreaterThan(0);
    expect(r.extra.slotInvalidations).toBeGreaterThan(0);
    // Through the writer's view: the seam's link, not the exclusive create a seam without it gets.
    expect(r.extra.markerLinks).toBeGreaterThanOrEqual(r.extra.slotInvalidations as number);
  });

  it("F-proc: SIGKILLed writers and a slot follower, zero violations, every acknowledged commit delivered", async () => {
    const r = await runTierF({ seed: 2, simCases: 0, simOps: 0, procCycles: 6 });
    expect(listed(r)).toEqual([]);
    expect(r.extra["proc.cycles"]).toBe(7);
    expect(r.extra["proc.kills"]).toBeGreaterThanOrEqual(5);
    expect(r.extra["proc.rotations"]).toBeGreaterThan(5);
    expect(r.ackedChecked).toBeGreaterThan(0);
    expect(r.extra["proc.deliveriesChecked"]).toBe(r.extra["proc.historyTransactions"]);
    // Low-level transactions committed across other writers' commits: the follower's exact tokens are exercised.
    expect(r.extra["proc.lowLevelAcked"]).toBeGreaterThan(0);
    expect(r.extra["proc.interleavedCommits"]).toBeGreaterThan(0);
  });

  for (const bug of FOLLOW_BUGS) {
    it(`catches the planted bug ${bug}`, async () => {
      // Only this test runs this bug at seed 1: whatever of its directories is left in tmpdir, its run left.
      const prefix = followProcRootPrefix({ seed: 1, bug });
      const kept = async () => (await readdir(tmpdir())).filter((name) => name.startsWith(prefix));
      for (const name of await kept()) await rm(join(tmpdir(), name), { recursive: true, force: true });
      const verdict = await runFollowBug(bug, 1);
      expect(verdict.caught, `${bug} was not caught: ${verdict.example ?? ""}`).toBe(true);
      expect(verdict.tier).toBe("F");
      // A planted bug's finding is the expected one: its directory is not kept.
      expect(await kept()).toEqual([]);
    });
  }
});
