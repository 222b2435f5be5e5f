/** The workloads of `workloads.ts`: each one's systems run interleaved, then judged against its target. */

import { type CaseOutcome, runInterleaved } from "./case-runner.js";
import type { Options } from "./cli-args.js";
import { dataset } from "./dataset-cache.js";
import type { DatasetMeta } from "./datasets.js";
import { log } from "./log.js";
import type { SystemResult, WorkloadEntry } from "./report.js";
import { medianRoundRatio } from "./round-verdict.js";
import { WORKLOADS } from "./workloads.js";

/** Every workload `--only` lets through, in the order of `WORKLOADS`; one whose dataset fails is skipped. */
export async function runWorkloads(opts: Options): Promise<WorkloadEntry[]> {
  const entries: WorkloadEntry[] = [];
  for (const w of WORKLOADS) {
    if (opts.only !== undefined && opts.only !== w.name) continue;
    log(`workload ${w.name}`);
    const p = w.counts(opts.profile);
    let data: { dir: string; meta: DatasetMeta } | undefined;
    try {
      data = w.dataset === undefined ? undefined : await dataset(w.dataset(opts.profile), opts);
    } catch (error) {
      log(`  ${w.name}: dataset failed, workload skipped: ${String(error)}`);
      continue;
    }
    const results: Record<string, SystemResult> = {};
    const mbps: Record<string, number | undefined> = {};
    const rounds: Record<string, readonly number[]> = {};
    const roundMbps: Record<string, readonly number[]> = {};
    const outcomes = await runInterleaved(w.systems, p, opts, w.name, data?.dir);
    for (const s of w.systems) {
      const o = outcomes[s.key] as CaseOutcome;
      mbps[s.key] = o.mbps;
      rounds[s.key] = o.perRound;
      if (o.perRoundMbps !== undefined) roundMbps[s.key] = o.perRoundMbps;
      results[s.key] = {
        label: s.label,
        role: s.role,
        ...o.rate,
        ...(s.note === undefined ? {} : { note: s.note }),
        ...(o.mbps === undefined ? {} : { mbps: o.mbps }),
        ...(o.cpuRate === undefined ? {} : { cpuRate: o.cpuRate }),
        ...(o.writesPerOp === undefined ? {} : { writesPerOp: o.writesPerOp }),
        ...(o.syncsPerOp === undefined ? {} : { syncsPerOp: o.syncsPerOp }),
        ...(o.error === undefined ? {} : { error: o.error }),
      };
    }
    const judgement = w.judge(results, { mbps, rounds, roundMbps });
    const lora = results.lora ?? null;
    const peers: WorkloadEntry["peers"] = Object.fromEntries(
      Object.entries(results)
        .filter(([k]) => k !== "lora")
        .map(([k, v]) => [
          k,
          {
            ...v,
            loraRatio: lora === null ? null : medianRoundRatio(rounds, "lora", [k]),
          },
        ]),
    );
    entries.push({
      name: w.name,
      title: w.title,
      unit: w.unit,
      lora,
      peers,
      baseline: judgement.baseline,
      ratio: judgement.ratio,
      target: w.target,
      targetMet: judgement.met,
      interval: judgement.interval,
      detail: judgement.detail,
    });
    log(
      `  → ${w.target}: ${judgement.met === null ? (judgement.interval === null ? "—" : "UNDECIDED") : judgement.met ? "MET" : "NOT MET"} (${judgement.detail})`,
    );
  }
  return entries;
}
