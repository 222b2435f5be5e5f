/** The scaling studies: the streaming open against log size, and perCommit throughput against concurrent writers. */

import { type CaseOutcome, roundsOf, runCase, runInterleaved } from "./case-runner.js";
import type { Options } from "./cli-args.js";
import { dataset, dropDataset } from "./dataset-cache.js";
import type { DatasetMeta } from "./datasets.js";
import { log } from "./log.js";
import type { ConcurrencyPoint, ReplayScalingPoint } from "./report.js";
import { CONCURRENCY_LEVELS, concurrencyCounts, scalingSizesMiB } from "./workloads.js";

/** The streaming open per log size: one child per size, its RSS growth measured first thing. */
export async function runReplayScaling(opts: Options): Promise<ReplayScalingPoint[]> {
  const points: ReplayScalingPoint[] = [];
  log("scaling: streaming open against log size");
  const r = opts.profile === "smoke" ? 1 : 2;
  for (const mib of scalingSizesMiB(opts.profile)) {
    let data: { dir: string; meta: DatasetMeta };
    try {
      data = await dataset({ kind: "walLog", bytes: mib * 2 ** 20 }, opts);
    } catch (error) {
      log(`  ${mib} MiB: dataset failed, point skipped: ${String(error)}`);
      continue;
    }
    const o = await runCase(
      "lora.openStreaming",
      { count: 1, concurrency: 1, timeLimitMs: 600_000 },
      opts,
      `scaling-replay.${mib}MiB`,
      {
        dataDir: data.dir,
        measureRss: true,
        rounds: r,
      },
    );
    if (o.error === undefined) {
      points.push({
        sizeMiB: mib,
        bytes: data.meta.bytes,
        records: data.meta.records,
        seconds: o.seconds,
        recordsPerSecond: data.meta.records / o.seconds.median,
        mbps: data.meta.bytes / 1e6 / o.seconds.median,
        rssGrowthMiB: (o.rssGrowthBytes ?? Number.NaN) / 2 ** 20,
      });
      log(
        `    ${mib} MiB: ${o.seconds.median.toFixed(2)} s, RSS +${((o.rssGrowthBytes ?? 0) / 2 ** 20).toFixed(1)} MiB`,
      );
    }
    dropDataset(data.dir);
  }
  return points;
}

/** perCommit at each concurrency against lmdb-js, and the ideal (c × one raw writer's rate). */
export async function runConcurrencyScaling(
  opts: Options,
): Promise<{ points: ConcurrencyPoint[]; raw: number | null }> {
  log("scaling: perCommit throughput against concurrent writers");
  const points: ConcurrencyPoint[] = [];
  let rawRate: number | null = null;
  for (const c of CONCURRENCY_LEVELS) {
    const p = concurrencyCounts(opts.profile, c);
    const systems = [
      ...(c === 1 ? [{ key: "raw", caseName: "raw.writeFdatasync" }] : []),
      { key: "lora", caseName: "lora.perCommit" },
      { key: "lmdb", caseName: "lmdb.put" },
    ];
    const o = await runInterleaved(
      systems,
      p,
      opts,
      `scaling-concurrency.c${c}`,
      undefined,
      Math.min(3, roundsOf(opts.profile).rounds),
    );
    if (c === 1 && o.raw !== undefined && Number.isFinite(o.raw.rate.median)) rawRate = o.raw.rate.median;
    const lora = o.lora as CaseOutcome;
    const lmdb = o.lmdb as CaseOutcome;
    points.push({
      concurrency: c,
      lora: lora.rate,
      lmdb: lmdb.error === undefined ? lmdb.rate : null,
      ideal: c * (rawRate ?? Number.NaN),
      syncsPerCommit: lora.syncsPerOp ?? null,
    });
  }
  return { points, raw: rawRate };
}
