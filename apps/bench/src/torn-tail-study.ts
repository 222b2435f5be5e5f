/** The torn-tail recovery study: `Wal.open` after a torn tail, per size, beside the raw floors (`recovery.ts`). */

import { join } from "node:path";
import { spawnJob } from "./child-protocol.js";
import type { Options } from "./cli-args.js";
import { type QuantileInterval, quantileInterval } from "./confidence.js";
import { log } from "./log.js";
import { RUN_ROOT } from "./paths.js";
import { TAIL_KINDS, TAIL_LABELS, TEAR_KINDS, TEAR_LABELS, type TornTailChildResult } from "./recovery.js";
import type { TornTailPoint, TornTailReport, TornTailRow } from "./report.js";
import { spread } from "./stats.js";
import { judgeTornTail, runsInRound, TORN_TAIL_TARGET, tornTailRounds, tornTailSizesMiB } from "./torn-tail-verdict.js";

/**
 * Open after a torn tail: per round, one fresh child per size (sizes interleaved, so load drifting over the run hits
 * every size alike; a size with fewer rounds than the others sits out rounds spread over the run); each child measures every
 * (payload, tear) at its size beside the raw floors.
 */
export async function runTornTailStudy(opts: Options): Promise<TornTailReport> {
  const sizes = tornTailSizesMiB(opts.profile);
  const roundsBySize = sizes.map((sizeMiB) => ({ sizeMiB, rounds: tornTailRounds(opts.profile, sizeMiB) }));
  const rounds = Math.max(...roundsBySize.map((r) => r.rounds));
  log(
    `recovery: Wal.open after a torn tail of ${roundsBySize.map((r) => `${r.sizeMiB} MiB × ${r.rounds}`).join(", ")} round(s)`,
  );
  const results: TornTailChildResult[][] = sizes.map(() => []);
  const errors: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, sizeMiB] of sizes.entries()) {
      if (!runsInRound(round, roundsBySize[i]?.rounds ?? 0, rounds)) continue;
      const label = `torn-tail.${sizeMiB}MiB.r${round}`;
      const t0 = performance.now();
      const res = await spawnJob(
        {
          kind: "tornTail",
          sizeMiB,
          round,
          workRoot: join(RUN_ROOT, "work", label),
          warmup: opts.profile !== "smoke",
        },
        opts,
        label,
        30 * 60_000,
      );
      if (res.ok && res.tornTail !== undefined) {
        results[i]?.push(res.tornTail);
        log(`  ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      } else {
        const error = res.ok ? "no result" : (res.error.split("\n")[0] ?? res.error);
        errors.push(`${label}: ${error}`);
        log(`  ${label}: FAILED ${error}`);
      }
    }
  }
  const rows: TornTailRow[] = [];
  for (const kind of TAIL_KINDS) {
    for (const tear of TEAR_KINDS) {
      const points: (TornTailPoint & { readonly openMBpsMedian: QuantileInterval })[] = [];
      for (const [i, sizeMiB] of sizes.entries()) {
        const xs = (results[i] ?? []).flatMap((c) => c.samples.filter((s) => s.kind === kind && s.tear === tear));
        if (xs.length === 0) continue;
        const openMBps = xs.map((x) => x.tailBytes / 1e6 / x.openSeconds);
        points.push({
          sizeMiB,
          tailBytes: xs[0]?.tailBytes ?? 0,
          openSeconds: spread(xs.map((x) => x.openSeconds)),
          openMBps: spread(openMBps),
          openMBpsMedian: quantileInterval(openMBps, 0.5),
          replayMBps: spread(xs.map((x) => x.tailBytes / 1e6 / x.replaySeconds)),
          rawMBps: spread(xs.map((x) => x.tailBytes / 1e6 / x.rawSeconds)),
          ratio: spread(xs.map((x) => x.openSeconds / x.rawSeconds)),
          openCpuMBps: spread(xs.map((x) => x.tailBytes / 1e6 / x.openCpuSeconds)),
        });
      }
      const verdict = judgeTornTail(
        points.map((p) => ({
          sizeMiB: p.sizeMiB,
          tailBytes: p.tailBytes,
          openMBps: p.openMBpsMedian,
          ratio: p.ratio.median,
          openSeconds: p.openSeconds.median,
        })),
      );
      rows.push({ kind, tear, kindLabel: TAIL_LABELS[kind], tearLabel: TEAR_LABELS[tear], points, ...verdict });
      log(
        `  ${kind}/${tear}: ${points.map((p) => `${p.sizeMiB} MiB ${p.openMBps.median.toFixed(0)} MB/s`).join(", ")}` +
          ` → ${verdict.met === null ? "—" : verdict.met ? "MET" : "NOT MET"} (${verdict.detail})`,
      );
    }
  }
  const all = results.flat();
  return {
    sizesMiB: sizes,
    rounds,
    roundsBySize,
    target: TORN_TAIL_TARGET,
    rows,
    copyMBps: sizes.map((sizeMiB, i) => ({
      sizeMiB,
      mbps: spread((results[i] ?? []).map((c) => c.copyBytes / 1e6 / c.copySeconds)),
    })),
    noTailOpenSeconds: spread(all.map((c) => c.noTailOpenSeconds)),
    errors,
  };
}
