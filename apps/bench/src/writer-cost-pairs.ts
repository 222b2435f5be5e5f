/**
 * The writer-cost method both study groups share: adjacent blocks with and without a feature, paired by cycle, and an
 * A/A control (two blocks without it) that says whether the pairs can resolve the target on this machine at all.
 */

import { decide, MIN_DECIDING_COVERAGE, percent, type QuantileInterval, type Verdict } from "./confidence.js";
import { intervalText } from "./study-text.js";

/** How many paired blocks a group measures: per fresh child (round), cycles of every pair after unrecorded ones. */
export interface PairedBlockCounts {
  readonly rounds: number;
  readonly cycles: number;
  readonly warmupCycles: number;
  readonly blockCommits: number;
  /** Closed-loop writers, each awaiting its commit. */
  readonly concurrency: number;
}

/** A measured block as the children report it: which pair of which cycle, and which side of the pair. */
export interface PairedBlock {
  readonly cycle: number;
  /** The condition the pair compares. */
  readonly pair: string;
  /** `pair` for the block with the feature, "base" for the one beside it without. */
  readonly condition: string;
}

/** Every complete pair of `condition`, run by run and cycle by cycle; a cycle missing either block is skipped. */
function* blockPairs<B extends PairedBlock>(
  runs: readonly { readonly blocks: readonly B[] }[],
  condition: string,
): Generator<{ readonly mine: B; readonly base: B }> {
  for (const run of runs) {
    const blocks = run.blocks.filter((b) => b.pair === condition);
    for (const cycle of new Set(blocks.map((b) => b.cycle))) {
      const mine = blocks.find((b) => b.cycle === cycle && b.condition === condition);
      const base = blocks.find((b) => b.cycle === cycle && b.condition === "base");
      if (mine !== undefined && base !== undefined) yield { mine, base };
    }
  }
}

/** A block's figures: its commits, wall time, fdatasyncs and the writer's CPU time. */
export interface MeasuredBlock extends PairedBlock {
  readonly commits: number;
  readonly seconds: number;
  readonly syncs: number;
  readonly cpuSeconds: number;
}

/** The figures of one condition's pairs: per pair the rates and the ratio, summed the counts. */
export interface PairTotals {
  /** Per pair, with the feature ÷ without it. */
  readonly ratios: number[];
  /** Per pair, commits/s of the condition's block and of its base block. */
  readonly rates: number[];
  readonly baseRates: number[];
  readonly commits: number;
  readonly baseCommits: number;
  readonly syncs: number;
  readonly baseSyncs: number;
  readonly cpuSeconds: number;
  readonly baseCpuSeconds: number;
}

/**
 * Sum the pairs of `condition` (see {@link blockPairs}); `each` sees every pair for the group's own figures.
 * `inverted`: the feature is on in the base blocks and off in the condition's (so the ratio is base ÷ condition).
 */
export function pairTotals<B extends MeasuredBlock>(
  runs: readonly { readonly blocks: readonly B[] }[],
  condition: string,
  inverted: boolean,
  each?: (mine: B, base: B) => void,
): PairTotals {
  const t = {
    ratios: [] as number[],
    rates: [] as number[],
    baseRates: [] as number[],
    commits: 0,
    baseCommits: 0,
    syncs: 0,
    baseSyncs: 0,
    cpuSeconds: 0,
    baseCpuSeconds: 0,
  };
  for (const { mine, base } of blockPairs(runs, condition)) {
    const rate = mine.commits / mine.seconds;
    const baseRate = base.commits / base.seconds;
    t.rates.push(rate);
    t.baseRates.push(baseRate);
    t.ratios.push(inverted ? baseRate / rate : rate / baseRate);
    t.commits += mine.commits;
    t.baseCommits += base.commits;
    t.syncs += mine.syncs;
    t.baseSyncs += base.syncs;
    t.cpuSeconds += mine.cpuSeconds;
    t.baseCpuSeconds += base.cpuSeconds;
    each?.(mine, base);
  }
  return t;
}

/** Whether the A/A control lets a writer-cost target be decided, and how the report states the control. */
interface ControlGate {
  /** The lowest acceptable ratio: 1 − the cost target. */
  readonly floor: number;
  /** The control's interval covers enough and lies within [floor, 1 / floor]. */
  readonly resolves: boolean;
  readonly text: string;
}

/**
 * The A/A pairs differ in nothing: unless their interval lies within [floor, 1 / floor], the pairs cannot tell a cost
 * of `costFraction` from none here, and no writer-cost verdict is decided.
 */
function controlGate(control: { readonly ratio: QuantileInterval } | undefined, costFraction: number): ControlGate {
  const floor = 1 - costFraction;
  const resolves =
    control !== undefined &&
    control.ratio.coverage >= MIN_DECIDING_COVERAGE &&
    control.ratio.low >= floor &&
    control.ratio.high <= 1 / floor;
  const text =
    control === undefined
      ? "no A/A control"
      : `A/A control ${control.ratio.low.toFixed(3)} – ${control.ratio.high.toFixed(3)} (${percent(control.ratio.coverage)})`;
  return { floor, resolves, text };
}

/**
 * The verdict on one condition's ratio (with ÷ without): decided only when the control resolves; the detail states
 * the ratio, the cost, the control, and (with `sayAlone`) what the interval would say taken alone.
 */
function writerCostVerdict(
  ratio: QuantileInterval,
  gate: ControlGate,
  costFraction: number,
  sayAlone: boolean,
): { readonly verdict: Verdict; readonly detail: string } {
  const cost = (x: number): string => `${((1 - x) * 100).toFixed(1)} %`;
  const raw = decide(ratio, gate.floor, "atLeast");
  const unresolved =
    `, wider than ${gate.floor} – ${(1 / gate.floor).toFixed(3)}: the pairs cannot resolve ${costFraction * 100} % here` +
    (sayAlone && raw !== "met" ? ` (taken alone the interval says ${raw})` : "");
  return {
    verdict: gate.resolves ? raw : "undecided",
    detail:
      `ratio ${intervalText(ratio, 3, " ×")}: cost ${cost(ratio.estimate)} ` +
      `(interval ${cost(ratio.high)} – ${cost(ratio.low)}); ${gate.text}` +
      (gate.resolves ? "" : unresolved),
  };
}

/** The verdict on one condition of a writer-cost table (every row but the control). */
export interface WriterCostJudgement<R> {
  readonly row: R;
  /** "cost ≤ 3 % (ratio ≥ 0.97)". */
  readonly target: string;
  readonly interval: QuantileInterval;
  readonly verdict: Verdict;
  readonly detail: string;
}

/** A measured floor under a writer-cost target: a condition reported as context, never judged itself. */
export interface WriterCostFloor<R> {
  /** The floor row's condition. */
  readonly condition: string;
  /** What the floor does, for the detail: "copying each sealed segment durably by hand". */
  readonly what: string;
  /** The judged rows whose detail states the floor (those it is a floor for). */
  readonly under: (row: R) => boolean;
}

/**
 * Judge every condition of a writer-cost table against a cost of at most `costFraction`, gated by the row whose
 * condition is "control" (the A/A pairs); `sayAlone`: an unresolved detail also says what the interval alone says.
 * The `floor` row, when given, is not judged: its cost is added to the detail of the rows it lies under.
 */
export function judgeWriterCost<R extends { readonly condition: string; readonly ratio: QuantileInterval }>(
  rows: readonly R[],
  costFraction: number,
  sayAlone: boolean,
  floor?: WriterCostFloor<R>,
): WriterCostJudgement<R>[] {
  const gate = controlGate(
    rows.find((row) => row.condition === "control"),
    costFraction,
  );
  const floorRow = floor === undefined ? undefined : rows.find((row) => row.condition === floor.condition);
  return rows
    .filter((row) => row.condition !== "control" && row !== floorRow)
    .map((row) => {
      const judged = writerCostVerdict(row.ratio, gate, costFraction, sayAlone);
      const withFloor = floor !== undefined && floorRow !== undefined && floorRow.ratio.n > 0 && floor.under(row);
      return {
        row,
        target: `cost ≤ ${costFraction * 100} % (ratio ≥ ${gate.floor})`,
        interval: row.ratio,
        verdict: judged.verdict,
        detail: withFloor ? `${judged.detail}. Floor: ${floor.what} costs ${costText(floorRow.ratio)}` : judged.detail,
      };
    });
}

/** A with ÷ without interval as a cost: "24.1 % (interval 20.3 % – 28.0 %)". */
export function costText(ratio: QuantileInterval): string {
  const pct = (x: number) => `${((1 - x) * 100).toFixed(1)} %`;
  return `${pct(ratio.estimate)} (interval ${pct(ratio.high)} – ${pct(ratio.low)})`;
}

/** One measured block as the report lists it (every block, for a look at the spread behind the pairs). */
export interface BlockRow {
  readonly round: number;
  readonly cycle: number;
  readonly pair: string;
  readonly condition: string;
  readonly commitsPerSecond: number;
}

export function blockRow(b: MeasuredBlock, round: number): BlockRow {
  return {
    round,
    cycle: b.cycle,
    pair: b.pair,
    condition: b.condition,
    commitsPerSecond: Math.round(b.commits / b.seconds),
  };
}
