/** Renders a run: `latest.json` entries, the markdown tables and a dependency-free SVG bar chart. */

import type { QuantileInterval, Verdict } from "./confidence.js";
import { fmt, fmtRatio, type Spread, spread } from "./stats.js";
import type { TornTailVerdict } from "./torn-tail-verdict.js";
import { type Role, RSS_TARGET_BYTES } from "./workloads.js";

export interface SystemResult extends Spread {
  readonly label: string;
  readonly role: Role;
  readonly note?: string;
  /** MB/s median where the case reports bytes. */
  readonly mbps?: number;
  /** Median operations per CPU-second (user + system, all threads of the process). */
  readonly cpuRate?: number;
  /** Median write() and fdatasync() calls per operation (the WAL's ioStats). */
  readonly writesPerOp?: number;
  readonly syncsPerOp?: number;
  readonly error?: string;
}

export interface WorkloadEntry {
  readonly name: string;
  readonly title: string;
  readonly unit: string;
  readonly lora: SystemResult | null;
  readonly peers: Readonly<Record<string, SystemResult & { readonly loraRatio: number | null }>>;
  readonly baseline: { readonly label: string; readonly value: number } | null;
  readonly ratio: number | null;
  readonly target: string;
  /** true, false, or null when the interval does not decide. */
  readonly targetMet: boolean | null;
  /** The distribution-free interval of the target's ratio (the median of per-round ratios), when it has one. */
  readonly interval: QuantileInterval | null;
  readonly detail: string;
}

export interface ReplayScalingPoint {
  readonly sizeMiB: number;
  readonly bytes: number;
  readonly records: number;
  readonly seconds: Spread;
  readonly recordsPerSecond: number;
  readonly mbps: number;
  readonly rssGrowthMiB: number;
}

export interface ConcurrencyPoint {
  readonly concurrency: number;
  readonly lora: Spread;
  readonly lmdb: Spread | null;
  /** The raw group-commit loop of the same shape (`raw.groupCommit`). */
  readonly rawGroup: Spread | null;
  /** The same loop with a blocking fdatasync per round (`raw.groupCommitBlocking`). */
  readonly rawGroupBlocking?: Spread | null;
  readonly sqliteBatched: Spread | null;
  readonly levelBatched: Spread | null;
  readonly syncsPerCommit: number | null;
  /** @lora/wal ÷ the raw group-commit loop, per round (target ≥ 0.95). */
  readonly vsRaw: { readonly interval: QuantileInterval; readonly verdict: Verdict };
  /** @lora/wal ÷ the best expert-written peer of each round (target ≥ 1.25). */
  readonly vsPeers: { readonly interval: QuantileInterval; readonly verdict: Verdict };
  /**
   * The faster raw group-commit loop ÷ the best peer, per round: what the library's shape reaches against the peers
   * with no library at all (absent in runs before it was measured).
   */
  readonly rawVsPeers?: { readonly interval: QuantileInterval; readonly verdict: Verdict };
  readonly targetMet: boolean | null;
}

/** One size of one (tail, tear) row of the torn-tail study; spreads over rounds. */
export interface TornTailPoint {
  readonly sizeMiB: number;
  /** Bytes open cut (the torn record's bytes). */
  readonly tailBytes: number;
  readonly openSeconds: Spread;
  /** Tail bytes ÷ open time. */
  readonly openMBps: Spread;
  /** The median of `openMBps` with its order-statistic interval: what the speed verdict is decided on. */
  readonly openMBpsMedian?: QuantileInterval;
  /** Tail bytes ÷ `replayDir` time (classification, nothing written). */
  readonly replayMBps: Spread;
  /** Tail bytes ÷ raw read + zlib.crc32 time, same bytes, same child. */
  readonly rawMBps: Spread;
  /** Per round: open time ÷ raw read + CRC time. */
  readonly ratio: Spread;
  /** Tail bytes ÷ open CPU-seconds. */
  readonly openCpuMBps: Spread;
}

/** One (payload, tear) row of the torn-tail study: its points per size, and its verdict. */
export interface TornTailRow extends TornTailVerdict {
  readonly kind: string;
  readonly tear: string;
  readonly kindLabel: string;
  readonly tearLabel: string;
  readonly points: readonly TornTailPoint[];
}

export interface TornTailReport {
  readonly sizesMiB: readonly number[];
  /** The most rounds any size ran. */
  readonly rounds: number;
  /** Rounds per size (absent in runs where every size ran `rounds`). */
  readonly roundsBySize?: readonly { readonly sizeMiB: number; readonly rounds: number }[];
  readonly target: string;
  readonly rows: readonly TornTailRow[];
  /** Raw floor of the copy open keeps: read + write + fsync of the tail, MB/s per size. */
  readonly copyMBps: readonly { readonly sizeMiB: number; readonly mbps: Spread }[];
  /** `Wal.open` of the same log without the torn record. */
  readonly noTailOpenSeconds: Spread;
  readonly errors: readonly string[];
}

export interface DecodeHeapRow {
  readonly shape: string;
  readonly label: string;
  readonly recordBytes: number;
  readonly events: number;
  /** Heap (heapUsed + arrayBuffers) retained per input byte, over repetitions in one fresh child. */
  readonly bytesPerInputByte: Spread;
  readonly heapUsedPerInputByte: number;
  readonly arrayBuffersPerInputByte: number;
  readonly met: boolean | null;
  readonly error?: string;
}

export interface RecoveryReport {
  readonly tornTail: TornTailReport | null;
  readonly decodeHeap: readonly DecodeHeapRow[];
  readonly decodeHeapTarget: number;
}

export interface RunReport {
  readonly profile: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly cpuModel: string;
    /** 1-minute load average at the start and the end of the run (other work on the machine skews wall times). */
    readonly loadAverage: readonly [number, number];
  };
  readonly workloads: readonly WorkloadEntry[];
  readonly scaling: {
    readonly replay: readonly ReplayScalingPoint[];
    readonly concurrency: readonly ConcurrencyPoint[];
  };
  readonly recovery: RecoveryReport;
}

const metText = (m: boolean | null): string => (m === null ? "undecided" : m ? "**met**" : "not met");
/** A workload's result: its verdict, or a dash for a workload shown for context only. */
const resultText = (w: WorkloadEntry): string => (w.target.startsWith("—") ? "—" : metText(w.targetMet));

function range(s: Spread): string {
  return s.n > 1 ? `${fmt(s.min)} – ${fmt(s.max)}` : "(1 round)";
}

/**
 * The run's header paragraph and summary table: the top of `latest.md`, and what a full run writes into the root
 * README between its `bench-summary` markers.
 */
export function renderSummary(r: RunReport): string[] {
  const lines: string[] = [];
  lines.push(
    `${r.startedAt}, ${r.durationSeconds.toFixed(0)} s; Node ${r.machine.node}, ${r.machine.platform}, ` +
      `${r.machine.cpus} × ${r.machine.cpuModel}, load average ${r.machine.loadAverage[0].toFixed(1)} at start and ${r.machine.loadAverage[1].toFixed(
        1,
      )} at end. 100-byte payloads; medians over rounds (range min – max); ` +
      "every system on the same disk, each round in a fresh directory, each system in its own child process.",
    "",
    "Verdicts are decided with confidence: the systems of a workload run interleaved round by round, a ratio is " +
      "taken per round (@lora/wal's round r over the baseline's round r), and the target is judged on the median of " +
      "those ratios with a distribution-free interval (order statistics; with 9 rounds the interval runs from the 2nd " +
      "to the 8th of the sorted ratios and covers the median with 96.1 %). **met** only when the whole interval clears the target, **not met** " +
      "when it lies wholly on the other side, **undecided** otherwise. Only the default configuration decides a " +
      'target; opt-ins (blockingSync: true or false; the default is "auto") are reported beside it.',
    "",
  );
  lines.push("| workload | unit | @lora/wal | baseline | ratio | target | result |");
  lines.push("| --- | --- | ---: | --- | ---: | --- | --- |");
  for (const w of r.workloads) {
    const base = w.baseline === null ? "—" : `${w.baseline.label}: ${fmt(w.baseline.value)}`;
    lines.push(
      `| ${w.title} | ${w.unit} | ${w.lora === null ? "—" : fmt(w.lora.median)} | ${base} | ${
        w.ratio === null ? "—" : fmtRatio(w.ratio)
      } | ${w.target} | ${resultText(w)} (${w.detail}) |`,
    );
  }
  const big = r.scaling.replay[r.scaling.replay.length - 1];
  if (big !== undefined) {
    lines.push(
      `| open of a ${big.sizeMiB} MiB log, streaming | MiB RSS growth | ${big.rssGrowthMiB.toFixed(1)} | — | — | < ${RSS_TARGET_BYTES / 2 ** 20} MiB | ${metText(
        big.rssGrowthMiB * 2 ** 20 < RSS_TARGET_BYTES,
      )} |`,
    );
  }
  lines.push(...recoverySummaryRows(r.recovery));
  lines.push("");
  return lines;
}

export function renderMarkdown(r: RunReport): string {
  const lines: string[] = [];
  lines.push(`# @lora/wal benchmark (${r.profile})`, "");
  lines.push(...renderSummary(r));
  for (const w of r.workloads) {
    lines.push(`## ${w.title}`, "");
    lines.push(`Target: ${w.target}. Result: ${resultText(w)} (${w.detail}).`, "");
    lines.push(`| system | ${w.unit} (median) | range | @lora/wal ÷ system | notes |`);
    lines.push("| --- | ---: | --- | ---: | --- |");
    const rows: [string, SystemResult, number | null][] = [];
    if (w.lora !== null) rows.push(["lora", w.lora, null]);
    for (const [k, p] of Object.entries(w.peers)) rows.push([k, p, p.loraRatio]);
    for (const [, s, ratio] of rows) {
      const notes = [
        s.role === "baseline" ? "physical baseline" : "",
        s.note ?? "",
        s.mbps === undefined ? "" : `${s.mbps.toFixed(0)} MB/s`,
        s.cpuRate === undefined ? "" : `${fmt(s.cpuRate)} per CPU-second`,
        s.syncsPerOp === undefined
          ? ""
          : `${s.writesPerOp?.toFixed(3)} writes, ${s.syncsPerOp.toFixed(3)} fdatasyncs per op`,
        s.error === undefined ? "" : `error: ${s.error}`,
      ]
        .filter((x) => x !== "")
        .join("; ");
      const name = s.role === "lora" ? `**${s.label}**` : s.label;
      lines.push(`| ${name} | ${fmt(s.median)} | ${range(s)} | ${ratio === null ? "" : fmtRatio(ratio)} | ${notes} |`);
    }
    lines.push("");
  }
  if (r.scaling.replay.length > 0) {
    lines.push("## Scaling: streaming open (`Wal.open` with `onTransaction`) against log size", "");
    lines.push("| log size | records | time (median) | range | records/s | MB/s | RSS growth |");
    lines.push("| ---: | ---: | ---: | --- | ---: | ---: | ---: |");
    for (const p of r.scaling.replay) {
      lines.push(
        `| ${p.sizeMiB} MiB | ${fmt(p.records)} | ${p.seconds.median.toFixed(2)} s | ${p.seconds.min.toFixed(2)} – ${p.seconds.max.toFixed(
          2,
        )} s | ${fmt(p.recordsPerSecond)} | ${p.mbps.toFixed(0)} | ${p.rssGrowthMiB.toFixed(1)} MiB |`,
      );
    }
    const first = r.scaling.replay[0];
    const last = r.scaling.replay[r.scaling.replay.length - 1];
    if (first !== undefined && last !== undefined && first !== last) {
      const sizeX = last.bytes / first.bytes;
      const timeX = last.seconds.median / first.seconds.median;
      lines.push(
        "",
        `Size × ${sizeX.toFixed(1)} → time × ${timeX.toFixed(1)} (linear would be × ${sizeX.toFixed(1)}); ` +
          `RSS growth ${first.rssGrowthMiB.toFixed(1)} → ${last.rssGrowthMiB.toFixed(1)} MiB.`,
      );
    }
    lines.push("");
  }
  if (r.scaling.concurrency.length > 0) {
    lines.push("## Scaling: `perCommit` throughput against concurrent writers", "");
    lines.push(
      "Every level and system interleaved round by round. Targets per level, by default: ≥ 0.95 × a raw group-commit " +
        "loop of the same shape (the writers await hand-framed commits; one `writeSync` + one `fdatasync` per round; " +
        "the faster of it and its `fdatasyncSync` variant in each round) " +
        "and ≥ 1.25 × the best expert-written peer of each round (better-sqlite3 FULL one transaction per event-loop " +
        "turn, classic-level one `sync: true` batch in flight, lmdb-js). Ratios are medians of per-round ratios with " +
        "their interval. The faster raw loop ÷ the best peer is the shape's own reach against the peers, with no " +
        "library: where its interval lies wholly below 1.25, neither raw loop of this shape meets the peer target here.",
      "",
    );
    lines.push(
      "| writers | @lora/wal commits/s | range | fdatasyncs per commit | raw group loop | raw loop, fdatasyncSync | ÷ faster raw (target 0.95) | batched sqlite | batched level | lmdb-js | ÷ best peer (target 1.25) | faster raw loop ÷ best peer | result |",
    );
    lines.push("| ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- | --- |");
    const orDash = (s: Spread | null | undefined): string => (s === null || s === undefined ? "—" : fmt(s.median));
    const interval = (x: { interval: QuantileInterval }): string =>
      x.interval.n === 0
        ? "—"
        : `${x.interval.estimate.toFixed(2)} (${x.interval.low.toFixed(2)} – ${x.interval.high.toFixed(2)})`;
    for (const c of r.scaling.concurrency) {
      lines.push(
        `| ${c.concurrency} | ${fmt(c.lora.median)} | ${range(c.lora)} | ${c.syncsPerCommit?.toFixed(3) ?? "—"} | ${orDash(
          c.rawGroup,
        )} | ${orDash(c.rawGroupBlocking)} | ${interval(c.vsRaw)} | ${orDash(c.sqliteBatched)} | ${orDash(c.levelBatched)} | ${orDash(c.lmdb)} | ${interval(
          c.vsPeers,
        )} | ${c.rawVsPeers === undefined ? "—" : interval(c.rawVsPeers)} | ${metText(c.targetMet)} |`,
      );
    }
    lines.push("");
  }
  lines.push(...recoverySections(r.recovery));
  return `${lines.join("\n")}\n`;
}

const yesNo = (b: boolean | null): string => (b === null ? "—" : b ? "yes" : "no");

/** "9 rounds at 1, 8, 16 MiB and 5 at 32, 64 MiB", or "3 round(s)" for a run with one count for every size. */
function tornTailRoundsText(tt: TornTailReport): string {
  const bySize = tt.roundsBySize;
  if (bySize === undefined) return `${tt.rounds} round(s)`;
  const groups: { rounds: number; sizes: number[] }[] = [];
  for (const { sizeMiB, rounds } of bySize) {
    const group = groups.find((g) => g.rounds === rounds);
    if (group === undefined) groups.push({ rounds, sizes: [sizeMiB] });
    else group.sizes.push(sizeMiB);
  }
  return groups
    .map((g, i) => `${g.rounds}${i === 0 ? ` round${g.rounds === 1 ? "" : "s"}` : ""} at ${g.sizes.join(", ")} MiB`)
    .join(" and ");
}
const mbps = (s: Spread): string => (s.n > 1 ? `${fmt(s.median)} (${fmt(s.min)} – ${fmt(s.max)})` : fmt(s.median));

function recoverySummaryRows(rec: RecoveryReport): string[] {
  const lines: string[] = [];
  const tt = rec.tornTail;
  if (tt !== null && tt.rows.length > 0) {
    const largest = tt.sizesMiB[tt.sizesMiB.length - 1] ?? 0;
    const at = (row: TornTailRow): TornTailPoint | undefined => row.points.find((p) => p.sizeMiB === largest);
    const worst = tt.rows.reduce((a, b) =>
      (at(b)?.openMBps.median ?? Number.POSITIVE_INFINITY) < (at(a)?.openMBps.median ?? Number.POSITIVE_INFINITY)
        ? b
        : a,
    );
    const w = at(worst);
    const failing = tt.rows.filter((x) => x.met === false).map((x) => `${x.kind}/${x.tear}`);
    const met = tt.rows.some((x) => x.met === false) ? false : tt.rows.every((x) => x.met === true) ? true : null;
    lines.push(
      `| open after a torn tail of ${tt.sizesMiB.join(", ")} MiB (${tt.rows.length} payload × tear rows) | MB/s of the tail (gross), worst row at ${largest} MiB | ${
        w === undefined ? "—" : fmt(w.openMBps.median)
      } | raw read + crc32: ${w === undefined ? "—" : fmt(w.rawMBps.median)} | ${
        w === undefined ? "—" : fmtRatio(w.openMBps.median / w.rawMBps.median)
      } | ${tt.target} | ${metText(met)} (${tt.rows.filter((x) => x.met === true).length} of ${tt.rows.length} rows met${
        failing.length > 0 ? `; not met: ${failing.join(", ")}` : ""
      }; worst ${worst.kind}/${worst.tear}) |`,
    );
  }
  if (rec.decodeHeap.length > 0) {
    const valid = rec.decodeHeap.filter((d) => d.error === undefined);
    const worst = valid.reduce<DecodeHeapRow | undefined>(
      (a, b) => (a === undefined || b.bytesPerInputByte.median > a.bytesPerInputByte.median ? b : a),
      undefined,
    );
    const over = valid.filter((d) => d.met === false).map((d) => `${d.shape} ${d.bytesPerInputByte.median.toFixed(1)}`);
    const met = rec.decodeHeap.some((d) => d.error !== undefined) ? null : valid.every((d) => d.met === true);
    lines.push(
      `| decode heap per input byte, loraCodec record (worst of ${rec.decodeHeap.length} shapes) | bytes retained per byte | ${
        worst === undefined ? "—" : worst.bytesPerInputByte.median.toFixed(1)
      } | — | — | ≤ ${rec.decodeHeapTarget} | ${metText(met)} (${over.length === 0 ? "every shape within" : `over: ${over.join(", ")}`}) |`,
    );
  }
  return lines;
}

function recoverySections(rec: RecoveryReport): string[] {
  const lines: string[] = [];
  const tt = rec.tornTail;
  if (tt !== null) {
    lines.push("## Recovery: `Wal.open` after a torn tail", "");
    lines.push(
      "The newest segment holds three `commitTx` transactions and a TxBegin, then one torn `MutationBatch` record " +
        "(bytesCodec) carrying N MiB of payload, built with the library's encoder and written durably before the " +
        "timed part. `Wal.open` (default options) classifies the damage, copies the tail to `<segment>.<offset>.broken` " +
        "(fsynced) and cuts it; the row checks it reported exactly that torn tail. MB/s = tail bytes ÷ time. Beside it " +
        "in the same child: raw `readSync` (1 MiB pieces) + `zlib.crc32` of the same bytes, and `replayDir` alone " +
        `(classification, nothing written). Median (min – max) over ${tornTailRoundsText(tt)}, each size in a fresh child per round, sizes interleaved.`,
      "",
    );
    lines.push(
      `Target: ${tt.target}. "≥ 100 MB/s": ${
        tt.roundsBySize === undefined
          ? "the median MB/s at every size (this run's verdicts were decided on the medians alone)"
          : "at every size, the median MB/s over rounds, decided from its order-statistic interval (met when the interval is above 100 MB/s at every size, not met when it lies below at some size, undecided otherwise)"
      }. "Linear": open ÷ raw at the largest size ≤ 2 × the smallest such ratio over the other sizes except the smallest (where the fixed cost dominates). ` +
        "The fit is a least-squares line through the per-size median open times: its intercept is the fixed cost of a torn-tail open (the heal's fsyncs: the `.broken` copy, the directory, the cut), its slope the marginal rate.",
      "",
    );
    lines.push(
      "| payload | tear | linear | ≥ 100 MB/s | fixed cost (fit) | marginal MB/s (fit) | result | detail |",
      "| --- | --- | --- | --- | ---: | ---: | --- | --- |",
    );
    for (const row of tt.rows) {
      lines.push(
        `| ${row.kindLabel} | ${row.tearLabel} | ${yesNo(row.linear)} | ${yesNo(row.fast)} | ${
          row.fixedSeconds === null ? "—" : `${(row.fixedSeconds * 1000).toFixed(0)} ms`
        } | ${row.marginalMBps === null ? "—" : fmt(row.marginalMBps)} | ${metText(row.met)} | ${row.detail} |`,
      );
    }
    lines.push("");
    lines.push(
      "| payload | tear | tail | open time | open MB/s | replayDir MB/s | raw read + crc32 MB/s | open ÷ raw time | open MB per CPU-s |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const row of tt.rows) {
      for (const p of row.points) {
        lines.push(
          `| ${row.kind} | ${row.tear} | ${p.sizeMiB} MiB | ${(p.openSeconds.median * 1000).toFixed(1)} ms | ${mbps(p.openMBps)} | ${mbps(
            p.replayMBps,
          )} | ${mbps(p.rawMBps)} | ${mbps(p.ratio)} | ${fmt(p.openCpuMBps.median)} |`,
        );
      }
    }
    lines.push("");
    lines.push(
      `Context: raw copy floor (read + write in 1 MiB pieces + fsync of the tail, what keeping the \`.broken\` copy costs at least): ${tt.copyMBps
        .map((c) => `${c.sizeMiB} MiB ${mbps(c.mbps)} MB/s`)
        .join(
          "; ",
        )}. \`Wal.open\` of the same log without the torn record: ${(tt.noTailOpenSeconds.median * 1000).toFixed(1)} ms (${(
        tt.noTailOpenSeconds.min * 1000
      ).toFixed(1)} – ${(tt.noTailOpenSeconds.max * 1000).toFixed(1)}).`,
      "",
    );
    if (tt.errors.length > 0) lines.push(`Errors: ${tt.errors.join("; ")}`, "");
  }
  if (rec.decodeHeap.length > 0) {
    lines.push("## Recovery: decode heap per input byte (loraCodec, one CRC-valid record)", "");
    lines.push(
      "`decodeRecord` of one `MutationBatch` record with an LW1 payload, in a fresh child with `--expose-gc`: " +
        "(heapUsed + arrayBuffers) after a full GC with the decoded record alive, minus before, ÷ the record's bytes. " +
        `A heap measurement, not a timing; repeated in the child (median, range). Target ≤ ${rec.decodeHeapTarget} bytes per input byte.`,
      "",
    );
    lines.push(
      "| payload | record bytes | events | retained bytes per input byte | of which heapUsed / arrayBuffers | result |",
      "| --- | ---: | ---: | ---: | --- | --- |",
    );
    for (const d of rec.decodeHeap) {
      const b = d.bytesPerInputByte;
      lines.push(
        `| ${d.label} | ${d.recordBytes.toLocaleString("en-US")} | ${d.events.toLocaleString("en-US")} | ${
          d.error === undefined
            ? `${b.median.toFixed(2)}${b.n > 1 ? ` (${b.min.toFixed(2)} – ${b.max.toFixed(2)})` : ""}`
            : "—"
        } | ${d.error === undefined ? `${d.heapUsedPerInputByte.toFixed(2)} / ${d.arrayBuffersPerInputByte.toFixed(2)}` : ""} | ${
          d.error === undefined ? metText(d.met) : `error: ${d.error}`
        } |`,
      );
    }
    lines.push("");
  }
  return lines;
}

// ---- SVG -------------------------------------------------------------------------------------------------------

interface Bar {
  readonly label: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly role: Role;
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
  readonly targetValue?: number;
  readonly targetLabel?: string;
}

const COLORS: Record<Bar["role"], string> = {
  lora: "#2563eb",
  peer: "#f59e0b",
  baseline: "#6b7280",
};

function spreadMedian(xs: readonly number[]): number {
  return spread(xs).median;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function panelsOf(r: RunReport): Panel[] {
  const panels: Panel[] = [];
  for (const w of r.workloads) {
    const bars: Bar[] = [];
    if (w.lora !== null)
      bars.push({ label: w.lora.label, value: w.lora.median, min: w.lora.min, max: w.lora.max, role: "lora" });
    for (const p of Object.values(w.peers)) {
      if (Number.isFinite(p.median))
        bars.push({ label: p.label, value: p.median, min: p.min, max: p.max, role: p.role });
    }
    let targetValue: number | undefined;
    let targetLabel: string | undefined;
    if (w.name === "durable-serial" && w.baseline)
      [targetValue, targetLabel] = [0.9 * w.baseline.value, "target 0.9 × raw"];
    if (w.name === "durable-concurrent-64" && w.baseline)
      [targetValue, targetLabel] = [0.5 * w.baseline.value, "target 0.5 × 64 × raw"];
    if (w.name === "commit-none" && w.baseline)
      [targetValue, targetLabel] = [0.8 * w.baseline.value, "target 0.8 × raw"];
    if (w.name === "append-buffered" || w.name === "replay") [targetValue, targetLabel] = [2_000_000, "target 2 M/s"];
    panels.push({
      title: w.title,
      unit: w.unit,
      bars,
      ...(targetValue === undefined ? {} : { targetValue, targetLabel: targetLabel ?? "" }),
    });
  }
  if (r.scaling.replay.length > 0) {
    panels.push({
      title: "streaming open against log size (records/s; label: RSS growth)",
      unit: "records/s",
      bars: r.scaling.replay.map((p) => ({
        label: `${p.sizeMiB} MiB log (RSS +${p.rssGrowthMiB.toFixed(0)} MiB, ${p.seconds.median.toFixed(1)} s)`,
        value: p.recordsPerSecond,
        role: "lora" as const,
      })),
      targetValue: 2_000_000,
      targetLabel: "2 M/s",
    });
  }
  const tt = r.recovery.tornTail;
  if (tt !== null && tt.rows.length > 0) {
    const largest = tt.sizesMiB[tt.sizesMiB.length - 1] ?? 0;
    const bars: Bar[] = [];
    for (const row of tt.rows) {
      const p = row.points.find((x) => x.sizeMiB === largest);
      if (p !== undefined && Number.isFinite(p.openMBps.median)) {
        bars.push({
          label: `${row.kind} / ${row.tear}`,
          value: p.openMBps.median,
          min: p.openMBps.min,
          max: p.openMBps.max,
          role: "lora",
        });
      }
    }
    const raw = tt.rows
      .map((row) => row.points.find((x) => x.sizeMiB === largest)?.rawMBps.median ?? Number.NaN)
      .filter(Number.isFinite);
    if (raw.length > 0)
      bars.push({ label: "raw read + crc32 (median of rows)", value: spreadMedian(raw), role: "baseline" });
    const copy = tt.copyMBps.find((c) => c.sizeMiB === largest);
    if (copy !== undefined && Number.isFinite(copy.mbps.median))
      bars.push({ label: "raw copy + fsync", value: copy.mbps.median, role: "baseline" });
    panels.push({
      title: `Wal.open after a ${largest} MiB torn tail (payload / tear)`,
      unit: "MB/s of the tail",
      bars,
      targetValue: 100,
      targetLabel: "target 100 MB/s",
    });
  }
  const heap = r.recovery.decodeHeap.filter((d) => d.error === undefined);
  if (heap.length > 0) {
    panels.push({
      title: "loraCodec decode: heap retained per input byte (lower is better)",
      unit: "bytes per byte",
      bars: heap.map((d) => ({ label: d.shape, value: d.bytesPerInputByte.median, role: "lora" as const })),
      targetValue: r.recovery.decodeHeapTarget,
      targetLabel: `target ≤ ${r.recovery.decodeHeapTarget}`,
    });
  }
  if (r.scaling.concurrency.length > 0) {
    const bars: Bar[] = [];
    for (const c of r.scaling.concurrency) {
      bars.push({
        label: `@lora/wal ×${c.concurrency}`,
        value: c.lora.median,
        min: c.lora.min,
        max: c.lora.max,
        role: "lora",
      });
      if (c.rawGroup !== null)
        bars.push({ label: `raw group loop ×${c.concurrency}`, value: c.rawGroup.median, role: "baseline" });
      if (c.sqliteBatched !== null)
        bars.push({ label: `batched sqlite ×${c.concurrency}`, value: c.sqliteBatched.median, role: "peer" });
      if (c.lmdb !== null) bars.push({ label: `lmdb-js ×${c.concurrency}`, value: c.lmdb.median, role: "peer" });
    }
    panels.push({ title: "perCommit commits/s against concurrent writers", unit: "commits/s", bars });
  }
  return panels;
}

/** Horizontal bars, one panel per workload, each on its own log-scale axis (decades from below min to above max). */
export function renderSvg(r: RunReport): string {
  const panels = panelsOf(r);
  const width = 960;
  const labelW = 330;
  const plotW = width - labelW - 110;
  const barH = 16;
  const gap = 5;
  const parts: string[] = [];
  let y = 40;
  parts.push(
    `<text x="16" y="24" font-size="16" font-weight="bold">@lora/wal vs the stores Node users pick (${esc(r.profile)} run, ${esc(
      r.startedAt.slice(0, 10),
    )}; log scales)</text>`,
  );
  for (const panel of panels) {
    const values = panel.bars.flatMap((b) => [b.value, b.min ?? b.value, b.max ?? b.value]).filter((v) => v > 0);
    if (panel.targetValue !== undefined) values.push(panel.targetValue);
    if (values.length === 0) continue;
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.01));
    const x = (v: number): number => labelW + (plotW * Math.log10(Math.max(v, lo) / lo)) / Math.log10(hi / lo);
    parts.push(
      `<text x="16" y="${y + 14}" font-size="13" font-weight="bold">${esc(panel.title)} — ${esc(panel.unit)}</text>`,
    );
    y += 24;
    const top = y;
    const plotH = panel.bars.length * (barH + gap);
    for (let d = lo; d <= hi * 1.0001; d *= 10) {
      const gx = x(d).toFixed(1);
      parts.push(`<line x1="${gx}" y1="${top - 2}" x2="${gx}" y2="${top + plotH}" stroke="#e5e7eb"/>`);
      parts.push(
        `<text x="${gx}" y="${top + plotH + 11}" font-size="9" text-anchor="middle" fill="#6b7280">${fmt(d)}</text>`,
      );
    }
    for (const b of panel.bars) {
      const w = Math.max(1, x(b.value) - labelW);
      parts.push(
        `<text x="${labelW - 6}" y="${y + barH - 4}" font-size="11" text-anchor="end"${
          b.role === "lora" ? ' font-weight="bold"' : ""
        }>${esc(b.label)}</text>`,
      );
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[b.role]}"/>`);
      if (b.min !== undefined && b.max !== undefined && b.max > b.min) {
        const cy = y + barH / 2;
        parts.push(
          `<line x1="${x(b.min).toFixed(1)}" y1="${cy}" x2="${x(b.max).toFixed(1)}" y2="${cy}" stroke="#111827" stroke-width="1.2"/>`,
        );
      }
      parts.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + barH - 4}" font-size="10">${fmt(b.value)}</text>`);
      y += barH + gap;
    }
    if (panel.targetValue !== undefined) {
      const tx = x(panel.targetValue).toFixed(1);
      parts.push(
        `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${top + plotH}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      );
      parts.push(
        `<text x="${tx}" y="${top - 6}" font-size="9" fill="#dc2626" text-anchor="middle">${esc(panel.targetLabel ?? "target")}</text>`,
      );
    }
    y += 26;
  }
  const legend: [string, string][] = [
    ["@lora/wal", COLORS.lora],
    ["peer store", COLORS.peer],
    ["raw fs baseline", COLORS.baseline],
  ];
  let lx = 16;
  for (const [name, color] of legend) {
    parts.push(`<rect x="${lx}" y="${y}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${lx + 16}" y="${y + 10}" font-size="11">${esc(name)}</text>`);
    lx += 130;
  }
  parts.push(`<text x="${lx}" y="${y + 10}" font-size="11" fill="#dc2626">- - target</text>`);
  y += 24;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="system-ui, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join(
    "\n",
  )}\n</svg>\n`;
}
