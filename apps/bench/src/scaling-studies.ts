/** The scaling studies: the streaming open against log size, and perCommit throughput against concurrent writers. */

import { type CaseOutcome, runCase, runInterleaved } from "./case-runner.js";
import type { Options } from "./cli-args.js";
import { dataset, dropDataset } from "./dataset-cache.js";
import type { DatasetMeta } from "./datasets.js";
import { log } from "./log.js";
import type { ConcurrencyPoint, ReplayScalingPoint } from "./report.js";
import { allOf, fasterRatioAtLeast, metFlag, ratioAtLeast } from "./round-verdict.js";
import { concurrencyCounts, concurrencyLevels, scalingSizesMiB } from "./workloads.js";

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

/** The systems of each concurrency row: the library, its raw baseline, and the expert-written peers. */
const CONCURRENCY_SYSTEMS = [
  { key: "lora", caseName: "lora.perCommit" },
  { key: "raw", caseName: "raw.groupCommit" },
  { key: "rawBlocking", caseName: "raw.groupCommitBlocking" },
  { key: "sqliteBatched", caseName: "sqlite.fullBatched" },
  { key: "levelBatched", caseName: "level.syncBatched" },
  { key: "lmdb", caseName: "lmdb.put" },
] as const;
const PEERS = ["sqliteBatched", "levelBatched", "lmdb"] as const;

/**
 * perCommit at 1, 4, 16, 64 and 256 writers against a raw group-commit loop of the same shape and the expert-written
 * peers, every level and system interleaved round by round (a drifting disk hits them all alike); each level's
 * targets decided per round with confidence (`round-verdict.ts`).
 */
export async function runConcurrencyScaling(opts: Options): Promise<ConcurrencyPoint[]> {
  log("scaling: perCommit throughput against concurrent writers (levels and systems interleaved)");
  const levels = concurrencyLevels(opts.profile);
  const systems = levels.flatMap((c) =>
    CONCURRENCY_SYSTEMS.map((s) => ({
      key: `c${c}.${s.key}`,
      caseName: s.caseName,
      p: concurrencyCounts(opts.profile, c),
    })),
  );
  const o = await runInterleaved(systems, concurrencyCounts(opts.profile, 1), opts, "scaling-concurrency");
  const rounds: Record<string, readonly number[]> = Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, v.perRound]),
  );
  const points: ConcurrencyPoint[] = [];
  for (const c of levels) {
    const at = (key: string): CaseOutcome | undefined => o[`c${c}.${key}`];
    const ok = (key: string) => {
      const x = at(key);
      return x === undefined || x.error !== undefined ? null : x.rate;
    };
    const vsRaw = ratioAtLeast(rounds, `c${c}.lora`, [`c${c}.raw`, `c${c}.rawBlocking`], 0.95);
    const vsPeers = ratioAtLeast(
      rounds,
      `c${c}.lora`,
      PEERS.map((k) => `c${c}.${k}`),
      1.25,
    );
    // The shape's own floor for the peer target: the faster raw loop of each round over the best peer of that round.
    const rawVsPeers = fasterRatioAtLeast(
      rounds,
      [`c${c}.raw`, `c${c}.rawBlocking`],
      PEERS.map((k) => `c${c}.${k}`),
      1.25,
    );
    points.push({
      concurrency: c,
      lora: (at("lora") as CaseOutcome).rate,
      lmdb: ok("lmdb"),
      rawGroup: ok("raw"),
      rawGroupBlocking: ok("rawBlocking"),
      sqliteBatched: ok("sqliteBatched"),
      levelBatched: ok("levelBatched"),
      syncsPerCommit: at("lora")?.syncsPerOp ?? null,
      vsRaw: { interval: vsRaw.interval, verdict: vsRaw.verdict },
      vsPeers: { interval: vsPeers.interval, verdict: vsPeers.verdict },
      rawVsPeers: { interval: rawVsPeers.interval, verdict: rawVsPeers.verdict },
      targetMet: metFlag(allOf([vsRaw.verdict, vsPeers.verdict])),
    });
  }
  return points;
}
