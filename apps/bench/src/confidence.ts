/**
 * Distribution-free confidence intervals from order statistics, and the three-way verdict the bench states with
 * them ("met", "not met", "undecided").
 *
 * For the q-quantile ξ of whatever distribution the samples come from, the number of samples at or below ξ is
 * Binomial(n, q) when the samples are independent; so [x(l), x(u)] (1-based order statistics) covers ξ with
 * probability P(l ≤ B ≤ u − 1). Nothing is assumed about the shape of the distribution, which matters for fsync
 * latencies (long right tails) and for ratios of rounds on a drifting machine.
 */

/** An interval for a quantile, with the probability that it covers the true value. */
export interface QuantileInterval {
  /** The quantile asked for (0.5 = median, 0.99 = p99). */
  readonly q: number;
  /** The sample quantile (nearest rank). */
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  /** P(low ≤ true quantile ≤ high) under independent samples; at least the level asked for when n allows it. */
  readonly coverage: number;
  readonly n: number;
}

/** log P(B = k) for B ~ Binomial(n, p), 0 < p < 1, by the recurrence from k = 0 (exact enough for n ≤ 10^6). */
function binomialLogPmf(n: number, p: number): Float64Array {
  const out = new Float64Array(n + 1);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  out[0] = n * lq;
  for (let k = 0; k < n; k++) out[k + 1] = (out[k] as number) + Math.log((n - k) / (k + 1)) + lp - lq;
  return out;
}

/** P(B ≤ k) for every k, B ~ Binomial(n, p). */
function binomialCdf(n: number, p: number): Float64Array {
  const logPmf = binomialLogPmf(n, p);
  const cdf = new Float64Array(n + 1);
  let acc = 0;
  for (let k = 0; k <= n; k++) {
    acc += Math.exp(logPmf[k] as number);
    cdf[k] = Math.min(1, acc);
  }
  return cdf;
}

/**
 * The narrowest symmetric-in-probability interval of order statistics that covers the q-quantile with at least
 * `level` probability; with too few samples for that level, the widest one there is ([min, max]) and its actual,
 * lower coverage (5 samples give a median interval of 93.75 %, 3 samples 75 %).
 */
export function quantileInterval(samples: readonly number[], q: number, level = 0.95): QuantileInterval {
  const n = samples.length;
  if (n === 0) return { q, estimate: Number.NaN, low: Number.NaN, high: Number.NaN, coverage: 0, n };
  const x = [...samples].sort((a, b) => a - b);
  const at = (rank: number): number => x[Math.min(n, Math.max(1, rank)) - 1] as number;
  const estimate = at(Math.ceil(q * n));
  const cdf = binomialCdf(n, q);
  const tail = (1 - level) / 2;
  // x(l) ≤ ξ ≤ x(u) exactly when l ≤ B ≤ u − 1, so: the largest l with P(B ≤ l − 1) ≤ tail, the smallest u with
  // P(B ≥ u) ≤ tail; ranks 1 and n when no rank is that far out (too few samples for the level).
  let l = 1;
  while (l < n && (cdf[l] as number) <= tail) l++;
  if ((cdf[l - 1] as number) > tail) l = 1;
  let u = n;
  while (u > 1 && 1 - (cdf[u - 2] as number) <= tail) u--;
  if (u < l) u = l;
  const below = cdf[l - 1] as number;
  const above = 1 - (cdf[u - 1] as number);
  return { q, estimate, low: at(l), high: at(u), coverage: Math.max(0, 1 - below - above), n };
}

/** "met", "not met", or "undecided" when the interval straddles the target. */
export type Verdict = "met" | "not met" | "undecided";

/** Below this coverage an interval decides nothing (one round's ratio, say, has none at all). */
export const MIN_DECIDING_COVERAGE = 0.9;

/**
 * Decide `quantity ≤ target` (`atMost`) or `quantity ≥ target` (`atLeast`) from an interval: met when the whole
 * interval is on the right side, not met when it is wholly on the wrong side, undecided otherwise, and undecided
 * whenever the interval covers with less than {@link MIN_DECIDING_COVERAGE} (too few samples to say).
 */
export function decide(interval: QuantileInterval, target: number, direction: "atMost" | "atLeast"): Verdict {
  if (interval.n === 0 || !Number.isFinite(interval.low) || !Number.isFinite(interval.high)) return "undecided";
  if (interval.coverage < MIN_DECIDING_COVERAGE) return "undecided";
  if (direction === "atMost") {
    if (interval.high <= target) return "met";
    if (interval.low > target) return "not met";
    return "undecided";
  }
  if (interval.low >= target) return "met";
  if (interval.high < target) return "not met";
  return "undecided";
}

/** "met (95 % interval 0.81 – 0.93)"-style wording of a coverage. */
export function percent(coverage: number): string {
  const pct = coverage * 100;
  return `${pct >= 99.95 ? pct.toFixed(2) : pct.toFixed(1)} %`;
}
