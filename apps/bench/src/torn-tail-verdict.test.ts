import { describe, expect, it } from "vitest";
import { quantileInterval } from "./confidence.js";
import { judgeTornTail, runsInRound, type TornTailPointInput, tornTailRounds } from "./torn-tail-verdict.js";

const MiB = 2 ** 20;

/** A size measured over rounds at these MB/s, with open ÷ raw `ratio` (the same every round). */
function point(sizeMiB: number, mbps: readonly number[], ratio = 8): TornTailPointInput {
  const openMBps = quantileInterval(mbps, 0.5);
  const tailBytes = sizeMiB * MiB;
  return { sizeMiB, tailBytes, openMBps, ratio, openSeconds: tailBytes / 1e6 / openMBps.estimate };
}

const nine = (around: number, spreadBy: number): number[] =>
  Array.from({ length: 9 }, (_, i) => around + (i - 4) * spreadBy);

describe("judgeTornTail", () => {
  it("met when every size's median interval is above 100 MB/s and the ratio stays flat", () => {
    const v = judgeTornTail([point(1, nine(150, 5)), point(8, nine(400, 10)), point(64, nine(600, 10))]);
    expect(v).toMatchObject({ fast: true, linear: true, met: true });
    expect(v.detail).toContain("≥ 100 MB/s at every size (lowest interval: 1 MiB 150 (135 – 165, 96.1 %))");
  });

  it("not met when one size's interval lies wholly below 100 MB/s, whatever the others", () => {
    const v = judgeTornTail([point(1, nine(80, 2)), point(8, nine(400, 10)), point(64, nine(600, 10))]);
    expect(v).toMatchObject({ fast: false, met: false });
    expect(v.detail).toContain("below 100 MB/s at 1 MiB 80");
  });

  it("undecided when a median of 120 MB/s has rounds on both sides of the line", () => {
    const v = judgeTornTail([point(1, nine(120, 15)), point(8, nine(400, 10)), point(64, nine(600, 10))]);
    expect(v).toMatchObject({ fast: null, linear: true, met: null });
    expect(v.detail).toContain("undecided at 1 MiB 120 (75 – 165, 96.1 %)");
  });

  it("decides nothing from three rounds (their min – max covers the median with 75 %), however fast", () => {
    const v = judgeTornTail([point(1, [900, 950, 1000]), point(8, [900, 950, 1000]), point(64, [900, 950, 1000])]);
    expect(v).toMatchObject({ fast: null, met: null });
  });

  it("not met when the ratio to raw grows with the size (a scan worse than linear), however fast", () => {
    const v = judgeTornTail([point(1, nine(150, 5)), point(8, nine(400, 10), 8), point(64, nine(300, 10), 17)]);
    expect(v).toMatchObject({ fast: true, linear: false, met: false });
  });

  it("names every size that is below and every one that is undecided", () => {
    const v = judgeTornTail([point(1, nine(80, 2)), point(8, nine(110, 15)), point(64, nine(600, 10))]);
    expect(v).toMatchObject({ fast: false, met: false });
    expect(v.detail).toMatch(
      /^below 100 MB\/s at 1 MiB 80 \(74 – 86, 96\.1 %\); undecided at 8 MiB 110 \(65 – 155, 96\.1 %\);/,
    );
  });

  it("two sizes (the smoke run): fast enough decides nothing, as linearity needs three", () => {
    const v = judgeTornTail([point(1, nine(150, 5)), point(2, nine(250, 5))]);
    expect(v).toMatchObject({ fast: true, linear: null, met: null });
  });

  it("no data: no verdict", () => {
    expect(judgeTornTail([])).toMatchObject({ met: null, detail: "no data" });
  });
});

describe("runsInRound", () => {
  const schedule = (sizeRounds: number, allRounds: number): number[] =>
    Array.from({ length: allRounds }, (_, r) => r).filter((r) => runsInRound(r, sizeRounds, allRounds));

  it("spreads a size's rounds evenly over the run, the first and last rounds included", () => {
    expect(schedule(5, 9)).toEqual([0, 2, 4, 6, 8]);
    expect(schedule(9, 9)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(schedule(3, 9)).toEqual([0, 4, 8]);
    expect(schedule(1, 9)).toEqual([0]);
    for (let all = 1; all <= 12; all++) {
      for (let size = 1; size <= all; size++) expect(schedule(size, all)).toHaveLength(size);
    }
  });
});

describe("tornTailRounds", () => {
  it("gives the small sizes of a full run the rounds a 96 % interval needs, the large ones 5", () => {
    expect([1, 8, 16, 32, 64].map((s) => tornTailRounds("full", s))).toEqual([9, 9, 9, 5, 5]);
    expect(tornTailRounds("quick", 64)).toBe(5);
    expect(tornTailRounds("smoke", 1)).toBe(1);
    expect(quantileInterval(nine(100, 1), 0.5).coverage).toBeCloseTo(0.961, 3);
    expect(quantileInterval([1, 2, 3, 4, 5], 0.5).coverage).toBeGreaterThanOrEqual(0.9);
  });
});
