/**
 * Tier A: simulated crashes (SimFS). Each bounded workload runs on a fresh SimFS with the real `Wal`; at every
 * mutating file-system operation the crash images the fsync barriers allow are captured (bounded, seeded), and
 * after the workload each distinct image is recovered with the real `Wal.open` and checked (crash-check.ts).
 */

import { type JsonValue, Wal } from "@lora/wal";
import { type PlantedBug, withTestingHooks } from "@lora/wal/testing";
import { type CrashImage, SimFS } from "@lora/wal-segment/testing";
import { checkCrashImage, imageKey } from "./crash-check.js";
import { Model, type ModelSnapshot } from "./model.js";
import { checkHistory } from "./oracle.js";
import { mix, rng, shuffle } from "./prng.js";
import { type Budget, budgetLeft, TierResult, type Violation } from "./result.js";
import { describeWorkload, openOptions, WAL_DIR, WorkloadDriver, workloadAt, workloadCount } from "./workloads.js";

export interface TierAOptions {
  readonly seed: number;
  readonly budget: Budget;
  /** Longest op sequence (3 by default, 5 with --long). */
  readonly maxLen: number;
  /** Crash images per operation index (the first two are always "drop all unsynced" and "keep all"). */
  readonly maxImages: number;
  /** Run only these case indices. */
  readonly cases?: readonly number[];
  readonly bugs?: readonly PlantedBug[];
  /** Stop at the first violation (planted-bug runs). */
  readonly stopOnFirst?: boolean;
  readonly onProgress?: (r: TierResult) => void;
}

/**
 * Case order: every single operation in index order, then the pairs in a seeded shuffle, then the longer sequences
 * in another. The pairs are shuffled too because a short run (`--smoke`) reaches only some of them: in index order
 * those were always the same ones, so a race between two particular operations could stay out of reach for good.
 */
export function caseOrder(seed: number, maxLen: number): Uint32Array {
  const total = workloadCount(maxLen);
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  const bounds = [workloadCount(1), workloadCount(Math.min(2, maxLen)), total];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const from = bounds[b] as number;
    const to = bounds[b + 1] as number;
    if (to - from < 2) continue;
    order.set(shuffle(rng(mix(seed, 0xa, b)), Array.from(order.subarray(from, to))), from);
  }
  return order;
}

interface Capture {
  readonly images: Iterable<CrashImage>;
  readonly snap: ModelSnapshot;
  readonly at: string;
}

const DEBUG = process.env.TORTURE_DEBUG === "1";

export function replayCommand(seed: number, index: number): string {
  return `pnpm torture -- --tier A --seed ${seed} --case ${index}`;
}

export async function runTierA(opts: TierAOptions): Promise<TierResult> {
  const result = new TierResult("A");
  const start = Date.now();
  const order = opts.cases === undefined ? caseOrder(opts.seed, opts.maxLen) : Uint32Array.from(opts.cases);
  result.extra.workloadsTotal = workloadCount(opts.maxLen);
  for (let i = 0; i < order.length && budgetLeft(opts.budget, result.cases); i++) {
    if (DEBUG) process.stderr.write(`[A] case ${order[i]} ${describeWorkload(workloadAt(order[i] as number))}\n`);
    await runCase(order[i] as number, opts, result);
    result.cases++;
    opts.onProgress?.(result);
    if (opts.stopOnFirst === true && result.violations.length > 0) break;
  }
  result.ms = Date.now() - start;
  return result;
}

async function runCase(index: number, opts: TierAOptions, result: TierResult): Promise<void> {
  const w = workloadAt(index);
  const seed = mix(opts.seed, index);
  const bugs = opts.bugs ?? [];
  const fs = new SimFS();
  const model = new Model(w.variant.startFence);
  const captures: Capture[] = [];
  const capture = (at: string) => {
    captures.push({
      images: fs.crashImages({ maxImages: opts.maxImages, seed: mix(seed, captures.length) }),
      snap: model.snapshot(),
      at,
    });
  };
  const unsubscribe = fs.onOperation((e) => capture(`op ${e.seq} (${e.op} ${e.path}${e.failed ? ", failed" : ""})`));
  const violation = (kind: Violation["kind"], message: string) =>
    result.add({
      tier: "A",
      kind,
      caseId: `${index}`,
      message: `${describeWorkload(w)}: ${message}`,
      replay: replayCommand(opts.seed, index),
    });

  let driver: WorkloadDriver | undefined;
  try {
    const options = withTestingHooks(openOptions(w, fs, model.fence), { plantedBugs: bugs });
    const { wal } = await Wal.open<JsonValue>(WAL_DIR, options);
    driver = new WorkloadDriver(w, wal, model, options, mix(seed, 0xd5));
    for (const op of w.ops) await driver.run(op);
    const upTo = driver.wal.nextLsn() - 1;
    await driver.wal.close();
    model.durable(upTo);
  } catch (e) {
    await driver?.wal.close().catch(() => undefined);
    violation("error", `the workload failed with no fault injected: ${e instanceof Error ? e.message : String(e)}`);
  }
  unsubscribe();
  capture("after the workload (clean close)");

  for (const check of driver?.reopenChecks ?? []) {
    const v = checkHistory(check.recovered, check.exp);
    result.ackedChecked += v.required;
    for (const f of v.findings) violation(f.kind, `clean reopen inside the workload: ${f.message}`);
  }

  const seen = new Set<string>();
  for (const c of captures) {
    for (const image of c.images) {
      result.bump("images");
      const processCrash = image.description.startsWith("[keep all]");
      const key = `${imageKey(image.fs)}#${c.snap.durableLsn}/${processCrash ? c.snap.writtenLsn : 0}/${c.snap.fence}`;
      if (seen.has(key)) continue;
      seen.add(key);
      result.crashStates++;
      const exp = model.expectation(c.snap, processCrash);
      if (DEBUG) process.stderr.write(`[A ${index}] ${c.at} :: ${image.description.slice(0, 160)}\n`);
      const v = await checkCrashImage(w, image.fs, image.description, exp, bugs);
      result.ackedChecked += v.required;
      for (const f of v.findings) {
        violation(f.kind, `crash at ${c.at}, image "${image.description.slice(0, 240)}": ${f.message}`);
      }
      if (opts.stopOnFirst === true && result.violations.length > 0) return;
    }
  }
}
