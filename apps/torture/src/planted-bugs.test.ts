/**
 * The planted-bug verdict (planted-bugs.ts) itself: a "bug" that changes nothing must not be reported caught, or
 * "every planted bug caught" would say nothing about the harness.
 */

import type { PlantedBug } from "@lora/wal/testing";
import { describe, expect, it } from "vitest";
import { faultCases } from "./faults.js";
import { type FocusSample, focusedCases, runPlantedBug } from "./planted-bugs.js";
import { mix, rng } from "./prng.js";
import type { TierName } from "./result.js";
import { workloadAt } from "./workloads.js";

const SEED = 1;

/** One case of each kind (`kindOf`), the one chosen by a fixed seed; in the list's order. */
function onePerKind(cases: readonly number[], kindOf: (index: number) => string): number[] {
  const kinds = new Map<string, number[]>();
  for (const index of cases) kinds.set(kindOf(index), [...(kinds.get(kindOf(index)) ?? []), index]);
  const next = rng(mix(SEED, 0x5a));
  return [...kinds.values()].map((group) => group[Math.floor(next() * group.length)] as number).sort((a, b) => a - b);
}

const faults = faultCases(SEED);
/** A fault case's kind: the failing call and how it fails, the mode, the segment size, background rounds' placement. */
function faultKind(index: number): string {
  const c = faults[index];
  if (c === undefined) throw new Error(`no fault case ${index}`);
  const what = c.name.replace(/ #\d+| after \d+ bytes| at commit \d+/g, "");
  return `${what} | ${c.mode} | tiny ${c.tiny} | blocking ${c.background?.blocking ?? "-"}`;
}

/**
 * Every tier judges the bug, on a seeded sample of its focused cases with every kind of case in it: the question is
 * whether the verdict attributes a violation the bug did not cause, not whether the clean build passes every
 * focused case (torture.clean-build.test.ts's runs, and the planted-bug runs' controls, check that). Tier A runs one
 * variant of each of its 24 sequence-and-mode cases (of 96), the faults one case of each kind (33 of 201: the other
 * call numbers and short-write sizes are left out), misuse its first 2 sequences of 8 (the first names the sentinel transaction ids), tier D 40 crash states of its trace
 * instead of 150; C (200 damage cases) and R (6 cases) run whole, as they take well under a second.
 */
const SAMPLE: FocusSample = {
  cases: (tier: TierName, focused: readonly number[]) => {
    if (tier === "A") return onePerKind(focused, (i) => `${workloadAt(i).ops.join(",")} ${workloadAt(i).mode}`);
    if (tier === "faults") return onePerKind(focused, faultKind);
    if (tier === "misuse") return focused.slice(0, 2);
    return focused;
  },
  tierDStates: 40,
};

describe("the planted-bug verdict", () => {
  it("a planted bug the handle does not know (so changes nothing) is not caught, and no tier is named", async () => {
    const verdict = await runPlantedBug("no-such-bug" as PlantedBug, SEED, [], SAMPLE);
    expect(verdict).toMatchObject({ caught: false, tier: null, example: null });
  });

  it("the sample has every kind of case: each Tier A sequence in each mode, every variant, each kind of fault", () => {
    const pick = SAMPLE.cases as NonNullable<FocusSample["cases"]>;
    const a = pick("A", focusedCases());
    const aKinds = (cases: readonly number[], of: (w: ReturnType<typeof workloadAt>) => string) =>
      new Set(cases.map((i) => of(workloadAt(i))));
    expect(a.length).toBe(24);
    expect(aKinds(a, (w) => `${w.ops.join(",")} ${w.mode}`).size).toBe(24);
    expect(aKinds(a, (w) => w.variant.name)).toEqual(aKinds(focusedCases(), (w) => w.variant.name));
    const all = faults.map((_, i) => i);
    const sampled = pick("faults", all);
    expect(sampled.length).toBe(33);
    expect(new Set(sampled.map(faultKind))).toEqual(new Set(all.map(faultKind)));
  });
});
