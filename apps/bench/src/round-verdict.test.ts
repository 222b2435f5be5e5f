import { describe, expect, it } from "vitest";
import { allOf, atLeast, metFlag, ratioAtLeast, roundRatios, withFasterOf } from "./round-verdict.js";

describe("round verdicts", () => {
  it("pairs rounds and takes the faster baseline of each round", () => {
    const rounds = { lora: [10, 20, 30], a: [5, 40, Number.NaN], b: [8, 10, 15] };
    expect(roundRatios(rounds, "lora", ["a", "b"])).toEqual([10 / 8, 20 / 40, 30 / 15]);
    // A failed round of lora, or of every baseline, is left out.
    expect(roundRatios({ lora: [Number.NaN, 2], a: [1, 1] }, "lora", ["a"])).toEqual([2]);
    expect(roundRatios({ lora: [1, 2], a: [Number.NaN, 4] }, "lora", ["a"])).toEqual([0.5]);
  });

  it("is met only when the whole interval clears the target, not met when it lies below, else undecided", () => {
    // Five rounds: the median's interval at 95 % is [min, max] with 93.75 % coverage.
    expect(atLeast([1.1, 1.2, 1.05, 1.3, 1.01], 1).verdict).toBe("met");
    expect(atLeast([0.8, 0.9, 0.85, 0.7, 0.95], 1).verdict).toBe("not met");
    expect(atLeast([0.9, 1.2, 1.05, 1.3, 1.01], 1).verdict).toBe("undecided");
    // Nine rounds (--full): the interval runs from the 2nd to the 8th ratio (96.1 %), so one stray round decides
    // nothing either way.
    expect(atLeast([0.9, 1.1, 1.2, 1.05, 1.3, 1.01, 1.15, 1.12, 1.08], 1)).toMatchObject({
      verdict: "met",
      interval: { low: 1.01, high: 1.2, n: 9 },
    });
    expect(atLeast([0.9, 0.95, 0.97, 0.92, 1.3, 0.96, 0.91, 0.94, 0.93], 1).verdict).toBe("not met");
    // Three rounds cover the median with 75 % only: never decided.
    expect(atLeast([2, 3, 4], 1).verdict).toBe("undecided");
    const v = ratioAtLeast({ lora: [2, 2, 2, 2, 2], base: [1, 1, 1, 1, 1] }, "lora", ["base"], 1.5);
    expect(v.interval).toMatchObject({ estimate: 2, low: 2, high: 2, n: 5 });
    expect(v.verdict).toBe("met");
  });

  it("stands the faster of several loops, round by round, as one series", () => {
    const rounds = withFasterOf({ a: [1, 5, Number.NaN, 7], b: [2, 3, 9], peer: [4, 4, 4, 4] }, "best", ["a", "b"]);
    // A round where either loop failed has no "faster": the one left must not stand in for both.
    expect(rounds.best).toEqual([2, 5, Number.NaN, Number.NaN]);
    expect(roundRatios(rounds, "best", ["peer"])).toEqual([0.5, 1.25]);
  });

  it("combines targets and maps verdicts to latest.json's flag", () => {
    expect(allOf(["met", "met"])).toBe("met");
    expect(allOf(["met", "undecided"])).toBe("undecided");
    expect(allOf(["undecided", "not met"])).toBe("not met");
    expect([metFlag("met"), metFlag("not met"), metFlag("undecided")]).toEqual([true, false, null]);
  });
});
