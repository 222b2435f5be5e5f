/** Tier D (strace of the real process): the clean seam passes, and every seam bug is caught by tier D. */

import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSeamBug } from "./planted-bugs.js";
import { runTierD } from "./tier-d.js";
import { tierDReady } from "./tier-d-ready.js";
import { SEAM_BUGS } from "./trace-workload.js";

describe.skipIf(!tierDReady)("tier D (strace of the real process)", () => {
  it("the clean seam: no static finding, no violation in any checked crash state", async () => {
    const r = await runTierD({ seed: 3, traces: 1, commits: 24, strictSamples: 2, maxStates: 40 });
    expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
    expect(r.extra.syscalls).toBeGreaterThan(100);
    expect(r.extra.statesChecked).toBe(40);
    expect(r.extra.strictStates).toBeGreaterThan(0);
    expect(r.extra.orderedStates).toBeGreaterThan(0);
    expect(r.ackedChecked).toBeGreaterThan(0);
  });

  it("the clean seam in all three sync modes and through both repairing reopens", async () => {
    const r = await runTierD({ seed: 4, traces: 3, healTraces: 2, commits: 18, strictSamples: 2, maxStates: 20 });
    expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
    expect([r.extra["mode.perCommit"], r.extra["mode.group"], r.extra["mode.none"]]).toEqual([2, 2, 1]);
    expect([r.extra["workload.heal-torn"], r.extra["workload.heal-sealed"]]).toEqual([1, 1]);
    // Group acks after whenDurable, none's wrote and synced: every kind of claim was made and checked.
    expect(r.extra["claims.ack"]).toBeGreaterThan(0);
    expect(r.extra["claims.wrote"]).toBeGreaterThan(0);
    expect(r.extra["claims.synced"]).toBeGreaterThan(0);
    expect(r.extra.healStatesChecked).toBeGreaterThan(0);
  });

  for (const bug of SEAM_BUGS) {
    it(`catches the seam bug ${bug}, keeping no trace of it`, async () => {
      // Only this test runs this bug at seed 1: a trace named after it in tmpdir is this run's.
      const kept = async () =>
        (await readdir(tmpdir())).filter(
          (name) => name.startsWith("lora-wal-tier-d-1-") && name.endsWith(`-${bug}.json`),
        );
      for (const name of await kept()) await rm(join(tmpdir(), name), { force: true });
      const verdict = await runSeamBug(bug, 1, { statesAlone: false });
      expect(verdict.caught, `${bug} was not caught: ${verdict.example ?? ""}`).toBe(true);
      expect(verdict.tier).toBe("D");
      expect(await kept()).toEqual([]);
    });
  }
});
