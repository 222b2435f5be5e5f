/** Running a case in child processes, round by round, and summarizing its samples into medians and ranges. */

import { join } from "node:path";
import type { CaseParams, Measure } from "./case-types.js";
import { type ChildResult, type Job, spawnJob } from "./child-protocol.js";
import type { Options } from "./cli-args.js";
import { log } from "./log.js";
import { RUN_ROOT } from "./paths.js";
import { type Spread, spread } from "./stats.js";
import type { Profile } from "./workloads.js";

/**
 * Warm-up and measured rounds per system: 9 full, 3 quick, 1 smoke. Nine rounds give the median an interval of
 * order statistics 2 and 8 (96.1 %), where five gave only [min, max]: one round of disk weather no longer decides
 * whether a disk-bound row reads "undecided".
 */
export function roundsOf(profile: Profile): { warmup: number; rounds: number } {
  return profile === "smoke"
    ? { warmup: 0, rounds: 1 }
    : profile === "quick"
      ? { warmup: 1, rounds: 3 }
      : { warmup: 1, rounds: 9 };
}

export interface CaseOutcome {
  readonly rate: Spread;
  /** Median ops per CPU-second (contention-free rate of CPU-bound work). */
  readonly cpuRate?: number;
  readonly mbps?: number;
  readonly writesPerOp?: number;
  readonly syncsPerOp?: number;
  readonly seconds: Spread;
  readonly ops: number;
  readonly rssGrowthBytes?: number;
  readonly error?: string;
  /** Ops/s of each interleaved round, in round order (NaN for a round that failed); empty for `runCase`. */
  readonly perRound: readonly number[];
  /** MB/s of each interleaved round, when the case counts bytes. */
  readonly perRoundMbps?: readonly number[];
}

async function runRound(
  caseName: string,
  p: CaseParams,
  opts: Options,
  label: string,
  extra: { dataDir?: string; measureRss?: boolean; rounds?: number; warmup?: number },
): Promise<ChildResult> {
  const job: Job = {
    kind: "case",
    caseName,
    p,
    dataDir: extra.dataDir ?? "",
    workRoot: join(RUN_ROOT, "work", label),
    warmup: extra.warmup ?? 0,
    warmupCount: Math.max(1, Math.floor(p.count / 10)),
    rounds: extra.rounds ?? 1,
    measureRss: extra.measureRss ?? false,
  };
  const perRoundMs = p.timeLimitMs + 120_000;
  return spawnJob(job, opts, label, (job.warmup + job.rounds) * perRoundMs);
}

function summarize(
  label: string,
  s: readonly Measure[],
  error: string | undefined,
  rssGrowthBytes?: number,
): CaseOutcome {
  if (s.length === 0) {
    log(`  ${label}: FAILED ${error ?? "no samples"}`);
    const nan = spread([]);
    return { rate: nan, seconds: nan, ops: 0, error: error ?? "no samples", perRound: [] };
  }
  const rate = spread(s.map((m) => m.ops / m.seconds));
  const withBytes = s.filter((m) => m.bytes !== undefined);
  const mbps = withBytes.length > 0 ? spread(withBytes.map((m) => (m.bytes ?? 0) / 1e6 / m.seconds)).median : undefined;
  const withIo = s.filter((m) => m.syncs !== undefined);
  const withCpu = s.filter((m) => m.cpuSeconds !== undefined && m.cpuSeconds > 0);
  const outcome: CaseOutcome = {
    rate,
    perRound: [],
    ...(withCpu.length === 0 ? {} : { cpuRate: spread(withCpu.map((m) => m.ops / (m.cpuSeconds ?? 1))).median }),
    seconds: spread(s.map((m) => m.seconds)),
    ops: spread(s.map((m) => m.ops)).median,
    ...(mbps === undefined ? {} : { mbps }),
    ...(withIo.length === 0
      ? {}
      : {
          writesPerOp: spread(withIo.map((m) => (m.writes ?? 0) / m.ops)).median,
          syncsPerOp: spread(withIo.map((m) => (m.syncs ?? 0) / m.ops)).median,
        }),
    ...(rssGrowthBytes === undefined ? {} : { rssGrowthBytes }),
    ...(error === undefined ? {} : { error }),
  };
  const n = (x: number): string => Math.round(x).toLocaleString("en-US");
  log(
    `  ${label}: ${n(rate.median)}/s (${n(rate.min)} – ${n(rate.max)}, ${rate.n} rounds)${
      mbps === undefined ? "" : `, ${mbps.toFixed(0)} MB/s`
    }${outcome.cpuRate === undefined ? "" : `, ${n(outcome.cpuRate)}/CPU-s`}${outcome.syncsPerOp === undefined ? "" : `, ${outcome.writesPerOp?.toFixed(3)} writes, ${outcome.syncsPerOp.toFixed(3)} syncs/op`}${
      error === undefined ? "" : ` (error: ${error.split("\n")[0]})`
    }`,
  );
  return outcome;
}

/**
 * Rounds interleaved across systems (round 1 of every system, then round 2, ...), each round in a fresh child with
 * the system's own parameters when it has them (else `p`),
 * its own short warm-up, so a drifting disk (fsync latency on a shared VM varies by an order of magnitude over
 * minutes) hits every system alike instead of whichever ran during a slow patch.
 */
export async function runInterleaved(
  systems: readonly { key: string; caseName: string; p?: CaseParams }[],
  p: CaseParams,
  opts: Options,
  prefix: string,
  dataDir?: string,
  roundsOverride?: number,
): Promise<Record<string, CaseOutcome>> {
  const { warmup } = roundsOf(opts.profile);
  const rounds = roundsOverride ?? roundsOf(opts.profile).rounds;
  const samples = new Map<string, Measure[]>(systems.map((s) => [s.key, []]));
  const perRound = new Map<string, { rate: number; mbps: number }[]>(systems.map((s) => [s.key, []]));
  const errors = new Map<string, string>();
  for (let r = 0; r < rounds; r++) {
    for (const s of systems) {
      const own = perRound.get(s.key) as { rate: number; mbps: number }[];
      if (errors.has(s.key)) {
        own.push({ rate: Number.NaN, mbps: Number.NaN });
        continue;
      }
      const res = await runRound(s.caseName, s.p ?? p, opts, `${prefix}.${s.key}.r${r}`, {
        warmup,
        ...(dataDir === undefined ? {} : { dataDir }),
      });
      if (res.ok && res.samples !== undefined && res.samples.length > 0) {
        samples.get(s.key)?.push(...res.samples);
        own.push(roundRate(res.samples));
      } else {
        errors.set(s.key, res.ok ? "no samples" : res.error);
        own.push({ rate: Number.NaN, mbps: Number.NaN });
      }
    }
  }
  return Object.fromEntries(
    systems.map((s) => {
      const outcome = summarize(`${prefix}.${s.key}`, samples.get(s.key) ?? [], errors.get(s.key));
      const own = perRound.get(s.key) ?? [];
      const mbps = own.map((x) => x.mbps);
      return [
        s.key,
        {
          ...outcome,
          perRound: own.map((x) => x.rate),
          ...(mbps.some(Number.isFinite) ? { perRoundMbps: mbps } : {}),
        },
      ];
    }),
  );
}

/** One round's ops/s and MB/s (NaN when the case counts no bytes) over its samples. */
function roundRate(samples: readonly Measure[]): { rate: number; mbps: number } {
  let ops = 0;
  let seconds = 0;
  let bytes = 0;
  let counted = false;
  for (const m of samples) {
    ops += m.ops;
    seconds += m.seconds;
    if (m.bytes !== undefined) {
      bytes += m.bytes;
      counted = true;
    }
  }
  return { rate: ops / seconds, mbps: counted ? bytes / 1e6 / seconds : Number.NaN };
}

/** One child running `caseName`'s rounds back to back (the scaling points), summarized. */
export async function runCase(
  caseName: string,
  p: CaseParams,
  opts: Options,
  label: string,
  extra: { dataDir?: string; measureRss?: boolean; rounds?: number },
): Promise<CaseOutcome> {
  const res = await runRound(caseName, p, opts, label, extra);
  if (!res.ok) return summarize(label, [], res.error);
  return summarize(label, res.samples ?? [], undefined, res.rssGrowthBytes);
}
