/** Tier R (archive, crash, restore, compare): a small fixed run of the clean build reports zero violations. */

import { describe, expect, it } from "vitest";
import { runTierR } from "./tier-r.js";

describe("tier R (archive, crash, restore, compare)", () => {
  it("a fixed run of the clean build reports zero violations and exercises every step", async () => {
    const r = await runTierR({ seed: 3, cases: 4, ops: 30 });
    expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
    expect(r.cases).toBe(4);
    expect(r.extra.commits).toBeGreaterThan(40);
    expect(r.extra.rotations).toBeGreaterThan(4);
    expect(r.extra.crashImages).toBe(4);
    expect(r.extra.restores).toBeGreaterThanOrEqual(8);
    expect(r.extra.restoredTransactionsChecked).toBeGreaterThan(40);
    expect(r.extra.flushes).toBeGreaterThan(8);
  });
});
