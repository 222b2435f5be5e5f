/** Tier A's case order: what a short, count-bounded run reaches. */

import { describe, expect, it } from "vitest";
import { caseOrder } from "./tier-a.js";
import { workloadAt, workloadCount } from "./workloads.js";

const SMOKE_CASES = 200;

describe("tier A case order", () => {
  it("runs every single operation first, in index order, then every pair, then the longer sequences: each exactly once", () => {
    const order = Array.from(caseOrder(7, 3));
    const singles = workloadCount(1);
    const pairs = workloadCount(2);
    expect(order.slice(0, singles)).toEqual(Array.from({ length: singles }, (_, i) => i));
    expect([...order.slice(singles, pairs)].sort((a, b) => a - b)).toEqual(
      Array.from({ length: pairs - singles }, (_, i) => singles + i),
    );
    expect(new Set(order).size).toBe(workloadCount(3));
    expect(order.slice(pairs).every((i) => i >= pairs)).toBe(true);
  });

  it("a smoke run reaches different pairs with each seed, so no pair of operations stays out of reach", () => {
    const singles = workloadCount(1);
    const reachedFirstOps = new Set<string>();
    const reachedSecondOps = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      for (const index of caseOrder(seed, 3).slice(singles, SMOKE_CASES)) {
        const { ops } = workloadAt(index);
        reachedFirstOps.add(ops[0] as string);
        reachedSecondOps.add(ops[1] as string);
      }
    }
    // In index order the same first pairs came every time: one second operation only.
    const all = new Set(Array.from({ length: singles }, (_, i) => workloadAt(i).ops[0] as string));
    expect(reachedSecondOps).toEqual(all);
    expect(reachedFirstOps).toEqual(all);
    const a = Array.from(caseOrder(1, 3).slice(singles, SMOKE_CASES));
    const b = Array.from(caseOrder(2, 3).slice(singles, SMOKE_CASES));
    expect(a).not.toEqual(b);
  });
});
