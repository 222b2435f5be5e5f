/** The child side of `child-protocol.ts`: run one job and send its result to the parent. */

import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runArchiveJob } from "./archive.js";
import type { CaseParams, Measure } from "./case-types.js";
import { CASES } from "./cases.js";
import type { ChildResult, Job } from "./child-protocol.js";
import { prepareLoraEngineLog, prepareWalLog } from "./datasets.js";
import { runFollowJob } from "./follow.js";
import { measureDecodeHeap, runTornTail } from "./recovery.js";

/** Run one job; a case job runs its RSS round first, then its warm-up rounds, then its measured rounds. */
async function runChild(job: Job): Promise<ChildResult> {
  if (job.kind === "tornTail") return { ok: true, tornTail: await runTornTail(job) };
  if (job.kind === "decodeHeap") return { ok: true, decodeHeap: measureDecodeHeap(job.shape, job.repeats) };
  if (job.kind === "follow") return { ok: true, follow: await runFollowJob(job.job) };
  if (job.kind === "archive") return { ok: true, archive: await runArchiveJob(job.job) };
  if (job.kind === "dataset") {
    const meta =
      job.spec.kind === "walLog"
        ? await prepareWalLog(job.dataDir, job.spec.bytes, job.spec.eventBytes)
        : await prepareLoraEngineLog(job.dataDir, job.spec.nodes);
    return { ok: true, meta };
  }
  const fn = CASES[job.caseName];
  if (fn === undefined) throw new Error(`unknown case ${job.caseName}`);
  let round = 0;
  const once = async (p: CaseParams = job.p): Promise<Measure> => {
    const dir = join(job.workRoot, `round-${round++}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      return await fn({ dir, dataDir: job.dataDir, p });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const samples: Measure[] = [];
  let rssGrowthBytes: number | undefined;
  if (job.measureRss) {
    // First thing in a fresh process: the peak RSS of the round minus the RSS before it.
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    samples.push(await once());
    rssGrowthBytes = process.resourceUsage().maxRSS * 1024 - before;
  }
  for (let i = 0; i < job.warmup; i++) await once({ ...job.p, count: job.warmupCount });
  while (samples.length < job.rounds) samples.push(await once());
  return { ok: true, samples, ...(rssGrowthBytes === undefined ? {} : { rssGrowthBytes }) };
}

/** Run the job given as JSON, send the result (or the error) to the parent, and exit. */
export function serveChildJob(jobJson: string): void {
  const job = JSON.parse(jobJson) as Job;
  runChild(job).then(
    (r) => process.send?.(r, () => process.exit(0)),
    (error: unknown) =>
      process.send?.(
        { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) },
        () => process.exit(1),
      ),
  );
}
