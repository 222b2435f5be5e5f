/**
 * The archiving group (`--only archive`): orchestrates the children of `archive.ts`, states every figure with a
 * distribution-free interval (`confidence.ts`), decides the targets, and renders `archive.{json,md}`.
 *
 * Targets: the recovery point the package promises (README of `@lora/wal-archive`: "every commit reaches the
 * archive within `intervalMs` of becoming durable", 1 s by default), read as the p99 of the sampled `lagMs` under
 * sustained load; an attached archiver costs the 64-writer commit rate ≤ 5 %. Archiving and restore throughput are
 * stated against a raw copy of the same bytes to and from the same store (context, no target).
 */

import { join } from "node:path";
import type { ArchiveJob, CopyResult, RpoResult, RpoSample, S3Target, StoreKind, WriterCostResult } from "./archive.js";
import { startS3Server } from "./archive.js";
import {
  decide,
  MIN_DECIDING_COVERAGE,
  percent,
  type QuantileInterval,
  quantileInterval,
  type Verdict,
} from "./confidence.js";
import { fmt, type Spread, spread } from "./stats.js";
import { type StudyContext, type StudyLoad, studyChildren } from "./study-context.js";
import { intervalText, runHeaderLines, type StudyRun, verdictTableLines } from "./study-text.js";
import type { Profile } from "./workloads.js";
import { type BlockRow, blockRow, judgeWriterCost, type PairedBlockCounts, pairTotals } from "./writer-cost-pairs.js";

export const ARCHIVE_TARGETS = { rpoP99Ms: 1000, writerCostFraction: 0.05 } as const;

const LEVEL = 0.95;
const STORES: readonly StoreKind[] = ["fs", "s3"];
const STORE_LABELS: Record<StoreKind, string> = {
  fs: "fsArchive (a directory on the same disk)",
  s3: "s3Archive (local s3rver)",
};

interface ArchiveCounts {
  readonly copy: { readonly mib: number; readonly rounds: number };
  readonly restore: { readonly rounds: number };
  readonly rpo: {
    readonly rounds: number;
    readonly commits: number;
    readonly concurrency: number;
    readonly intervalMs: number;
    readonly sampleMs: number;
    readonly timeLimitMs: number;
  };
  readonly writerCost: PairedBlockCounts & { readonly intervalMs: number };
}

export function archiveCounts(p: Profile): ArchiveCounts {
  if (p === "smoke") {
    return {
      copy: { mib: 2, rounds: 1 },
      restore: { rounds: 1 },
      rpo: { rounds: 1, commits: 2000, concurrency: 64, intervalMs: 1000, sampleMs: 50, timeLimitMs: 10_000 },
      writerCost: { rounds: 1, cycles: 1, warmupCycles: 0, blockCommits: 640, concurrency: 64, intervalMs: 1000 },
    };
  }
  if (p === "quick") {
    return {
      copy: { mib: 16, rounds: 3 },
      restore: { rounds: 3 },
      rpo: { rounds: 2, commits: 100_000, concurrency: 64, intervalMs: 1000, sampleMs: 10, timeLimitMs: 30_000 },
      writerCost: { rounds: 2, cycles: 4, warmupCycles: 1, blockCommits: 25_600, concurrency: 64, intervalMs: 1000 },
    };
  }
  // 64 writers commit 5,000 – 60,000 times a second here depending on the load, so a block of 128,000 commits lasts
  // 2 – 25 s and an archiver attached to it ships at least one piece (intervalMs 1000) inside the block; an RPO run
  // of 600,000 commits (or 30 s) spans ten intervals or more (the brief's 20,000 would be a fraction of one).
  return {
    copy: { mib: 32, rounds: 5 },
    restore: { rounds: 5 },
    rpo: { rounds: 3, commits: 600_000, concurrency: 64, intervalMs: 1000, sampleMs: 10, timeLimitMs: 30_000 },
    writerCost: { rounds: 3, cycles: 6, warmupCycles: 1, blockCommits: 128_000, concurrency: 64, intervalMs: 1000 },
  };
}

/** What the orchestrator lends the group (`group-contexts.ts`). */
export type ArchiveStudyContext = StudyContext<ArchiveJob>;

// ---- the report ------------------------------------------------------------------------------------------------

export interface ThroughputRow {
  readonly part: "archive" | "restore";
  readonly store: StoreKind;
  readonly label: string;
  /** MB/s (10^6 bytes) of the package's path and of the raw copy, per round. */
  readonly mbps: Spread;
  readonly rawMBps: Spread;
  readonly bytes: number;
  readonly rawBytes: number;
  readonly objects: number;
  readonly rawObjects: number;
  /** Per round: package MB/s ÷ raw MB/s of the same round; interval of the median. */
  readonly ratio: QuantileInterval;
  readonly perRound: readonly { readonly mbps: number; readonly rawMBps: number }[];
}

export interface RpoRow {
  readonly store: StoreKind;
  readonly label: string;
  readonly rounds: number;
  readonly samples: number;
  readonly commitsPerSecond: Spread;
  readonly lagMs: { readonly p50: QuantileInterval; readonly p99: QuantileInterval; readonly max: number };
  readonly lsnsBehind: { readonly p50: QuantileInterval; readonly p99: QuantileInterval; readonly max: number };
  /** Samples with a lag over intervalMs, and over twice that. */
  readonly overInterval: number;
  readonly overTwice: number;
  readonly maxSampleGapMs: number;
  /** Bytes uploaded ÷ bytes of the log written (pieces, then the whole segment again once sealed). */
  readonly uploadAmplification: number;
  readonly uploadedPieces: number;
  readonly uploadedSegments: number;
  readonly failures: number;
}

export interface CostRow {
  readonly condition: "archiver" | "rawCopy" | "control";
  readonly label: string;
  readonly pairs: number;
  readonly rate: number;
  readonly baseRate: number;
  readonly ratio: QuantileInterval;
  readonly syncsPerCommit: number;
  readonly baseSyncsPerCommit: number;
  readonly writerCpuPerCommitUs: number;
  readonly baseWriterCpuPerCommitUs: number;
  readonly uploadsPerBlock: number;
}

export interface ArchiveVerdict {
  readonly name: string;
  readonly target: string;
  readonly interval: QuantileInterval;
  readonly verdict: Verdict;
  readonly detail: string;
}

export interface ArchiveReport {
  readonly profile: Profile;
  readonly durationSeconds: number;
  readonly counts: ArchiveCounts;
  readonly load: StudyLoad;
  readonly dataset: { readonly mib: number; readonly bytes: number; readonly transactions: number } | null;
  readonly throughput: readonly ThroughputRow[];
  readonly rpo: readonly RpoRow[];
  readonly writerCost: {
    readonly rows: readonly CostRow[];
    readonly blocks: readonly (BlockRow & { readonly uploads: number })[];
  } | null;
  readonly verdicts: readonly ArchiveVerdict[];
  readonly errors: readonly string[];
}

// ---- orchestration ---------------------------------------------------------------------------------------------

export async function runArchiveStudy(ctx: ArchiveStudyContext): Promise<ArchiveReport> {
  const t0 = performance.now();
  const children = studyChildren(ctx);
  const { run, errors } = children;
  const counts = archiveCounts(ctx.profile);

  const server = await startS3Server(join(ctx.workRoot, "s3rver"));
  const s3: S3Target = { endpoint: server.endpoint, bucket: server.bucket };
  ctx.log(`archive: local S3 server at ${s3.endpoint}`);
  let dataset: ArchiveReport["dataset"] = null;
  const throughput: ThroughputRow[] = [];
  const rpo: RpoRow[] = [];
  let writerCost: ArchiveReport["writerCost"] = null;
  try {
    // 1. Archiving an existing log, against a raw copy of its segment files; rounds interleaved.
    const cc = counts.copy;
    ctx.log(`archive: archiving a ${cc.mib} MiB log, ${cc.rounds} round(s), fs and S3, archiver and raw interleaved`);
    try {
      const data = await ctx.dataset(cc.mib * 2 ** 20);
      dataset = { mib: cc.mib, bytes: data.meta.bytes, transactions: data.meta.transactions };
      const results = new Map<string, (CopyResult | undefined)[]>();
      for (let r = 0; r < cc.rounds; r++) {
        for (const store of STORES) {
          const systems = r % 2 === 0 ? (["archiver", "raw"] as const) : (["raw", "archiver"] as const);
          for (const system of systems) {
            const label = `archive.copy.${store}.${system}.r${r}`;
            const res = await run<CopyResult>(
              {
                kind: "copy",
                store,
                system,
                dataDir: data.dir,
                workDir: join(ctx.workRoot, label),
                prefix: label,
                s3,
              },
              label,
              10 * 60_000,
            );
            const key = `${store}.${system}`;
            results.set(key, [...(results.get(key) ?? []), res]);
          }
        }
      }
      for (const store of STORES) {
        throughput.push(throughputRow("archive", store, results.get(`${store}.archiver`), results.get(`${store}.raw`)));
      }

      // 2. Restore from an archive prepared once per store, against a raw fetch of its objects.
      const rc = counts.restore;
      ctx.log(`archive: restore, ${rc.rounds} round(s), fs and S3, restore and raw interleaved`);
      const prepared = new Map<StoreKind, string>();
      for (const store of STORES) {
        const archiveDir = join(ctx.workRoot, `archive.ref.${store}`);
        const ok = await run<unknown>(
          {
            kind: "prepareArchive",
            store,
            dataDir: data.dir,
            workDir: join(ctx.workRoot, `archive.prepare.${store}`),
            archiveDir,
            prefix: "ref",
            s3,
          },
          `archive.prepare.${store}`,
          10 * 60_000,
        );
        if (ok !== undefined) prepared.set(store, archiveDir);
      }
      const restores = new Map<string, (CopyResult | undefined)[]>();
      for (let r = 0; r < rc.rounds; r++) {
        for (const store of STORES) {
          const archiveDir = prepared.get(store);
          if (archiveDir === undefined) continue;
          const systems = r % 2 === 0 ? (["restore", "raw"] as const) : (["raw", "restore"] as const);
          for (const system of systems) {
            const label = `archive.restore.${store}.${system}.r${r}`;
            const res = await run<CopyResult>(
              { kind: "restore", store, system, archiveDir, prefix: "ref", workDir: join(ctx.workRoot, label), s3 },
              label,
              10 * 60_000,
            );
            const key = `${store}.${system}`;
            restores.set(key, [...(restores.get(key) ?? []), res]);
          }
        }
      }
      for (const store of STORES) {
        if (!prepared.has(store)) continue;
        throughput.push(
          throughputRow("restore", store, restores.get(`${store}.restore`), restores.get(`${store}.raw`)),
        );
      }
      for (const row of throughput) {
        ctx.log(
          `  ${row.part} ${row.store}: ${row.mbps.median.toFixed(1)} MB/s vs raw ${row.rawMBps.median.toFixed(1)} MB/s, ` +
            `ratio ${row.ratio.estimate.toFixed(2)} (${row.ratio.low.toFixed(2)} – ${row.ratio.high.toFixed(2)})`,
        );
      }
    } catch (error) {
      errors.push(`throughput: ${String(error).split("\n")[0]}`);
      ctx.log(`  throughput: ${String(error)}`);
    }

    // 3. RPO under sustained 64-writer load.
    const pc = counts.rpo;
    ctx.log(`archive: RPO under ${pc.concurrency} writers, ${pc.rounds} round(s) × ${pc.commits} commits per store`);
    const rpoRuns = new Map<StoreKind, RpoResult[]>(STORES.map((s) => [s, []]));
    for (let r = 0; r < pc.rounds; r++) {
      for (const store of r % 2 === 0 ? STORES : [...STORES].reverse()) {
        const label = `archive.rpo.${store}.r${r}`;
        const res = await run<RpoResult>(
          {
            kind: "rpo",
            store,
            dir: join(ctx.workRoot, label),
            prefix: label,
            s3,
            commits: pc.commits,
            concurrency: pc.concurrency,
            intervalMs: pc.intervalMs,
            sampleMs: pc.sampleMs,
            timeLimitMs: pc.timeLimitMs,
          },
          label,
          pc.timeLimitMs + 120_000,
        );
        if (res !== undefined) rpoRuns.get(store)?.push(res);
      }
    }
    for (const store of STORES) {
      const row = rpoRow(store, rpoRuns.get(store) ?? [], pc.intervalMs);
      if (row === null) continue;
      rpo.push(row);
      ctx.log(
        `  ${store}: lag p50 ${row.lagMs.p50.estimate} ms, p99 ${row.lagMs.p99.estimate} ms, max ${row.lagMs.max} ms; ` +
          `LSNs behind p50 ${row.lsnsBehind.p50.estimate}, p99 ${row.lsnsBehind.p99.estimate}`,
      );
    }

    // 4. Writer cost: paired blocks with and without an archiver, an A/A control beside them.
    const wc = counts.writerCost;
    ctx.log(
      `archive: writer cost, ${wc.rounds} round(s) × ${wc.cycles} cycles of paired blocks of ${wc.blockCommits} commits (${wc.concurrency} writers)`,
    );
    const costRuns: WriterCostResult[] = [];
    for (let r = 0; r < wc.rounds; r++) {
      const label = `archive.writerCost.r${r}`;
      const res = await run<WriterCostResult>(
        { kind: "writerCost", dir: join(ctx.workRoot, label), ...wc },
        label,
        20 * 60_000,
      );
      if (res !== undefined) costRuns.push(res);
    }
    if (costRuns.length > 0) {
      writerCost = {
        rows: costRows(costRuns),
        blocks: costRuns.flatMap((c, round) => c.blocks.map((b) => ({ ...blockRow(b, round), uploads: b.uploads }))),
      };
    }
  } finally {
    await server.stop();
  }

  const load = children.finish();
  const report: Omit<ArchiveReport, "verdicts"> = {
    profile: ctx.profile,
    durationSeconds: (performance.now() - t0) / 1000,
    counts,
    load,
    dataset,
    throughput,
    rpo,
    writerCost,
    errors,
  };
  const full: ArchiveReport = { ...report, verdicts: verdicts(report) };
  for (const v of full.verdicts) ctx.log(`  → ${v.name}: ${v.verdict} (${v.detail})`);
  return full;
}

function throughputRow(
  part: "archive" | "restore",
  store: StoreKind,
  mine: readonly (CopyResult | undefined)[] | undefined,
  raw: readonly (CopyResult | undefined)[] | undefined,
): ThroughputRow {
  const m = mine ?? [];
  const w = raw ?? [];
  const mb = (x: CopyResult | undefined): number => (x === undefined ? Number.NaN : x.bytes / 1e6 / x.seconds);
  const ratios: number[] = [];
  const perRound: { mbps: number; rawMBps: number }[] = [];
  for (let r = 0; r < Math.max(m.length, w.length); r++) {
    const a = mb(m[r]);
    const b = mb(w[r]);
    perRound.push({ mbps: a, rawMBps: b });
    if (Number.isFinite(a / b)) ratios.push(a / b);
  }
  const okM = m.filter((x): x is CopyResult => x !== undefined);
  const okW = w.filter((x): x is CopyResult => x !== undefined);
  return {
    part,
    store,
    label:
      part === "archive" ? `startArchiver + flush() → ${STORE_LABELS[store]}` : `restore() ← ${STORE_LABELS[store]}`,
    mbps: spread(okM.map(mb)),
    rawMBps: spread(okW.map(mb)),
    bytes: okM[0]?.bytes ?? 0,
    rawBytes: okW[0]?.bytes ?? 0,
    objects: okM[0]?.objects ?? 0,
    rawObjects: okW[0]?.objects ?? 0,
    ratio: quantileInterval(ratios, 0.5, LEVEL),
    perRound,
  };
}

function rpoRow(store: StoreKind, runs: readonly RpoResult[], intervalMs: number): RpoRow | null {
  if (runs.length === 0) return null;
  const all: RpoSample[] = runs.flatMap((r) => r.samples);
  const lag = all.map((s) => s.lagMs);
  const lsns = all.map((s) => s.lsnsBehind);
  const uploaded = runs.reduce((a, r) => a + r.uploadedBytes, 0);
  const written = runs.reduce((a, r) => a + r.logBytes, 0);
  return {
    store,
    label: STORE_LABELS[store],
    rounds: runs.length,
    samples: all.length,
    commitsPerSecond: spread(runs.map((r) => r.commits / r.seconds)),
    lagMs: {
      p50: quantileInterval(lag, 0.5, LEVEL),
      p99: quantileInterval(lag, 0.99, LEVEL),
      max: Math.max(...lag),
    },
    lsnsBehind: {
      p50: quantileInterval(lsns, 0.5, LEVEL),
      p99: quantileInterval(lsns, 0.99, LEVEL),
      max: Math.max(...lsns),
    },
    overInterval: lag.filter((x) => x > intervalMs).length,
    overTwice: lag.filter((x) => x > 2 * intervalMs).length,
    maxSampleGapMs: Math.max(...runs.map((r) => r.maxSampleGapMs)),
    uploadAmplification: uploaded / written,
    uploadedPieces: runs.reduce((a, r) => a + r.uploadedPieces, 0),
    uploadedSegments: runs.reduce((a, r) => a + r.uploadedSegments, 0),
    failures: runs.reduce((a, r) => a + r.failures, 0),
  };
}

const COST_LABELS = {
  archiver: "archiver attached (fsArchive, intervalMs 1000)",
  rawCopy: "floor: each sealed segment copied durably by hand (read, write, fsync, rename, directory fsync)",
  control: "A/A control: a block without an archiver ÷ another one",
} as const;

function costRows(runs: readonly WriterCostResult[]): CostRow[] {
  const rows: CostRow[] = [];
  for (const condition of ["archiver", "rawCopy", "control"] as const) {
    let uploads = 0;
    const t = pairTotals(runs, condition, false, (mine) => {
      uploads += mine.uploads;
    });
    rows.push({
      condition,
      label: COST_LABELS[condition],
      pairs: t.ratios.length,
      rate: spread(t.rates).median,
      baseRate: spread(t.baseRates).median,
      ratio: quantileInterval(t.ratios, 0.5, LEVEL),
      syncsPerCommit: t.syncs / t.commits,
      baseSyncsPerCommit: t.baseSyncs / t.baseCommits,
      writerCpuPerCommitUs: (t.cpuSeconds / t.commits) * 1e6,
      baseWriterCpuPerCommitUs: (t.baseCpuSeconds / t.baseCommits) * 1e6,
      uploadsPerBlock: t.ratios.length === 0 ? Number.NaN : uploads / t.ratios.length,
    });
  }
  return rows;
}

function verdicts(r: Omit<ArchiveReport, "verdicts">): ArchiveVerdict[] {
  const out: ArchiveVerdict[] = [];
  for (const row of r.rpo) {
    out.push({
      name: `RPO under load: ${row.label}`,
      target: `p99 lagMs ≤ ${ARCHIVE_TARGETS.rpoP99Ms} ms (intervalMs)`,
      interval: row.lagMs.p99,
      verdict: decide(row.lagMs.p99, ARCHIVE_TARGETS.rpoP99Ms, "atMost"),
      detail:
        `p99 ${intervalText(row.lagMs.p99, 0, " ms")}; p50 ${row.lagMs.p50.estimate} ms; max ${row.lagMs.max} ms; ` +
        `${row.overInterval} of ${row.samples} samples over ${ARCHIVE_TARGETS.rpoP99Ms} ms, ${row.overTwice} over ${2 * ARCHIVE_TARGETS.rpoP99Ms} ms`,
    });
  }
  // The raw copy is the floor under the target (context), never a verdict of its own.
  const floor = { condition: "rawCopy", what: "copying each sealed segment durably by hand", under: () => true };
  for (const v of judgeWriterCost(r.writerCost?.rows ?? [], ARCHIVE_TARGETS.writerCostFraction, true, floor)) {
    out.push({
      name: `writer cost: ${v.row.label}`,
      target: v.target,
      interval: v.interval,
      verdict: v.verdict,
      detail: v.detail,
    });
  }
  return out;
}

// ---- markdown ----------------------------------------------------------------------------------------------------

const sp = (s: Spread, digits = 1): string =>
  s.n === 0 ? "—" : `${s.median.toFixed(digits)} (${s.min.toFixed(digits)} – ${s.max.toFixed(digits)})`;
const iv = (i: QuantileInterval, digits: number): string =>
  i.n === 0
    ? "—"
    : `${i.estimate.toFixed(digits)} (${i.low.toFixed(digits)} – ${i.high.toFixed(digits)}, ${percent(i.coverage)})`;

export function renderArchiveMarkdown(r: ArchiveReport, run: StudyRun): string {
  const lines: string[] = [];
  const c = r.counts;
  lines.push(`# @lora/wal-archive: archiving, RPO, restore, writer cost (${r.profile})`, "");
  lines.push(
    ...runHeaderLines(
      run,
      r.durationSeconds,
      r.load,
      " (the bench's own writer, archiver and s3rver processes count in it). Every store lives on the " +
        "same disk as the log: fsArchive in a directory beside it, s3rver keeping its objects in files there too.",
    ),
  );
  lines.push("## Verdicts", "");
  lines.push(
    `Each verdict is decided from a distribution-free interval of order statistics at ${percent(LEVEL)} where the ` +
      "number of samples allows (`src/confidence.ts`): **met** when the whole interval meets the target, **not met** " +
      "when none of it does, **undecided** when it straddles the target or covers with less than " +
      `${percent(MIN_DECIDING_COVERAGE)}. The RPO samples are ${c.rpo.sampleMs} ms apart within a run and so not ` +
      "independent (the lag is a sawtooth of period intervalMs): read that interval as a description of the runs, " +
      "not a guarantee. No writer-cost verdict is decided unless the A/A control lies within the target's band.",
    "",
  );
  lines.push(...verdictTableLines(r.verdicts, r.errors));

  if (r.throughput.length > 0 && r.dataset !== null) {
    lines.push("## Archiving and restore throughput against a raw copy", "");
    lines.push(
      `A closed log of ${(r.dataset.bytes / 2 ** 20).toFixed(1)} MiB in the \`commitTx\` layout (${fmt(r.dataset.transactions)} ` +
        "transactions of one 100-byte event, 8 MiB segments), copied afresh (untimed, fsynced) for every round. " +
        "**Archive**: `Wal.open` on the copy (untimed), then `startArchiver(wal, { store, intervalMs: 1000 })` and " +
        "`await flush()` timed: catch-up lists the store, uploads every sealed segment whole and ships the active " +
        "segment's durable prefix as a piece, and advances its slot; MB/s counts `status().uploadedBytes`. **Raw**: the " +
        "same segment files, each read and written whole — fs: temp file, write, fsync, rename, directory fsync (what " +
        "fsArchive promises per object); S3: one plain `PutObject` per segment with the same client settings (no " +
        "checksum header). **Restore**: `restore({ store, dir })` from an archive made once per store by the same " +
        "archiver; raw: every object of that archive listed, read (fs) or fetched with `GetObject` (S3) and written " +
        "durably as a file of its own. Each system in a fresh child per round, which goes first alternating by " +
        `round; ${c.copy.rounds} rounds for archiving, ${c.restore.rounds} for restore. The ratio is per round (same ` +
        "round, same store); its interval is of the median over rounds.",
      "",
      "| operation | MB/s (median, range) | raw MB/s (median, range) | ÷ raw (interval) | bytes / objects | raw bytes / objects | per round MB/s (package / raw) |",
      "| --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const row of r.throughput) {
      lines.push(
        `| ${row.label} | ${sp(row.mbps)} | ${sp(row.rawMBps)} | ${iv(row.ratio, 2)} | ${fmt(row.bytes)} / ${row.objects} | ` +
          `${fmt(row.rawBytes)} / ${row.rawObjects} | ${row.perRound
            .map((p) => `${p.mbps.toFixed(0)} / ${p.rawMBps.toFixed(0)}`)
            .join("; ")} |`,
      );
    }
    lines.push("");
  }

  if (r.rpo.length > 0) {
    const k = c.rpo;
    lines.push("## Recovery point under sustained load", "");
    lines.push(
      `${k.concurrency} closed-loop writers each awaiting \`commitTx([100 B])\` (\`perCommit\`) on a fresh log with an ` +
        `archiver attached (intervalMs ${k.intervalMs}), ${fmt(k.commits)} commits per run (or ${(k.timeLimitMs / 1000).toFixed(0)} s), ` +
        `${k.rounds} run(s) per store in fresh children, stores interleaved. Every ${k.sampleMs} ms (a timer in the ` +
        "writer's process) `status()` is sampled: `lagMs` (how long the oldest durable-but-unarchived LSN has been " +
        "durable: the recovery point right now) and `durableLsn − archivedLsn` (LSNs a lost disk would take; 3 per " +
        "commit). Pooled over runs. Upload amplification is bytes uploaded ÷ bytes of log written: a segment sealed " +
        "during the run is uploaded whole once more after its pieces.",
      "",
      "| store | runs / samples | commits/s | lag p50 ms (interval) | lag p99 ms (interval) | lag max ms | samples over 1× / 2× intervalMs | LSNs behind p50 (interval) | LSNs behind p99 (interval) | LSNs behind max | widest sample gap ms | pieces / segments uploaded | upload ÷ log bytes | store failures |",
      "| --- | --- | ---: | --- | --- | ---: | --- | --- | --- | ---: | ---: | --- | ---: | ---: |",
    );
    for (const row of r.rpo) {
      lines.push(
        `| ${row.label} | ${row.rounds} / ${row.samples} | ${fmt(row.commitsPerSecond.median)} | ${iv(row.lagMs.p50, 0)} | ${iv(
          row.lagMs.p99,
          0,
        )} | ${row.lagMs.max} | ${row.overInterval} / ${row.overTwice} | ${iv(row.lsnsBehind.p50, 0)} | ${iv(
          row.lsnsBehind.p99,
          0,
        )} | ${fmt(row.lsnsBehind.max)} | ${row.maxSampleGapMs.toFixed(0)} | ${row.uploadedPieces} / ${row.uploadedSegments} | ${row.uploadAmplification.toFixed(
          2,
        )} | ${row.failures} |`,
      );
    }
    lines.push("");
  }

  const wc = r.writerCost;
  if (wc !== null) {
    const k = c.writerCost;
    lines.push("## Writer cost of an attached archiver", "");
    lines.push(
      `${k.concurrency} closed-loop writers each awaiting \`commitTx([100 B])\` (\`perCommit\`) in blocks of ${fmt(k.blockCommits)} ` +
        `commits, in ${k.rounds} fresh child process(es) of ${k.cycles} cycles (after ${k.warmupCycles} unrecorded) of three ` +
        "pairs on one handle: a block with an archiver (fsArchive in a directory beside the log, intervalMs " +
        `${k.intervalMs}) next to a block without one; the floor, a block in which every segment sealed is copied durably ` +
        "by hand to a directory beside the log (read whole, temp file, write, fsync, rename, directory fsync; no CRC, no " +
        "pieces, no slot), next to one without; and the A/A control, two blocks without. The archiver is attached " +
        "before its block and caught up (untimed), and stopped after it (untimed, shipping what the block left), so the " +
        "block holds the pieces its timer ships while the writers run. Which block of a pair goes first alternates by " +
        "cycle and the order of the pairs rotates. The ratio is per pair; its interval is of the median over pairs.",
      "",
      "| condition | pairs | with: commits/s | without: commits/s | with ÷ without (interval) | cost | fdatasyncs per commit with / without | writer CPU µs per commit with / without | uploads per block |",
      "| --- | ---: | ---: | ---: | --- | ---: | --- | --- | ---: |",
    );
    for (const row of wc.rows) {
      lines.push(
        `| ${row.label} | ${row.pairs} | ${fmt(row.rate)} | ${fmt(row.baseRate)} | ${iv(row.ratio, 3)} | ${(
          (1 - row.ratio.estimate) * 100
        ).toFixed(
          1,
        )} % | ${row.syncsPerCommit.toFixed(4)} / ${row.baseSyncsPerCommit.toFixed(4)} | ${row.writerCpuPerCommitUs.toFixed(
          1,
        )} / ${row.baseWriterCpuPerCommitUs.toFixed(1)} | ${row.uploadsPerBlock.toFixed(1)} |`,
      );
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
