import { describe, expect, it } from "vitest";
import type { QuantileInterval } from "./confidence.js";
import { judgeWriterCost, type MeasuredBlock, pairTotals } from "./writer-cost-pairs.js";

const block = (cycle: number, pair: string, condition: string, commits: number, seconds: number): MeasuredBlock => ({
  cycle,
  pair,
  condition,
  commits,
  seconds,
  syncs: commits / 10,
  cpuSeconds: seconds / 2,
});

const interval = (estimate: number, low: number, high: number, coverage = 0.95): QuantileInterval => ({
  q: 0.5,
  estimate,
  low,
  high,
  coverage,
  n: 12,
});

describe("pairTotals", () => {
  const runs = [
    {
      blocks: [
        block(0, "x", "x", 100, 1),
        block(0, "x", "base", 200, 1),
        block(1, "x", "x", 50, 1), // its base block is missing: no pair
        block(0, "y", "y", 1, 1),
        block(0, "y", "base", 1, 1),
      ],
    },
    { blocks: [block(0, "x", "base", 300, 2), block(0, "x", "x", 300, 1)] },
  ];

  it("pairs each cycle's blocks of one condition, run by run, and sums them", () => {
    const seen: number[] = [];
    const t = pairTotals(runs, "x", false, (mine, base) => seen.push(mine.commits, base.commits));
    expect(seen).toEqual([100, 200, 300, 300]);
    expect(t.rates).toEqual([100, 300]);
    expect(t.baseRates).toEqual([200, 150]);
    expect(t.ratios).toEqual([0.5, 2]);
    expect([t.commits, t.baseCommits, t.syncs, t.baseSyncs]).toEqual([400, 500, 40, 50]);
    expect([t.cpuSeconds, t.baseCpuSeconds]).toEqual([1, 1.5]);
  });

  it("inverts the ratio when the feature is on in the base blocks", () => {
    expect(pairTotals(runs, "x", true).ratios).toEqual([2, 0.5]);
  });
});

describe("judgeWriterCost", () => {
  const control = { condition: "control", ratio: interval(1, 0.98, 1.01) };

  it("decides every row but the control when the control lies within the band", () => {
    const row = { condition: "feature", ratio: interval(0.98, 0.975, 0.99) };
    const [v, ...rest] = judgeWriterCost([row, control], 0.03, true);
    expect(rest).toEqual([]);
    expect(v?.row).toBe(row);
    expect(v?.target).toBe("cost ≤ 3 % (ratio ≥ 0.97)");
    expect(v?.verdict).toBe("met");
    expect(v?.detail).toBe(
      "ratio 0.980 × (95.0 % interval 0.975 – 0.990 ×, n = 12): cost 2.0 % (interval 1.0 % – 2.5 %); " +
        "A/A control 0.980 – 1.010 (95.0 %)",
    );
  });

  it("leaves a row undecided when the control is wider than the band, and says so", () => {
    const wide = { condition: "control", ratio: interval(1, 0.9, 1.1) };
    const row = { condition: "feature", ratio: interval(0.8, 0.7, 0.85) };
    const unresolved = ", wider than 0.97 – 1.031: the pairs cannot resolve 3 % here";
    const [alone] = judgeWriterCost([row, wide], 0.03, true);
    expect(alone?.verdict).toBe("undecided");
    expect(alone?.detail.endsWith(`${unresolved} (taken alone the interval says not met)`)).toBe(true);
    const [plain] = judgeWriterCost([row, wide], 0.03, false);
    expect(plain?.verdict).toBe("undecided");
    expect(plain?.detail.endsWith(unresolved)).toBe(true);
    const [met] = judgeWriterCost([{ condition: "feature", ratio: interval(0.99, 0.98, 1) }, wide], 0.03, true);
    expect(met?.detail.endsWith(unresolved)).toBe(true);
  });

  it("judges no floor row, and states its cost in the detail of the rows it lies under", () => {
    const feature = { condition: "feature", ratio: interval(0.8, 0.75, 0.85) };
    const other = { condition: "other", ratio: interval(0.98, 0.975, 0.99) };
    const floorRow = { condition: "floor", ratio: interval(0.9, 0.85, 0.95) };
    const floor = { condition: "floor", what: "doing it by hand", under: (r: { condition: string }) => r === feature };
    const judged = judgeWriterCost([feature, other, floorRow, control], 0.03, false, floor);
    expect(judged.map((v) => v.row)).toEqual([feature, other]);
    expect(judged[0]?.detail.endsWith(". Floor: doing it by hand costs 10.0 % (interval 5.0 % – 15.0 %)")).toBe(true);
    expect(judged[1]?.detail).not.toContain("Floor");
    expect(judged[0]?.verdict).toBe(judgeWriterCost([feature, control], 0.03, false)[0]?.verdict);
  });

  it("decides nothing without a control, nor from a control that covers too little", () => {
    const row = { condition: "feature", ratio: interval(0.99, 0.98, 1) };
    const [none] = judgeWriterCost([row], 0.03, false);
    expect(none?.verdict).toBe("undecided");
    expect(none?.detail).toContain("; no A/A control, wider than");
    const thin = { condition: "control", ratio: interval(1, 0.99, 1.01, 0.75) };
    expect(judgeWriterCost([row, thin], 0.03, false)[0]?.verdict).toBe("undecided");
  });
});
