/**
 * Verdicts from rounds: the systems of a workload run interleaved round by round, so round r of every system met
 * the same disk weather. A ratio is taken per round (lora's round r over the baseline's round r) and the target is
 * decided on the median of those ratios with a distribution-free interval (`confidence.ts`): "met" only when the
 * whole interval clears the target, "not met" when it lies wholly on the other side, undecided otherwise.
 */

import { decide, type QuantileInterval, quantileInterval, type Verdict } from "./confidence.js";
import { spread } from "./stats.js";

/** Per-round values by system key (NaN where a round failed). */
export type Rounds = Readonly<Record<string, readonly number[] | undefined>>;

/** The confidence level of every bench interval. */
export const LEVEL = 0.95;

/** One decided ratio (or absolute value) target. */
export interface RoundVerdict {
  /** The per-round values the interval was taken over (ratios, or lora's own values for an absolute target). */
  readonly values: readonly number[];
  readonly interval: QuantileInterval;
  readonly verdict: Verdict;
}

/**
 * Round r's value of `num` over the largest round-r value of `den` (the faster of several baselines, or the best
 * of several peers, in that round); rounds where either side is missing are left out.
 */
export function roundRatios(rounds: Rounds, num: string, den: readonly string[]): number[] {
  const top = rounds[num] ?? [];
  const out: number[] = [];
  for (let r = 0; r < top.length; r++) {
    const n = top[r] as number;
    let d = Number.NaN;
    for (const key of den) {
      const v = rounds[key]?.[r];
      if (v !== undefined && Number.isFinite(v) && !(v <= d)) d = v;
    }
    if (Number.isFinite(n) && Number.isFinite(d) && d > 0) out.push(n / d);
  }
  return out;
}

/**
 * `rounds` with one more series, `key`: per round, the largest value of the systems `of`, or NaN when any of them has
 * none that round (a failed loop must not let the other stand in as "the faster"), so a "faster of two loops"
 * baseline can stand as the numerator of a ratio too.
 */
export function withFasterOf(rounds: Rounds, key: string, of: readonly string[]): Rounds {
  const length = Math.max(0, ...of.map((k) => rounds[k]?.length ?? 0));
  const faster = Array.from({ length }, (_, r) => {
    let best = Number.NEGATIVE_INFINITY;
    for (const k of of) {
      const v = rounds[k]?.[r];
      if (v === undefined || !Number.isFinite(v)) return Number.NaN;
      if (v > best) best = v;
    }
    return best;
  });
  return { ...rounds, [key]: faster };
}

/**
 * {@link ratioAtLeast} with the faster of several systems in each round as the numerator: what a baseline that is
 * "the faster of two loops" reaches against the best of `den` (a round where one of `num` failed is left out).
 */
export function fasterRatioAtLeast(
  rounds: Rounds,
  num: readonly string[],
  den: readonly string[],
  target: number,
): RoundVerdict {
  return ratioAtLeast(withFasterOf(rounds, FASTER, num), FASTER, den, target);
}

/** The key {@link fasterRatioAtLeast} gives its combined series (no system is named so). */
const FASTER = "(faster of)";

/** The median of {@link roundRatios} (NaN without any round): the figure the detail lines and `loraRatio` show. */
export function medianRoundRatio(rounds: Rounds, num: string, den: readonly string[]): number {
  return spread(roundRatios(rounds, num, den)).median;
}

/** Decide `median(values) ≥ target` with the bench's interval. */
export function atLeast(values: readonly number[], target: number): RoundVerdict {
  const interval = quantileInterval(values, 0.5, LEVEL);
  return { values, interval, verdict: decide(interval, target, "atLeast") };
}

/** The ratio target `num / max(den) ≥ target`, decided per round. */
export function ratioAtLeast(rounds: Rounds, num: string, den: readonly string[], target: number): RoundVerdict {
  return atLeast(roundRatios(rounds, num, den), target);
}

/** Several targets that must all hold: met when all are met, not met when any is not, else undecided. */
export function allOf(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.some((v) => v === "not met")) return "not met";
  return verdicts.every((v) => v === "met") ? "met" : "undecided";
}

/** `true`, `false` or `null` (undecided), as `latest.json` records a target. */
export function metFlag(verdict: Verdict): boolean | null {
  return verdict === "met" ? true : verdict === "not met" ? false : null;
}

/** "0.93 × (95 % interval 0.88 – 0.97, 5 rounds)". */
export function describeRatio(v: RoundVerdict, digits = 2): string {
  const i = v.interval;
  if (i.n === 0) return "no rounds";
  return `${i.estimate.toFixed(digits)} × (${(i.coverage * 100).toFixed(1)} % interval ${i.low.toFixed(digits)} – ${i.high.toFixed(digits)}, ${i.n} round${i.n === 1 ? "" : "s"})`;
}
