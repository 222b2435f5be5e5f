/**
 * How the torn-tail study is run and judged: sizes, rounds per size, and the verdict on "linear in the tail size and
 * ≥ 100 MB/s". The speed half is decided like every other target of the bench: from a distribution-free interval of
 * the median over rounds, "met" only when it clears the line at every size, "not met" when it is wholly below the
 * line at some size, undecided otherwise.
 */

import { decide, percent, type QuantileInterval } from "./confidence.js";
import { allOf, metFlag } from "./round-verdict.js";
import type { Profile } from "./workloads.js";

/** Torn-tail sizes (MiB of payload in the torn record). */
export function tornTailSizesMiB(p: Profile): number[] {
  return p === "smoke" ? [1, 2] : p === "quick" ? [1, 8, 64] : [1, 8, 16, 32, 64];
}

/**
 * Rounds of the torn-tail study at one size (each round: one fresh child per size, sizes interleaved). A small
 * size's open takes ~10 ms and is the one whose speed is in doubt (a fixed cost of fsyncs and fresh memory over
 * little data), so it gets the rounds a 96 % interval of the median needs (9); the large sizes, a child of seconds
 * each, get 5 (a 94 % interval). The smoke run decides nothing.
 */
export function tornTailRounds(p: Profile, sizeMiB: number): number {
  if (p === "smoke") return 1;
  if (p === "quick") return 5;
  return sizeMiB <= 16 ? 9 : 5;
}

/**
 * Whether a size with `sizeRounds` rounds runs in round `round` of `allRounds`: its rounds spread evenly over the
 * run (5 of 9: rounds 0, 2, 4, 6, 8), so the sizes stay interleaved to the end and every size's samples come from
 * the same mix of neighbours and disk weather.
 */
export function runsInRound(round: number, sizeRounds: number, allRounds: number): boolean {
  if (sizeRounds >= allRounds) return round < allRounds;
  if (sizeRounds <= 1) return round === 0;
  for (let k = 0; k < sizeRounds; k++) {
    if (Math.round((k * (allRounds - 1)) / (sizeRounds - 1)) === round) return true;
  }
  return false;
}

export const TORN_TAIL_TARGET_MBPS = 100;
export const TORN_TAIL_TARGET = `linear in the tail size and ≥ ${TORN_TAIL_TARGET_MBPS} MB/s`;
/**
 * "Linear": open ÷ raw read+CRC of the same bytes (per round, median) at the largest size is at most this many
 * times the smallest such ratio over the other sizes but the smallest (where an open's fixed cost dominates). A
 * quadratic scan would grow the ratio 8× from 8 to 64 MiB.
 */
export const TORN_TAIL_LINEAR_SLACK = 2;

export interface TornTailPointInput {
  readonly sizeMiB: number;
  readonly tailBytes: number;
  /** Tail bytes ÷ open time: the median over rounds, with its interval. */
  readonly openMBps: QuantileInterval;
  /** Median over rounds of open time ÷ raw read + CRC time. */
  readonly ratio: number;
  /** Median over rounds. */
  readonly openSeconds: number;
}

/**
 * Least-squares line through (tail bytes, median open time): the fixed cost of a torn-tail open (the intercept: the
 * heal's fsyncs, the lock, the directory) and its marginal rate (1 / slope). Null with fewer than two sizes.
 */
export function fitTornTail(
  points: readonly TornTailPointInput[],
): { fixedSeconds: number; marginalMBps: number } | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.tailBytes, 0) / n;
  const my = points.reduce((a, p) => a + p.openSeconds, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.tailBytes - mx) * (p.openSeconds - my);
    sxx += (p.tailBytes - mx) ** 2;
  }
  const slope = sxy / sxx;
  return { fixedSeconds: my - slope * mx, marginalMBps: slope > 0 ? 1 / slope / 1e6 : Number.POSITIVE_INFINITY };
}

export interface TornTailVerdict {
  /** Null with fewer than three sizes. */
  readonly linear: boolean | null;
  /** True when every size's interval clears 100 MB/s, false when one lies wholly below, null when undecided. */
  readonly fast: boolean | null;
  readonly met: boolean | null;
  /** Least-squares fit of median open time against tail bytes: intercept (s) and 1 / slope (MB/s). */
  readonly fixedSeconds: number | null;
  readonly marginalMBps: number | null;
  readonly detail: string;
}

const mbps = (x: number): string => x.toFixed(0);

export function judgeTornTail(points: readonly TornTailPointInput[]): TornTailVerdict {
  if (points.length === 0)
    return { linear: null, fast: null, met: null, fixedSeconds: null, marginalMBps: null, detail: "no data" };
  const speeds = points.map((p) => ({ p, verdict: decide(p.openMBps, TORN_TAIL_TARGET_MBPS, "atLeast") }));
  const fast = metFlag(allOf(speeds.map((s) => s.verdict)));
  const fit = fitTornTail(points);
  const considered = points.slice(1);
  const last = points[points.length - 1] as TornTailPointInput;
  let linear: boolean | null = null;
  let linearText = "linearity: needs 3 sizes";
  if (considered.length >= 2) {
    const best = Math.min(...considered.map((p) => p.ratio));
    linear = last.ratio <= TORN_TAIL_LINEAR_SLACK * best;
    const first = considered[0] as TornTailPointInput;
    linearText =
      `open ÷ raw ${considered.map((p) => `${p.ratio.toFixed(1)}× at ${p.sizeMiB}`).join(", ")} MiB; ` +
      `size × ${(last.sizeMiB / first.sizeMiB).toFixed(0)} → time × ${(last.openSeconds / first.openSeconds).toFixed(1)}`;
  }
  const interval = (p: TornTailPointInput): string =>
    `${p.sizeMiB} MiB ${mbps(p.openMBps.estimate)} (${mbps(p.openMBps.low)} – ${mbps(p.openMBps.high)}, ${percent(
      p.openMBps.coverage,
    )})`;
  const below = speeds.filter((s) => s.verdict === "not met").map((s) => interval(s.p));
  const open = speeds.filter((s) => s.verdict === "undecided").map((s) => interval(s.p));
  const speed =
    fast === true
      ? `≥ ${TORN_TAIL_TARGET_MBPS} MB/s at every size (lowest interval: ${interval(
          speeds.reduce((a, b) => (b.p.openMBps.low < a.p.openMBps.low ? b : a)).p,
        )})`
      : [
          below.length > 0 ? `below ${TORN_TAIL_TARGET_MBPS} MB/s at ${below.join(", ")}` : "",
          open.length > 0 ? `undecided at ${open.join(", ")}` : "",
        ]
          .filter((x) => x !== "")
          .join("; ");
  const fitText =
    fit === null
      ? ""
      : `; fit: ${(fit.fixedSeconds * 1000).toFixed(0)} ms fixed + ${Number.isFinite(fit.marginalMBps) ? fit.marginalMBps.toFixed(0) : "∞"} MB/s marginal`;
  return {
    linear,
    fast,
    met: linear === false || fast === false ? false : linear === true && fast === true ? true : null,
    fixedSeconds: fit?.fixedSeconds ?? null,
    marginalMBps: fit?.marginalMBps ?? null,
    detail: `${speed}${fitText}; ${linearText}`,
  };
}
