/**
 * `pnpm bench [-- --smoke | --quick] [--only <workload>] [--out <dir>] [--cpu-prof]`
 *
 * The parent process orchestrates; every (workload, system) pair runs in its own child process (this same file
 * with `--child <job>`), one after another, so stores never share a heap, a libuv threadpool or a page-cache
 * warm-up with each other. Datasets for the read workloads are prepared once in a child and shared read-only.
 * The recovery studies (`torn-tail`, `decode-heap`) run in children too, one per size or payload shape, and so does
 * the change-feed group (`follow`, see `follow-study.ts`), which writes its own `follow.{json,md}`.
 */

import { fork } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ArchiveChildResult, type ArchiveJob, runArchiveJob } from "./archive.js";
import { type ArchiveReport, renderArchiveMarkdown, runArchiveStudy } from "./archive-study.js";
import {
  CASES,
  type CaseParams,
  type DatasetMeta,
  type Measure,
  prepareLoraEngineLog,
  prepareWalLog,
  readMeta,
} from "./cases.js";
import { type FollowChildResult, type FollowJob, runFollowJob } from "./follow.js";
import { type FollowReport, renderFollowMarkdown, runFollowStudy } from "./follow-study.js";
import {
  type DecodeHeapSample,
  HEAP_SHAPE_LABELS,
  HEAP_SHAPES,
  type HeapShape,
  measureDecodeHeap,
  runTornTail,
  TAIL_KINDS,
  TAIL_LABELS,
  TEAR_KINDS,
  TEAR_LABELS,
  type TornTailChildResult,
} from "./recovery.js";
import {
  type ConcurrencyPoint,
  type DecodeHeapRow,
  type ReplayScalingPoint,
  type RunReport,
  renderMarkdown,
  renderSvg,
  type SystemResult,
  type TornTailPoint,
  type TornTailReport,
  type TornTailRow,
  type WorkloadEntry,
} from "./report.js";
import { type Spread, spread } from "./stats.js";
import {
  CONCURRENCY_LEVELS,
  concurrencyCounts,
  type DatasetSpec,
  DECODE_HEAP_REPEATS,
  DECODE_HEAP_TARGET,
  judgeTornTail,
  type Profile,
  scalingSizesMiB,
  TORN_TAIL_TARGET,
  tornTailRounds,
  tornTailSizesMiB,
  WORKLOADS,
} from "./workloads.js";

const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

type Job =
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

type ChildResult =
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

// ---- child ---------------------------------------------------------------------------------------------------

async function runChild(job: Job): Promise<ChildResult> {
  if (job.kind === "tornTail") return { ok: true, tornTail: await runTornTail(job) };
  if (job.kind === "decodeHeap") return { ok: true, decodeHeap: measureDecodeHeap(job.shape, job.repeats) };
  if (job.kind === "follow") return { ok: true, follow: await runFollowJob(job.job) };
  if (job.kind === "archive") return { ok: true, archive: await runArchiveJob(job.job) };
  if (job.kind === "dataset") {
    const meta =
      job.spec.kind === "walLog"
        ? await prepareWalLog(job.dataDir, job.spec.bytes)
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

// ---- parent --------------------------------------------------------------------------------------------------

interface Options {
  readonly profile: Profile;
  readonly only: string | undefined;
  readonly out: string;
  readonly cpuProf: boolean;
}

const STUDY_NAMES: readonly string[] = [
  ...WORKLOADS.map((w) => w.name),
  "scaling-replay",
  "scaling-concurrency",
  "torn-tail",
  "decode-heap",
  "follow",
  "archive",
];

function parseArgs(argv: readonly string[]): Options {
  let profile: Profile = "full";
  let only: string | undefined;
  let out: string | undefined;
  let cpuProf = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") continue;
    else if (a === "--smoke") profile = "smoke";
    else if (a === "--quick") profile = "quick";
    else if (a === "--full") profile = "full";
    else if (a === "--only") only = argv[++i];
    else if (a === "--out") out = argv[++i];
    else if (a === "--cpu-prof") cpuProf = true;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(
        "usage: node dist/main.js [--smoke | --quick | --full] [--only <workload>] [--out <dir>] [--cpu-prof]\n" +
          `workloads: ${STUDY_NAMES.join(", ")}\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (only !== undefined && !STUDY_NAMES.includes(only))
    throw new Error(`--only: unknown workload ${only} (${STUDY_NAMES.join(", ")})`);
  // Only a full, unfiltered run replaces the committed results; a full run of the follow group alone writes only its
  // own follow.{json,md} there.
  const defaultOut =
    profile === "full" && (only === undefined || only === "follow" || only === "archive")
      ? join(APP_DIR, "results")
      : join(APP_DIR, ".tmp", "results", profile);
  return { profile, only, out: resolve(out ?? defaultOut), cpuProf };
}

const TMP = join(APP_DIR, ".tmp");
const RUN_ROOT = join(TMP, `run-${process.pid}`);
const PROFILE_DIR = join(TMP, "profiles");

async function spawnJob(job: Job, opts: Options, label: string, timeoutMs: number): Promise<ChildResult> {
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
    ((job.kind === "case" && job.caseName.startsWith("lora.")) || (job.kind === "follow" && job.job.kind === "catchUp"))
  ) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    execArgv.push("--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${label}.cpuprofile`);
  }
  return new Promise((resolvePromise) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child", JSON.stringify(job)], {
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

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

const datasetCache = new Map<string, { dir: string; meta: DatasetMeta }>();

async function dataset(spec: DatasetSpec, opts: Options): Promise<{ dir: string; meta: DatasetMeta }> {
  const key = spec.kind === "walLog" ? `wal-${spec.bytes}` : `loradb-${spec.nodes}`;
  const cached = datasetCache.get(key);
  if (cached !== undefined) return cached;
  const dir = join(RUN_ROOT, "data", key);
  const t0 = performance.now();
  const r = await spawnJob({ kind: "dataset", spec, dataDir: dir }, opts, `dataset-${key}`, 30 * 60_000);
  if (!r.ok || r.meta === undefined) throw new Error(`dataset ${key}: ${r.ok ? "no meta" : r.error}`);
  log(
    `  dataset ${key}: ${r.meta.records} records, ${(r.meta.bytes / 2 ** 20).toFixed(1)} MiB (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  const entry = { dir, meta: await readMeta(dir) };
  datasetCache.set(key, entry);
  return entry;
}

function dropDataset(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}.json`, { force: true });
  for (const [k, v] of datasetCache) if (v.dir === dir) datasetCache.delete(k);
}

function roundsOf(profile: Profile): { warmup: number; rounds: number } {
  return profile === "smoke"
    ? { warmup: 0, rounds: 1 }
    : profile === "quick"
      ? { warmup: 1, rounds: 3 }
      : { warmup: 1, rounds: 5 };
}

interface CaseOutcome {
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
    return { rate: nan, seconds: nan, ops: 0, error: error ?? "no samples" };
  }
  const rate = spread(s.map((m) => m.ops / m.seconds));
  const withBytes = s.filter((m) => m.bytes !== undefined);
  const mbps = withBytes.length > 0 ? spread(withBytes.map((m) => (m.bytes ?? 0) / 1e6 / m.seconds)).median : undefined;
  const withIo = s.filter((m) => m.syncs !== undefined);
  const withCpu = s.filter((m) => m.cpuSeconds !== undefined && m.cpuSeconds > 0);
  const outcome: CaseOutcome = {
    rate,
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
 * its own short warm-up, so a drifting disk (fsync latency on a shared VM varies by an order of magnitude over
 * minutes) hits every system alike instead of whichever ran during a slow patch.
 */
async function runInterleaved(
  systems: readonly { key: string; caseName: string }[],
  p: CaseParams,
  opts: Options,
  prefix: string,
  dataDir?: string,
  roundsOverride?: number,
): Promise<Record<string, CaseOutcome>> {
  const { warmup } = roundsOf(opts.profile);
  const rounds = roundsOverride ?? roundsOf(opts.profile).rounds;
  const samples = new Map<string, Measure[]>(systems.map((s) => [s.key, []]));
  const errors = new Map<string, string>();
  for (let r = 0; r < rounds; r++) {
    for (const s of systems) {
      if (errors.has(s.key)) continue;
      const res = await runRound(s.caseName, p, opts, `${prefix}.${s.key}.r${r}`, {
        warmup,
        ...(dataDir === undefined ? {} : { dataDir }),
      });
      if (res.ok && res.samples !== undefined) samples.get(s.key)?.push(...res.samples);
      else errors.set(s.key, res.ok ? "no samples" : res.error);
    }
  }
  return Object.fromEntries(
    systems.map((s) => [s.key, summarize(`${prefix}.${s.key}`, samples.get(s.key) ?? [], errors.get(s.key))]),
  );
}

async function runCase(
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

async function runWorkloads(opts: Options): Promise<WorkloadEntry[]> {
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
    const outcomes = await runInterleaved(w.systems, p, opts, w.name, data?.dir);
    for (const s of w.systems) {
      const o = outcomes[s.key] as CaseOutcome;
      mbps[s.key] = o.mbps;
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
    const judgement = w.judge(results, { mbps });
    const lora = results.lora ?? null;
    const peers: WorkloadEntry["peers"] = Object.fromEntries(
      Object.entries(results)
        .filter(([k]) => k !== "lora")
        .map(([k, v]) => [k, { ...v, loraRatio: lora === null ? null : lora.median / v.median }]),
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
      detail: judgement.detail,
    });
    log(`  → ${w.target}: ${judgement.met === null ? "—" : judgement.met ? "MET" : "NOT MET"} (${judgement.detail})`);
  }
  return entries;
}

async function runReplayScaling(opts: Options): Promise<ReplayScalingPoint[]> {
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

async function runConcurrencyScaling(opts: Options): Promise<{ points: ConcurrencyPoint[]; raw: number | null }> {
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

/**
 * Open after a torn tail: per round, one fresh child per size (sizes interleaved, so load drifting over the run hits
 * every size alike); each child measures every (payload, tear) at its size beside the raw floors.
 */
async function runTornTailStudy(opts: Options): Promise<TornTailReport> {
  const sizes = tornTailSizesMiB(opts.profile);
  const rounds = tornTailRounds(opts.profile);
  log(`recovery: Wal.open after a torn tail of ${sizes.join(", ")} MiB, ${rounds} round(s)`);
  const results: TornTailChildResult[][] = sizes.map(() => []);
  const errors: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [i, sizeMiB] of sizes.entries()) {
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
      const points: TornTailPoint[] = [];
      for (const [i, sizeMiB] of sizes.entries()) {
        const xs = (results[i] ?? []).flatMap((c) => c.samples.filter((s) => s.kind === kind && s.tear === tear));
        if (xs.length === 0) continue;
        points.push({
          sizeMiB,
          tailBytes: xs[0]?.tailBytes ?? 0,
          openSeconds: spread(xs.map((x) => x.openSeconds)),
          openMBps: spread(xs.map((x) => x.tailBytes / 1e6 / x.openSeconds)),
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
          openMBps: p.openMBps.median,
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

/** Decode heap per input byte: one fresh `--expose-gc` child per payload shape. */
async function runDecodeHeapStudy(opts: Options): Promise<DecodeHeapRow[]> {
  log(`recovery: loraCodec decode heap per input byte (target ≤ ${DECODE_HEAP_TARGET})`);
  const rows: DecodeHeapRow[] = [];
  for (const shape of HEAP_SHAPES) {
    const res = await spawnJob(
      { kind: "decodeHeap", shape, repeats: DECODE_HEAP_REPEATS },
      opts,
      `decode-heap.${shape}`,
      5 * 60_000,
    );
    if (!res.ok || res.decodeHeap === undefined) {
      const error = res.ok ? "no result" : (res.error.split("\n")[0] ?? res.error);
      log(`  ${shape}: FAILED ${error}`);
      rows.push({
        shape,
        label: HEAP_SHAPE_LABELS[shape],
        recordBytes: 0,
        events: 0,
        bytesPerInputByte: spread([]),
        heapUsedPerInputByte: Number.NaN,
        arrayBuffersPerInputByte: Number.NaN,
        met: null,
        error,
      });
      continue;
    }
    const d = res.decodeHeap;
    const b = spread(d.bytesPerInputByte);
    rows.push({
      shape,
      label: HEAP_SHAPE_LABELS[shape],
      recordBytes: d.recordBytes,
      events: d.events,
      bytesPerInputByte: b,
      heapUsedPerInputByte: spread(d.heapUsedPerInputByte).median,
      arrayBuffersPerInputByte: spread(d.arrayBuffersPerInputByte).median,
      met: b.median <= DECODE_HEAP_TARGET,
    });
    log(
      `  ${shape}: ${b.median.toFixed(2)} bytes retained per input byte (${b.min.toFixed(2)} – ${b.max.toFixed(2)}; ${d.recordBytes} bytes, ${d.events} events) → ${
        b.median <= DECODE_HEAP_TARGET ? "MET" : "NOT MET"
      }`,
    );
  }
  return rows;
}

/** What the change-feed group borrows from this file: child processes and the shared datasets. */
function followContext(opts: Options): Parameters<typeof runFollowStudy>[0] {
  return {
    profile: opts.profile,
    workRoot: join(RUN_ROOT, "work"),
    spawn: async (job, label, timeoutMs) => {
      const r = await spawnJob({ kind: "follow", job }, opts, label, timeoutMs);
      if (!r.ok || r.follow === undefined) throw new Error(r.ok ? "no result" : r.error);
      return r.follow;
    },
    dataset: (bytes) => dataset({ kind: "walLog", bytes }, opts),
    log,
  };
}

/** What the archiving group borrows from this file: child processes and the shared datasets. */
function archiveContext(opts: Options): Parameters<typeof runArchiveStudy>[0] {
  return {
    profile: opts.profile,
    workRoot: join(RUN_ROOT, "work"),
    spawn: async (job, label, timeoutMs) => {
      const r = await spawnJob({ kind: "archive", job }, opts, label, timeoutMs);
      if (!r.ok || r.archive === undefined) throw new Error(r.ok ? "no result" : r.error);
      return r.archive;
    },
    dataset: (bytes) => dataset({ kind: "walLog", bytes }, opts),
    log,
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
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
    const conc =
      opts.only === undefined || opts.only === "scaling-concurrency"
        ? await runConcurrencyScaling(opts)
        : { points: [], raw: null };
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
      scaling: { replay: scalingReplay, concurrency: conc.points, rawFdatasyncRate: conc.raw },
      recovery: { tornTail, decodeHeap, decodeHeapTarget: DECODE_HEAP_TARGET },
    };
  } finally {
    rmSync(RUN_ROOT, { recursive: true, force: true });
  }
  mkdirSync(opts.out, { recursive: true });
  if (archive !== undefined) {
    const args = process.argv.slice(2).filter((x) => x !== "--");
    const command =
      process.env.npm_lifecycle_event === "bench"
        ? `pnpm bench -- ${args.join(" ")}`
        : `node dist/main.js ${args.join(" ")}`.trim();
    const machine = report.machine;
    const md = renderArchiveMarkdown(archive, {
      command,
      startedAt: report.startedAt,
      machine: `Node ${machine.node}, ${machine.platform}, ${machine.cpus} × ${machine.cpuModel}`,
    });
    writeFileSync(
      join(opts.out, "archive.json"),
      `${JSON.stringify({ command, startedAt: report.startedAt, machine, ...archive }, null, 2)}\n`,
    );
    writeFileSync(join(opts.out, "archive.md"), md);
    process.stdout.write(md);
    log(`results written to ${join(opts.out, "archive.{json,md}")}`);
    return;
  }
  if (follow !== undefined) {
    const args = process.argv.slice(2).filter((x) => x !== "--");
    // How this run was started: through the package script (`pnpm bench -- …` here or at the root) or directly.
    const command =
      process.env.npm_lifecycle_event === "bench"
        ? `pnpm bench -- ${args.join(" ")}`
        : `node dist/main.js ${args.join(" ")}`.trim();
    const machine = report.machine;
    const followMd = renderFollowMarkdown(follow, {
      command,
      startedAt: report.startedAt,
      machine: `Node ${machine.node}, ${machine.platform}, ${machine.cpus} × ${machine.cpuModel}`,
    });
    const followJson = { command, startedAt: report.startedAt, machine, ...follow };
    writeFileSync(join(opts.out, "follow.json"), `${JSON.stringify(followJson, null, 2)}\n`);
    writeFileSync(join(opts.out, "follow.md"), followMd);
    if (opts.only === "follow") {
      process.stdout.write(followMd);
      log(`results written to ${join(opts.out, "follow.{json,md}")}`);
      return;
    }
  }
  const md = renderMarkdown(report);
  writeFileSync(join(opts.out, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(opts.out, "latest.md"), md);
  writeFileSync(join(opts.out, "latest.svg"), renderSvg(report));
  process.stdout.write(md);
  log(`results written to ${opts.out}`);
}

const childAt = process.argv.indexOf("--child");
if (childAt !== -1) {
  const job = JSON.parse(process.argv[childAt + 1] ?? "{}") as Job;
  runChild(job).then(
    (r) => process.send?.(r, () => process.exit(0)),
    (error: unknown) =>
      process.send?.(
        { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) },
        () => process.exit(1),
      ),
  );
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
