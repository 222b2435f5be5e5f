/**
 * `pnpm bench [-- --smoke | --quick] [--only <workload>] [--out <dir>] [--cpu-prof] [--render]` (`--render`: no
 * measuring, `latest.{md,svg}` and the README table rendered again from `latest.json`)
 *
 * The parent process orchestrates; every (workload, system) pair runs in its own child process (this same file
 * with `--child <job>`, see `child-protocol.ts`), one after another, so stores never share a heap, a libuv threadpool
 * or a page-cache warm-up with each other. Datasets for the read workloads are prepared once in a child and shared
 * read-only. The recovery studies (`torn-tail`, `decode-heap`) run in children too, one per size or payload shape,
 * and so does the change-feed group (`follow`, see `follow-study.ts`), which writes its own `follow.{json,md}`.
 */

import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { type ArchiveReport, runArchiveStudy } from "./archive-study.js";
import { parseArgs } from "./cli-args.js";
import { runDecodeHeapStudy } from "./decode-heap-study.js";
import { type FollowReport, runFollowStudy } from "./follow-study.js";
import { archiveContext, followContext } from "./group-contexts.js";
import { log } from "./log.js";
import { RUN_ROOT } from "./paths.js";
import type { RunReport } from "./report.js";
import { writeResults } from "./result-files.js";
import { serveChildJob } from "./run-child.js";
import { runConcurrencyScaling, runReplayScaling } from "./scaling-studies.js";
import { runTornTailStudy } from "./torn-tail-study.js";
import { runWorkloads } from "./workload-runs.js";
import { DECODE_HEAP_TARGET } from "./workloads.js";

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.render) {
    // The report format changed, not the measurements: render the committed run again.
    const report = JSON.parse(readFileSync(join(opts.out, "latest.json"), "utf8")) as RunReport;
    writeResults(opts, report, undefined, undefined);
    return;
  }
  const startedAt = new Date();
  const loadAtStart = loadavg()[0] ?? 0;
  const t0 = performance.now();
  rmSync(RUN_ROOT, { recursive: true, force: true });
  mkdirSync(RUN_ROOT, { recursive: true });
  log(
    `@lora/wal bench: ${opts.profile} profile${opts.only === undefined ? "" : `, only ${opts.only}`}; scratch ${RUN_ROOT}`,
  );
  let report: RunReport;
  let follow: FollowReport | undefined;
  let archive: ArchiveReport | undefined;
  try {
    const workloads = await runWorkloads(opts);
    const scalingReplay = opts.only === undefined || opts.only === "scaling-replay" ? await runReplayScaling(opts) : [];
    const concurrency =
      opts.only === undefined || opts.only === "scaling-concurrency" ? await runConcurrencyScaling(opts) : [];
    const tornTail = opts.only === undefined || opts.only === "torn-tail" ? await runTornTailStudy(opts) : null;
    const decodeHeap = opts.only === undefined || opts.only === "decode-heap" ? await runDecodeHeapStudy(opts) : [];
    if (opts.only === undefined || opts.only === "follow") follow = await runFollowStudy(followContext(opts));
    // The archiving group runs on its own only (it writes archive.{json,md}, not part of latest.*).
    if (opts.only === "archive") archive = await runArchiveStudy(archiveContext(opts));
    const cpu = cpus()[0];
    report = {
      profile: opts.profile,
      startedAt: startedAt.toISOString(),
      durationSeconds: (performance.now() - t0) / 1000,
      machine: {
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        cpus: cpus().length,
        cpuModel: cpu?.model.trim() ?? "unknown",
        loadAverage: [loadAtStart, loadavg()[0] ?? 0],
      },
      workloads,
      scaling: { replay: scalingReplay, concurrency },
      recovery: { tornTail, decodeHeap, decodeHeapTarget: DECODE_HEAP_TARGET },
    };
  } finally {
    rmSync(RUN_ROOT, { recursive: true, force: true });
  }
  writeResults(opts, report, follow, archive);
}

const childAt = process.argv.indexOf("--child");
if (childAt !== -1) {
  serveChildJob(process.argv[childAt + 1] ?? "{}");
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
