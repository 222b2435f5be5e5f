/**
 * How the parent and its children talk. The parent forks the built entry point with `--child <job as JSON>`; the
 * child runs the job (`run-child.ts`) and sends one {@link ChildResult} over the IPC channel before exiting. A child
 * that exits without a result, or outlives its time limit (then it is killed), is a failed result, not an exception.
 */

import { fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import type { ArchiveChildResult, ArchiveJob } from "./archive.js";
import type { CaseParams, Measure } from "./case-types.js";
import type { Options } from "./cli-args.js";
import type { DatasetMeta } from "./datasets.js";
import type { FollowChildResult, FollowJob } from "./follow.js";
import { log } from "./log.js";
import { ENTRY, PROFILE_DIR } from "./paths.js";
import type { DecodeHeapSample, HeapShape, TornTailChildResult } from "./recovery.js";
import type { DatasetSpec } from "./workloads.js";

/** What a child is asked to do: one case's rounds, a dataset, a recovery measurement, or a study group's job. */
export type Job =
  | {
      readonly kind: "case";
      readonly caseName: string;
      readonly p: CaseParams;
      readonly dataDir: string;
      readonly workRoot: string;
      readonly warmup: number;
      /** Operations of each warm-up round (a fresh child needs its JIT warmed; a tenth of a round is enough). */
      readonly warmupCount: number;
      readonly rounds: number;
      readonly measureRss: boolean;
    }
  | { readonly kind: "dataset"; readonly spec: DatasetSpec; readonly dataDir: string }
  | {
      readonly kind: "tornTail";
      readonly sizeMiB: number;
      readonly round: number;
      readonly workRoot: string;
      readonly warmup: boolean;
    }
  | { readonly kind: "decodeHeap"; readonly shape: HeapShape; readonly repeats: number }
  | { readonly kind: "follow"; readonly job: FollowJob }
  | { readonly kind: "archive"; readonly job: ArchiveJob };

/** What a child answers: the part of the result its job fills in, or the error (with its stack) it ended with. */
export type ChildResult =
  | {
      readonly ok: true;
      readonly samples?: Measure[];
      readonly rssGrowthBytes?: number;
      readonly meta?: DatasetMeta;
      readonly tornTail?: TornTailChildResult;
      readonly decodeHeap?: DecodeHeapSample;
      readonly follow?: FollowChildResult;
      readonly archive?: ArchiveChildResult;
    }
  | { readonly ok: false; readonly error: string };

/** A result that carries what the job produced. */
export type ChildOk = Extract<ChildResult, { readonly ok: true }>;

/**
 * Run `job` in a fresh child and wait for its result (`--cpu-prof` profiles the @lora/wal cases, the catch-up and
 * the archiver's writer-cost blocks).
 */
export async function spawnJob(job: Job, opts: Options, label: string, timeoutMs: number): Promise<ChildResult> {
  // Other work in the repository may rebuild a package (tsup empties its dist) while a long run is going: a child
  // that cannot even load its modules is retried instead of failing the workload.
  for (let attempt = 1; ; attempt++) {
    const { result, stderr } = await spawnOnce(job, opts, label, timeoutMs);
    const missingModule = !result.ok && /ERR_MODULE_NOT_FOUND|Cannot find module/.test(stderr);
    if (!missingModule || attempt >= 6) return result;
    log(`  ${label}: a module was missing (a package being rebuilt?); retrying in 10 s`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

function spawnOnce(
  job: Job,
  opts: Options,
  label: string,
  timeoutMs: number,
): Promise<{ result: ChildResult; stderr: string }> {
  const execArgv = ["--expose-gc"];
  if (
    opts.cpuProf &&
    ((job.kind === "case" && job.caseName.startsWith("lora.")) ||
      (job.kind === "follow" && job.job.kind === "catchUp") ||
      (job.kind === "archive" && job.job.kind === "writerCost"))
  ) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push("--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${label}.cpuprofile`);
  }
  return new Promise((resolvePromise) => {
    const child = fork(ENTRY, ["--child", JSON.stringify(job)], {
      execArgv,
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    let result: ChildResult | undefined;
    const timer = setTimeout(() => {
      result = { ok: false, error: `timed out after ${timeoutMs} ms` };
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("message", (m) => {
      result ??= m as ChildResult;
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ result: result ?? { ok: false, error: `child exited with ${signal ?? code}` }, stderr });
    });
  });
}
