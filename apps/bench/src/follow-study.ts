/**
 * The change-feed group (`--only follow`): orchestrates the children of `follow.ts`, decides each target with a
 * stated confidence, and renders `follow.{json,md}`.
 *
 * Targets (the bench README's "change feed" row): in-process delivery p99 ≤ 0.5 ms and cross-process p99 ≤ 5 ms after the
 * writer's acknowledgement; a follower catching up from far behind ≥ 0.8 × `replayDir`'s records/s; a follower
 * costs the 64-writer commit rate ≤ 3 %. Each verdict comes from a distribution-free interval (`confidence.ts`):
 * for a p99, over every sample of every round; for a ratio, the median of the per-round (catch-up) or per-pair
 * (writer cost) ratios.
 */

import {
  decide,
  MIN_DECIDING_COVERAGE,
  percent,
  type QuantileInterval,
  quantileInterval,
  type Verdict,
} from "./confidence.js";
import type { CatchUpResult, CatchUpSystem, ClockProbe, FollowJob, LatencyResult, WriterCostResult } from "./follow.js";
import { fmt, type Spread, spread } from "./stats.js";
import { type StudyContext, type StudyLoad, studyChildren } from "./study-context.js";
import { intervalText, runHeaderLines, type StudyRun, verdictTableLines } from "./study-text.js";
import type { Profile } from "./workloads.js";
import { type BlockRow, blockRow, judgeWriterCost, type PairedBlockCounts, pairTotals } from "./writer-cost-pairs.js";

export const FOLLOW_TARGETS = {
  inProcessP99Ms: 0.5,
  crossProcessP99Ms: 5,
  catchUpRatio: 0.8,
  writerCostFraction: 0.03,
} as const;

/** The interval level every verdict of the group asks for (fewer samples than it needs are stated as such). */
const LEVEL = 0.95;

interface FollowCounts {
  readonly latency: {
    readonly commits: number;
    readonly warmup: number;
    readonly rounds: number;
    /** Per round, for the recorded commits. */
    readonly timeLimitMs: number;
  };
  readonly catchUp: { readonly mib: number; readonly rounds: number };
  readonly writerCost: PairedBlockCounts & { readonly confirmEvery: number };
}

export function followCounts(p: Profile): FollowCounts {
  if (p === "smoke") {
    return {
      latency: { commits: 100, warmup: 20, rounds: 1, timeLimitMs: 10_000 },
      catchUp: { mib: 2, rounds: 1 },
      writerCost: { rounds: 1, cycles: 1, warmupCycles: 0, blockCommits: 640, concurrency: 64, confirmEvery: 500 },
    };
  }
  if (p === "quick") {
    return {
      latency: { commits: 1000, warmup: 100, rounds: 2, timeLimitMs: 20_000 },
      catchUp: { mib: 32, rounds: 3 },
      writerCost: { rounds: 2, cycles: 5, warmupCycles: 1, blockCommits: 6400, concurrency: 64, confirmEvery: 10_000 },
    };
  }
  return {
    latency: { commits: 2000, warmup: 200, rounds: 3, timeLimitMs: 20_000 },
    catchUp: { mib: 64, rounds: 5 },
    writerCost: { rounds: 3, cycles: 6, warmupCycles: 1, blockCommits: 12_800, concurrency: 64, confirmEvery: 10_000 },
  };
}

/** What the orchestrator lends the group (`group-contexts.ts`). */
export type FollowStudyContext = StudyContext<FollowJob>;

// ---- the report ------------------------------------------------------------------------------------------------

export interface FollowVerdict {
  readonly name: string;
  readonly target: string;
  /** What the interval is of, in words ("p99 of ack → delivery, ms"). */
  readonly measure: string;
  readonly interval: QuantileInterval;
  readonly verdict: Verdict;
  readonly detail: string;
}

export interface LatencyRow {
  readonly label: string;
  readonly rounds: number;
  readonly samples: number;
  /** Pooled over rounds, milliseconds. */
  readonly p50: QuantileInterval;
  readonly p99: QuantileInterval;
  readonly maxMs: number;
  /** Per round: p50 and p99 (ms). */
  readonly perRound: readonly { readonly p50: number; readonly p99: number; readonly max: number }[];
  /** The same samples on each process's wall clock (`performance.timeOrigin + performance.now()`). */
  readonly wallP50Ms: number;
  readonly wallP99Ms: number;
  /** Rounds that the time limit ended before their count of commits. */
  readonly cutShort: number;
  /** How many samples exceed each threshold (ms): the tail, beyond the p99. */
  readonly above: readonly { readonly ms: number; readonly count: number }[];
  /** Samples delivered before the writer resumed from its `await commitTx` (a negative latency). */
  readonly deliveredBeforeAck: number;
  /** `commitTx` → acknowledgement (the fsync round), pooled: context. */
  readonly ackP50Ms: number;
  readonly ackP99Ms: number;
}

export interface ClockCheck {
  readonly round: number;
  readonly probes: number;
  /** Probes where the follower's stamp was not between the writer's send and receipt (0 on a shared clock). */
  readonly violations: number;
  /** Follower clock − writer clock, as far as the probes bound it (ns): [max(t2 − t3), min(t2 − t1)]. */
  readonly offsetLowNs: number;
  readonly offsetHighNs: number;
  readonly minRoundTripNs: number;
  /** The same bounds for the wall clocks (`timeOrigin + now`), ms. */
  readonly wallOffsetLowMs: number;
  readonly wallOffsetHighMs: number;
}

export interface CatchUpRow {
  readonly system: CatchUpSystem;
  readonly label: string;
  readonly recordsPerSecond: Spread;
  readonly seconds: Spread;
  readonly firstDeliveryMs: Spread;
  readonly coldSeconds: Spread;
  /** The first warm pass alone (the timed figure is the median of the warm passes). */
  readonly firstWarmSeconds: Spread;
  /** Median over rounds of the minor page faults in the first warm pass and in the median one. */
  readonly firstWarmPageFaults: number;
  readonly pageFaults: number;
  readonly recordsPerCpuSecond: number;
  /** Median over rounds; null where not measured. */
  readonly rssGrowthMiB: number | null;
  /** Per-round ratio to `replayDir` of the same round. */
  readonly ratioToReplay: QuantileInterval | null;
  readonly error?: string;
}

export interface WriterCostRow {
  readonly condition: "inProcess" | "crossProcess" | "rawTail" | "noMark" | "control";
  readonly label: string;
  /** Commits/s of the blocks of this condition and of their paired base blocks (medians over pairs). */
  readonly rate: number;
  readonly baseRate: number;
  /** Per pair: writer with the feature ÷ writer without it, interval of the median. */
  readonly ratio: QuantileInterval;
  readonly pairs: number;
  readonly syncsPerCommit: number;
  readonly baseSyncsPerCommit: number;
  readonly writerCpuPerCommitUs: number;
  readonly baseWriterCpuPerCommitUs: number;
  readonly followerCpuPerCommitUs: number | null;
  readonly followerStartMs: Spread | null;
  readonly followerDrainMs: Spread | null;
  readonly confirms: number;
}

export interface FollowReport {
  readonly profile: Profile;
  readonly durationSeconds: number;
  readonly counts: FollowCounts;
  readonly load: StudyLoad;
  readonly latency: {
    readonly inProcess: LatencyRow | null;
    readonly crossProcess: LatencyRow | null;
    readonly clock: readonly ClockCheck[];
  };
  readonly catchUp: {
    readonly sizeMiB: number;
    readonly bytes: number;
    readonly transactions: number;
    readonly records: number;
    readonly rounds: number;
    readonly rows: readonly CatchUpRow[];
  } | null;
  readonly writerCost: {
    readonly rounds: number;
    readonly rows: readonly WriterCostRow[];
    /** Every measured block, for a look at the spread behind the pairs. */
    readonly blocks: readonly BlockRow[];
  } | null;
  readonly verdicts: readonly FollowVerdict[];
  readonly errors: readonly string[];
}

// ---- orchestration ---------------------------------------------------------------------------------------------

const CATCH_UP_SYSTEMS: readonly { readonly system: CatchUpSystem; readonly label: string }[] = [
  { system: "replayDir", label: "replayDir (baseline)" },
  { system: "followDir", label: "followDir from after = 0 (another process's feed)" },
  { system: "walFollow", label: "wal.follow({ after: 0 }) on an open handle" },
  { system: "readCommitted", label: "readCommitted(after = 0) (context: the bounded reader)" },
];

const COST_LABELS = {
  inProcess: "in-process follower (wal.follow) consuming",
  crossProcess: "cross-process follower (followDir on a slot, confirm every N)",
  rawTail:
    "floor: a process tailing the segment files by hand (watch, readSync, record lengths, commit CRCs; no decode or mark)",
  noMark: "durable mark: default ÷ publishDurableLsn: false",
  control: "A/A control: a block without a follower ÷ another one",
} as const;

const ms = (ns: number): number => ns / 1e6;
const pct = (xs: readonly number[], q: number): number => quantileInterval(xs, q, LEVEL).estimate;

const TAIL_THRESHOLDS_MS = [0.5, 1, 5, 50, 900] as const;

function latencyRow(label: string, results: readonly LatencyResult[], commits: number): LatencyRow | null {
  if (results.length === 0) return null;
  const all = results.flatMap((r) => r.ackToDeliveryNs.map(ms));
  const wall = results.flatMap((r) => r.ackToDeliveryWallMs);
  const acks = results.flatMap((r) => r.commitToAckNs.map(ms));
  return {
    label,
    rounds: results.length,
    samples: all.length,
    p50: quantileInterval(all, 0.5, LEVEL),
    p99: quantileInterval(all, 0.99, LEVEL),
    maxMs: Math.max(...all),
    perRound: results.map((r) => {
      const xs = r.ackToDeliveryNs.map(ms);
      return { p50: pct(xs, 0.5), p99: pct(xs, 0.99), max: Math.max(...xs) };
    }),
    wallP50Ms: pct(wall, 0.5),
    wallP99Ms: pct(wall, 0.99),
    cutShort: results.filter((r) => r.ackToDeliveryNs.length < commits).length,
    above: TAIL_THRESHOLDS_MS.map((t) => ({ ms: t, count: all.filter((x) => x > t).length })),
    deliveredBeforeAck: all.filter((x) => x < 0).length,
    ackP50Ms: pct(acks, 0.5),
    ackP99Ms: pct(acks, 0.99),
  };
}

function clockCheck(round: number, probes: readonly ClockProbe[]): ClockCheck {
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  let wallLow = Number.NEGATIVE_INFINITY;
  let wallHigh = Number.POSITIVE_INFINITY;
  let violations = 0;
  let minRoundTripNs = Number.POSITIVE_INFINITY;
  for (const p of probes) {
    low = Math.max(low, p.t2 - p.t3);
    high = Math.min(high, p.t2 - p.t1);
    wallLow = Math.max(wallLow, p.w2 - p.w3);
    wallHigh = Math.min(wallHigh, p.w2 - p.w1);
    if (p.t2 < p.t1 || p.t2 > p.t3) violations++;
    minRoundTripNs = Math.min(minRoundTripNs, p.t3 - p.t1);
  }
  return {
    round,
    probes: probes.length,
    violations,
    offsetLowNs: low,
    offsetHighNs: high,
    minRoundTripNs,
    wallOffsetLowMs: wallLow,
    wallOffsetHighMs: wallHigh,
  };
}

export async function runFollowStudy(ctx: FollowStudyContext): Promise<FollowReport> {
  const t0 = performance.now();
  const children = studyChildren(ctx);
  const { run, errors } = children;
  const counts = followCounts(ctx.profile);

  // 1. Latency: in-process and cross-process rounds interleaved.
  const lc = counts.latency;
  ctx.log(`follow: ack → delivery latency, ${lc.rounds} round(s) × ${lc.commits} commits, one at a time`);
  const inProcess: LatencyResult[] = [];
  const crossProcess: LatencyResult[] = [];
  for (let r = 0; r < lc.rounds; r++) {
    for (const mode of ["inProcess", "crossProcess"] as const) {
      const label = `follow.latency.${mode}.r${r}`;
      const res = await run<LatencyResult>(
        {
          kind: "latency",
          mode,
          dir: `${ctx.workRoot}/${label}`,
          commits: lc.commits,
          warmup: lc.warmup,
          timeLimitMs: lc.timeLimitMs,
        },
        label,
        lc.timeLimitMs + lc.warmup * 2000 + 120_000,
      );
      if (res !== undefined) (mode === "inProcess" ? inProcess : crossProcess).push(res);
    }
  }

  // 2. Catch-up: every system once per round, rounds interleaved.
  const cc = counts.catchUp;
  ctx.log(`follow: catch-up from after = 0 over a ${cc.mib} MiB log, ${cc.rounds} round(s)`);
  let catchUp: FollowReport["catchUp"] = null;
  try {
    const data = await ctx.dataset(cc.mib * 2 ** 20);
    const results = new Map<CatchUpSystem, (CatchUpResult | undefined)[]>(CATCH_UP_SYSTEMS.map((s) => [s.system, []]));
    for (let r = 0; r < cc.rounds; r++) {
      for (const { system } of CATCH_UP_SYSTEMS) {
        const label = `follow.catchUp.${system}.r${r}`;
        const res = await run<CatchUpResult>(
          {
            kind: "catchUp",
            system,
            dataDir: data.dir,
            workDir: `${ctx.workRoot}/${label}`,
            lastCommitLsn: 3 * data.meta.transactions,
            transactions: data.meta.transactions,
          },
          label,
          15 * 60_000,
        );
        results.get(system)?.push(res);
      }
    }
    const records = data.meta.records;
    const rate = (x: CatchUpResult | undefined): number => (x === undefined ? Number.NaN : records / x.seconds);
    const replay = results.get("replayDir") ?? [];
    catchUp = {
      sizeMiB: cc.mib,
      bytes: data.meta.bytes,
      transactions: data.meta.transactions,
      records,
      rounds: cc.rounds,
      rows: CATCH_UP_SYSTEMS.map(({ system, label }) => {
        const rs = results.get(system) ?? [];
        const ok = rs.filter((x): x is CatchUpResult => x !== undefined);
        const ratios: number[] = [];
        for (let r = 0; r < rs.length; r++) {
          const v = rate(rs[r]) / rate(replay[r]);
          if (Number.isFinite(v)) ratios.push(v);
        }
        const rss = ok.map((x) => x.rssGrowthBytes).filter((x): x is number => x !== null);
        return {
          system,
          label,
          recordsPerSecond: spread(ok.map(rate)),
          seconds: spread(ok.map((x) => x.seconds)),
          firstDeliveryMs: spread(ok.map((x) => x.firstSeconds * 1000)),
          coldSeconds: spread(ok.map((x) => x.coldSeconds)),
          firstWarmSeconds: spread(ok.map((x) => x.firstWarmSeconds)),
          firstWarmPageFaults: spread(ok.map((x) => x.firstWarmPageFaults)).median,
          pageFaults: spread(ok.map((x) => x.pageFaults)).median,
          recordsPerCpuSecond: spread(ok.map((x) => records / x.cpuSeconds)).median,
          rssGrowthMiB: rss.length === 0 ? null : spread(rss).median / 2 ** 20,
          ratioToReplay: system === "replayDir" ? null : quantileInterval(ratios, 0.5, LEVEL),
          ...(ok.length === 0 ? { error: "no round completed" } : {}),
        };
      }),
    };
    for (const row of catchUp.rows) {
      ctx.log(
        `  ${row.system}: ${fmt(row.recordsPerSecond.median)} records/s, first delivery ${row.firstDeliveryMs.median.toFixed(0)} ms` +
          `${row.rssGrowthMiB === null ? "" : `, RSS +${row.rssGrowthMiB.toFixed(0)} MiB`}` +
          `${row.ratioToReplay === null ? "" : `, ${row.ratioToReplay.estimate.toFixed(2)} × replayDir`}`,
      );
    }
  } catch (error) {
    errors.push(`catch-up: ${String(error).split("\n")[0]}`);
  }

  // 3. Writer cost: paired blocks inside each round's process.
  const wc = counts.writerCost;
  ctx.log(
    `follow: writer cost, ${wc.rounds} round(s) × ${wc.cycles} cycles of paired blocks of ${wc.blockCommits} commits (${wc.concurrency} writers)`,
  );
  const costRuns: WriterCostResult[] = [];
  for (let r = 0; r < wc.rounds; r++) {
    const label = `follow.writerCost.r${r}`;
    const res = await run<WriterCostResult>(
      {
        kind: "writerCost",
        dir: `${ctx.workRoot}/${label}`,
        cycles: wc.cycles,
        warmupCycles: wc.warmupCycles,
        blockCommits: wc.blockCommits,
        concurrency: wc.concurrency,
        confirmEvery: wc.confirmEvery,
      },
      label,
      20 * 60_000,
    );
    if (res !== undefined) costRuns.push(res);
  }
  const writerCost =
    costRuns.length === 0
      ? null
      : {
          rounds: costRuns.length,
          rows: costRows(costRuns),
          blocks: costRuns.flatMap((run, round) => run.blocks.map((b) => blockRow(b, round))),
        };

  const load = children.finish();
  const report: Omit<FollowReport, "verdicts"> = {
    profile: ctx.profile,
    durationSeconds: (performance.now() - t0) / 1000,
    counts,
    load,
    latency: {
      inProcess: latencyRow("in-process: wal.follow() in the writer's process", inProcess, lc.commits),
      crossProcess: latencyRow("cross-process: followDir in a child process", crossProcess, lc.commits),
      clock: crossProcess.map((r, i) => clockCheck(i, r.probes)),
    },
    catchUp,
    writerCost,
    errors,
  };
  const full: FollowReport = { ...report, verdicts: verdicts(report) };
  for (const v of full.verdicts) ctx.log(`  → ${v.name}: ${v.verdict} (${v.detail})`);
  return full;
}

function costRows(runs: readonly WriterCostResult[]): WriterCostRow[] {
  const rows: WriterCostRow[] = [];
  for (const condition of ["inProcess", "crossProcess", "rawTail", "noMark", "control"] as const) {
    let followerCpu = 0;
    let confirms = 0;
    const starts: number[] = [];
    const drains: number[] = [];
    // "With the feature ÷ without it": the mark is on in the base blocks and off in the noMark ones.
    const t = pairTotals(runs, condition, condition === "noMark", (mine) => {
      followerCpu += mine.followerCpuSeconds;
      confirms += mine.confirms;
      if (condition === "inProcess" || condition === "crossProcess" || condition === "rawTail") {
        starts.push(mine.followerStartMs);
        drains.push(mine.followerDrainMs);
      }
    });
    rows.push({
      condition,
      label: COST_LABELS[condition],
      rate: spread(t.rates).median,
      baseRate: spread(t.baseRates).median,
      ratio: quantileInterval(t.ratios, 0.5, LEVEL),
      pairs: t.ratios.length,
      syncsPerCommit: t.syncs / t.commits,
      baseSyncsPerCommit: t.baseSyncs / t.baseCommits,
      writerCpuPerCommitUs: (t.cpuSeconds / t.commits) * 1e6,
      baseWriterCpuPerCommitUs: (t.baseCpuSeconds / t.baseCommits) * 1e6,
      followerCpuPerCommitUs:
        condition === "crossProcess" || condition === "rawTail" ? (followerCpu / t.commits) * 1e6 : null,
      followerStartMs: starts.length === 0 ? null : spread(starts),
      followerDrainMs: drains.length === 0 ? null : spread(drains),
      confirms,
    });
  }
  return rows;
}

function verdicts(r: Omit<FollowReport, "verdicts">): FollowVerdict[] {
  const out: FollowVerdict[] = [];
  const latency = (name: string, row: LatencyRow | null, target: number): void => {
    if (row === null) return;
    out.push({
      name,
      target: `p99 ≤ ${target} ms`,
      measure: "p99 of acknowledgement → delivery, ms (pooled over rounds)",
      interval: row.p99,
      verdict: decide(row.p99, target, "atMost"),
      detail:
        `p99 ${intervalText(row.p99, 3, " ms")}; p50 ${row.p50.estimate.toFixed(3)} ms; max ${row.maxMs.toFixed(2)} ms; ` +
        `${row.above.at(-1)?.count ?? 0} of ${row.samples} over ${TAIL_THRESHOLDS_MS.at(-1)} ms`,
    });
  };
  latency("in-process delivery latency", r.latency.inProcess, FOLLOW_TARGETS.inProcessP99Ms);
  latency("cross-process delivery latency", r.latency.crossProcess, FOLLOW_TARGETS.crossProcessP99Ms);
  for (const row of r.catchUp?.rows ?? []) {
    if (row.ratioToReplay === null || row.system === "readCommitted") continue;
    out.push({
      name: `catch-up: ${row.system === "followDir" ? "followDir" : "wal.follow"}`,
      target: `≥ ${FOLLOW_TARGETS.catchUpRatio} × replayDir records/s`,
      measure: "median over rounds of (follower records/s ÷ replayDir records/s, same round)",
      interval: row.ratioToReplay,
      verdict: decide(row.ratioToReplay, FOLLOW_TARGETS.catchUpRatio, "atLeast"),
      detail: `${intervalText(row.ratioToReplay, 2, " ×")}; ${fmt(row.recordsPerSecond.median)} records/s`,
    });
  }
  // The hand-written tail is the floor under the cross-process target (context), never a verdict of its own.
  const floor = {
    condition: "rawTail",
    what: "a process tailing the files by hand",
    under: (row: WriterCostRow) => row.condition === "crossProcess",
  };
  for (const v of judgeWriterCost(r.writerCost?.rows ?? [], FOLLOW_TARGETS.writerCostFraction, false, floor)) {
    out.push({
      name: `writer cost: ${v.row.condition === "noMark" ? "publishing the durable mark" : v.row.label}`,
      target: v.target,
      measure: "median over adjacent block pairs of (commits/s with ÷ commits/s without)",
      interval: v.interval,
      verdict: v.verdict,
      detail: v.detail,
    });
  }
  return out;
}

// ---- markdown ----------------------------------------------------------------------------------------------------

const msText = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : "—");
const spreadMs = (s: Spread | null, digits = 1): string =>
  s === null || s.n === 0 ? "—" : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)} – ${s.max.toFixed(digits)})`;

export function renderFollowMarkdown(r: FollowReport, run: StudyRun): string {
  const lines: string[] = [];
  const c = r.counts;
  lines.push(`# @lora/wal change feed (${r.profile})`, "");
  lines.push(
    ...runHeaderLines(
      run,
      r.durationSeconds,
      r.load,
      ". The bench's own writer and follower processes count in it (up to two runnable); the latency " +
        "targets are stated for an idle machine, so read them against this load.",
    ),
  );
  lines.push("## Verdicts", "");
  lines.push(
    `Each verdict is decided from a distribution-free interval of order statistics at ${percent(LEVEL)} where the ` +
      "number of samples allows (with fewer, the widest interval there is and its actual coverage): **met** when the " +
      "whole interval meets the target, **not met** when none of it does, **undecided** when it straddles the target " +
      `or covers with less than ${percent(MIN_DECIDING_COVERAGE)}. The intervals assume independent samples; rounds ` +
      "and pairs are interleaved so that a drifting machine affects both sides of a comparison alike.",
    "",
  );
  lines.push(...verdictTableLines(r.verdicts, r.errors));

  lines.push("## Delivery latency after the writer's acknowledgement", "");
  lines.push(
    `One writer (\`perCommit\`, bytesCodec, 100-byte event) commits one transaction at a time, ${c.latency.commits} per round ` +
      `(or as many as ${(c.latency.timeLimitMs / 1000).toFixed(0)} s allow) after ` +
      `${c.latency.warmup} unrecorded, each only once the follower delivered the previous one (so every latency starts from an ` +
      `idle follower and none queues behind another); ${c.latency.rounds} round(s) per mode, modes interleaved, each round in a ` +
      "fresh child and directory. A sample is the time from `commitTx` resolving in the writer to the follower's loop " +
      "receiving the transaction, durability `durable` (the default). Cross-process: the follower is a second process " +
      "running `followDir` (woken by the directory watch when the writer rewrites `.lora-wal.durable`); it stamps each " +
      "delivery and sends the stamp back over the IPC channel.",
    "",
    "**Clock.** Both processes stamp with `process.hrtime` — CLOCK_MONOTONIC, which on Linux is one clock for every " +
      "process on the machine, so the difference of two stamps is a true interval and needs no correction. Before each " +
      "cross-process round 200 ping-pongs check it: the follower's stamp must fall between the writer's send and " +
      "receipt (a violation would show an offset), and together they bound any constant offset between the processes " +
      "to [max(t2 − t3), min(t2 − t1)]. The same samples taken with `performance.timeOrigin + performance.now()` " +
      "(each process's own wall-clock origin) are shown beside them: that origin is read once per process, so that " +
      "method carries a constant per-process error of the size the wall-offset bounds below show.",
    "",
  );
  lines.push(
    `| follower | samples (rounds cut by the time limit) | p50 ms (interval) | p99 ms (interval) | max ms | samples over ${TAIL_THRESHOLDS_MS.join(
      " / ",
    )} ms | per round p50 / p99 ms | wall-clock p50 / p99 ms | delivered before the ack resumed | writer commit → ack p50 / p99 ms |`,
    "| --- | ---: | --- | --- | ---: | --- | --- | --- | ---: | --- |",
  );
  for (const row of [r.latency.inProcess, r.latency.crossProcess]) {
    if (row === null) continue;
    lines.push(
      `| ${row.label} | ${row.samples} (${row.cutShort}) | ${msText(row.p50.estimate)} (${msText(row.p50.low)} – ${msText(row.p50.high)}) | ` +
        `${msText(row.p99.estimate)} (${msText(row.p99.low)} – ${msText(row.p99.high)}) | ${msText(row.maxMs, 2)} | ` +
        `${row.above.map((a) => a.count).join(" / ")} | ` +
        `${row.perRound.map((p) => `${msText(p.p50)} / ${msText(p.p99)}`).join("; ")} | ${msText(row.wallP50Ms)} / ${msText(
          row.wallP99Ms,
        )} | ${row.deliveredBeforeAck} | ${msText(row.ackP50Ms)} / ${msText(row.ackP99Ms)} |`,
    );
  }
  if (r.latency.clock.length > 0) {
    lines.push(
      "",
      "| round | probes | shared-clock violations | follower − writer offset bound (µs) | fastest round trip (µs) | wall-clock offset bound (ms) |",
      "| ---: | ---: | ---: | --- | ---: | --- |",
    );
    for (const k of r.latency.clock) {
      lines.push(
        `| ${k.round} | ${k.probes} | ${k.violations} | ${(k.offsetLowNs / 1000).toFixed(1)} – ${(k.offsetHighNs / 1000).toFixed(1)} | ${(
          k.minRoundTripNs / 1000
        ).toFixed(1)} | ${k.wallOffsetLowMs.toFixed(3)} – ${k.wallOffsetHighMs.toFixed(3)} |`,
      );
    }
  }
  lines.push("");

  const cu = r.catchUp;
  if (cu !== null) {
    lines.push("## Catch-up from far behind", "");
    lines.push(
      `A log of ${(cu.bytes / 2 ** 20).toFixed(1)} MiB written in the \`commitTx\` layout (${fmt(cu.transactions)} transactions of one ` +
        `100-byte event, ${fmt(cu.records)} records, 8 MiB segments, closed by its writer). Each system reads it from the start ` +
        "until it yielded the last commit, in a fresh child per system per round (rounds interleaved), one untimed pass " +
        "first (cold JIT; its peak RSS growth, first thing in the process, is the RSS column), then three warm passes " +
        "whose median is the timed figure (V8 often grows its young generation during a follower's first warm pass, and " +
        "the first touches of that memory show as extra page faults and tens of ms: a one-off of the process, in the " +
        "first-warm column with the page faults of that pass and of the median one); " +
        "the page cache is warm for every system. records/s counts the log's records (3 per transaction) for every " +
        "system. The ratio is per round against `replayDir` of the same round; its interval is of the median over " +
        `${cu.rounds} round(s).`,
      "",
      "| system | records/s (median, range) | ÷ replayDir (interval) | time s | first delivery ms | records per CPU-s | cold pass s | first warm pass s | RSS growth |",
      "| --- | --- | --- | --- | --- | ---: | --- | --- | ---: |",
    );
    for (const row of cu.rows) {
      lines.push(
        `| ${row.label} | ${fmt(row.recordsPerSecond.median)} (${fmt(row.recordsPerSecond.min)} – ${fmt(row.recordsPerSecond.max)}) | ${
          row.ratioToReplay === null
            ? ""
            : `${row.ratioToReplay.estimate.toFixed(2)} (${row.ratioToReplay.low.toFixed(2)} – ${row.ratioToReplay.high.toFixed(2)}, ${percent(row.ratioToReplay.coverage)})`
        } | ${spreadMs(row.seconds, 2)} | ${spreadMs(row.firstDeliveryMs, 0)} | ${fmt(row.recordsPerCpuSecond)} | ${spreadMs(
          row.coldSeconds,
          2,
        )} | ${spreadMs(row.firstWarmSeconds, 2)} (${fmt(row.firstWarmPageFaults)} faults; median pass ${fmt(row.pageFaults)}) | ${row.rssGrowthMiB === null ? "— (the open's replay came first)" : `${row.rssGrowthMiB.toFixed(0)} MiB`} |`,
      );
    }
    lines.push("");
  }

  const wc = r.writerCost;
  if (wc !== null) {
    const k = c.writerCost;
    lines.push("## Writer cost of a follower, and of the durable mark", "");
    lines.push(
      `${k.concurrency} closed-loop writers each awaiting \`commitTx([100 B])\` (\`perCommit\`, the \`durable-concurrent-64\` shape) ` +
        `in blocks of ${fmt(k.blockCommits)} commits. In each of ${wc.rounds} fresh child process(es), ${k.cycles} cycles ` +
        `(after ${k.warmupCycles} unrecorded) of five pairs: each condition's block runs right next to a block without it ` +
        "(which comes first alternates by cycle, the order of the pairs rotates), so a disk whose fsync latency drifts " +
        "over seconds hits both blocks of a pair alike; the ratio is per pair. In-process: `wal.follow()` consuming in the " +
        "writer's process. Cross-process: a follower process kept for the whole round, following with `followDir` on a " +
        `replication slot it confirms every ${fmt(k.confirmEvery)} transactions (counted across blocks; an fsync'd slot file ` +
        "each). Floor: the same follower process tailing the segment files by hand instead (`raw-tail.ts`: woken by the " +
        "directory watch and a 250 ms timer, `readSync` of what was appended, record lengths walked to the zero-fill, " +
        "commit records' CRCs checked and their LSNs noted; no other CRC, no decoding, no durable mark, no slot): the least a reader in another process costs. " +
        "Durable mark: a second handle in the same process on its own directory, opened with " +
        "`publishDurableLsn: false`, against the default handle's base blocks. Every block starts after one untimed commit " +
        "that the follower has delivered (so its start-up, reading the active segment to the live end, is not in the block). " +
        "A fifth pair, the A/A control, puts two blocks without any follower side by side: its interval is what the " +
        "pairs can resolve on this machine at this load, and a writer-cost verdict is decided only when it lies within " +
        "0.97 – 1.031. Writer CPU per commit (the process's user + system time over the block's commits) is the steadier " +
        "figure where the disk decides the rate.",
      "",
      "| condition | pairs | with: commits/s | without: commits/s | with ÷ without (interval) | cost | fdatasyncs per commit with / without | writer CPU µs per commit with / without | follower CPU µs per commit | follower start ms | drain after block ms | slot confirms |",
      "| --- | ---: | ---: | ---: | --- | ---: | --- | --- | ---: | --- | --- | ---: |",
    );
    for (const row of wc.rows) {
      const withRate = row.condition === "noMark" ? row.baseRate : row.rate;
      const withoutRate = row.condition === "noMark" ? row.rate : row.baseRate;
      const withSyncs = row.condition === "noMark" ? row.baseSyncsPerCommit : row.syncsPerCommit;
      const withoutSyncs = row.condition === "noMark" ? row.syncsPerCommit : row.baseSyncsPerCommit;
      const withCpu = row.condition === "noMark" ? row.baseWriterCpuPerCommitUs : row.writerCpuPerCommitUs;
      const withoutCpu = row.condition === "noMark" ? row.writerCpuPerCommitUs : row.baseWriterCpuPerCommitUs;
      lines.push(
        `| ${row.label} | ${row.pairs} | ${fmt(withRate)} | ${fmt(withoutRate)} | ${row.ratio.estimate.toFixed(3)} (${row.ratio.low.toFixed(
          3,
        )} – ${row.ratio.high.toFixed(3)}, ${percent(row.ratio.coverage)}) | ${((1 - row.ratio.estimate) * 100).toFixed(1)} % | ${withSyncs.toFixed(
          4,
        )} / ${withoutSyncs.toFixed(4)} | ${withCpu.toFixed(1)} / ${withoutCpu.toFixed(1)} | ${
          row.followerCpuPerCommitUs === null ? "—" : row.followerCpuPerCommitUs.toFixed(1)
        } | ${spreadMs(row.followerStartMs)} | ${spreadMs(row.followerDrainMs)} | ${row.condition === "crossProcess" ? row.confirms : "—"} |`,
      );
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
