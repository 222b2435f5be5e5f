/** Renders a run: `latest.json` entries, the markdown tables and a dependency-free SVG bar chart. */

import { fmt, fmtRatio, type Spread } from "./stats.js";
import type { Role } from "./workloads.js";

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
  readonly targetMet: boolean | null;
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
  /** concurrency × raw write+fdatasync rate: what perfect group commit would reach. */
  readonly ideal: number;
  readonly syncsPerCommit: number | null;
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
    readonly rawFdatasyncRate: number | null;
  };
}

const metText = (m: boolean | null): string => (m === null ? "—" : m ? "**met**" : "not met");

function range(s: Spread): string {
  return s.n > 1 ? `${fmt(s.min)} – ${fmt(s.max)}` : "(1 round)";
}

export function renderMarkdown(r: RunReport): string {
  const lines: string[] = [];
  lines.push(`# @lora/wal benchmark (${r.profile})`, "");
  lines.push(
    `${r.startedAt}, ${r.durationSeconds.toFixed(0)} s; Node ${r.machine.node}, ${r.machine.platform}, ` +
      `${r.machine.cpus} × ${r.machine.cpuModel}, load average ${r.machine.loadAverage[0].toFixed(1)} at start and ${r.machine.loadAverage[1].toFixed(
        1,
      )} at end. 100-byte payloads; medians over rounds (range min – max); ` +
      "every system on the same disk, each round in a fresh directory, each system in its own child process.",
    "",
  );
  lines.push("## Summary", "");
  lines.push("| workload | unit | @lora/wal | baseline | ratio | target | result |");
  lines.push("| --- | --- | ---: | --- | ---: | --- | --- |");
  for (const w of r.workloads) {
    const base = w.baseline === null ? "—" : `${w.baseline.label}: ${fmt(w.baseline.value)}`;
    lines.push(
      `| ${w.title} | ${w.unit} | ${w.lora === null ? "—" : fmt(w.lora.median)} | ${base} | ${
        w.ratio === null ? "—" : fmtRatio(w.ratio)
      } | ${w.target} | ${metText(w.targetMet)} (${w.detail}) |`,
    );
  }
  const big = r.scaling.replay[r.scaling.replay.length - 1];
  if (big !== undefined) {
    lines.push(
      `| open of a ${big.sizeMiB} MiB log, streaming | MiB RSS growth | ${big.rssGrowthMiB.toFixed(1)} | — | — | < 64 MiB | ${metText(
        big.rssGrowthMiB < 64,
      )} |`,
    );
  }
  lines.push("");
  for (const w of r.workloads) {
    lines.push(`## ${w.title}`, "");
    lines.push(`Target: ${w.target}. Result: ${metText(w.targetMet)} (${w.detail}).`, "");
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
      `Ideal = writers × raw write+fdatasync rate (${fmt(r.scaling.rawFdatasyncRate ?? Number.NaN)}/s): every fdatasync covering one commit of every writer.`,
      "",
    );
    lines.push(
      "| writers | @lora/wal commits/s | range | fdatasyncs per commit | lmdb-js commits/s | ideal | @lora/wal ÷ ideal |",
    );
    lines.push("| ---: | ---: | --- | ---: | ---: | ---: | ---: |");
    for (const c of r.scaling.concurrency) {
      lines.push(
        `| ${c.concurrency} | ${fmt(c.lora.median)} | ${range(c.lora)} | ${c.syncsPerCommit?.toFixed(3) ?? "—"} | ${
          c.lmdb === null ? "—" : fmt(c.lmdb.median)
        } | ${fmt(c.ideal)} | ${fmtRatio(c.lora.median / c.ideal)} |`,
      );
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

// ---- SVG -------------------------------------------------------------------------------------------------------

interface Bar {
  readonly label: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly role: Role | "ideal";
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
  ideal: "#a3a3a3",
};

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
      if (c.lmdb !== null) bars.push({ label: `lmdb-js ×${c.concurrency}`, value: c.lmdb.median, role: "peer" });
      bars.push({ label: `ideal ×${c.concurrency}`, value: c.ideal, role: "ideal" });
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
    ["ideal", COLORS.ideal],
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
