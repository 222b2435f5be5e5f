/** The verdict table, the JSON report (apps/torture/results/), and the violation listing with replay commands. */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { caughtByExpectedTier } from "./expected-tiers.js";
import type { BugVerdict } from "./planted-bugs.js";
import { MAX_PRINTED_VIOLATIONS, type TierResult } from "./result.js";
import { bitflipDetectedPct } from "./tier-c.js";

export interface RunReport {
  readonly seed: number;
  readonly minutes: number;
  readonly tiers: readonly TierResult[];
  readonly bugs: readonly BugVerdict[] | null;
  readonly ms: number;
}

const pct = (n: number, d: number) => (d === 0 ? "—" : `${((100 * n) / d).toFixed(n === d ? 0 : 2)}%`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * A planted bug counts against the run when it ran and was not caught by one of its expected tiers (not caught at all,
 * or caught only by another tier); one skipped (no strace here) does not.
 */
const missed = (b: BugVerdict) => b.skipped !== true && !caughtByExpectedTier(b);
/** Caught, but by none of the tiers expected to catch it. */
const elsewhere = (b: BugVerdict) => b.caught && !caughtByExpectedTier(b);
const tiersText = (tiers: readonly string[]) => (tiers.length === 0 ? "none" : tiers.join(" or "));

export function violationCount(r: RunReport): number {
  const bugsMissed = r.bugs === null ? 0 : r.bugs.filter(missed).length;
  return r.tiers.reduce((n, t) => n + t.violations.length, 0) + bugsMissed;
}

export function renderTable(r: RunReport): string {
  const head = [
    "tier",
    "cases",
    "crash states",
    "acked checked",
    "lost",
    "phantom",
    "silent trunc.",
    "corruption detected",
    "calls",
    "refused",
    "violations",
    "planted bugs",
    "time",
  ];
  const rows: string[][] = [];
  const names: Record<string, string> = {
    A: "A simulated crashes",
    B: "B SIGKILL cycles",
    C: "C on-disk damage",
    D: "D traced crashes (strace)",
    faults: "faults EIO/ENOSPC/lock",
    misuse: "M misuse",
  };
  for (const t of r.tiers) {
    const misuse = t.tier === "misuse";
    rows.push([
      names[t.tier] ?? t.tier,
      misuse ? `${t.cases}/${t.extra.casesPlanned ?? t.cases}` : String(t.cases),
      String(t.crashStates),
      String(t.ackedChecked),
      String(t.lost),
      String(t.phantom),
      String(t.silentTruncations),
      t.tier === "C" ? pct(t.corruptionDetected, t.corruptionTotal) : "—",
      misuse ? String(t.extra.calls ?? 0) : "—",
      misuse ? String(t.extra.refusals ?? 0) : "—",
      String(t.violations.length),
      "—",
      secs(t.ms),
    ]);
  }
  if (r.bugs !== null) {
    const caught = r.bugs.filter(caughtByExpectedTier).length;
    const byOthers = r.bugs.filter(elsewhere).length;
    const ran = r.bugs.filter((b) => b.skipped !== true).length;
    const skipped = r.bugs.length - ran;
    rows.push([
      "planted bugs",
      skipped === 0 ? String(r.bugs.length) : `${ran} (+${skipped} skipped)`,
      "—",
      "—",
      "—",
      "—",
      "—",
      "—",
      "—",
      "—",
      String(r.bugs.filter(missed).length),
      `${caught}/${ran}${byOthers === 0 ? "" : ` (+${byOthers} by another tier)`}`,
      secs(r.bugs.reduce((n, b) => n + b.ms, 0)),
    ]);
  }
  const sum = (f: (t: TierResult) => number) => String(r.tiers.reduce((n, t) => n + f(t), 0));
  rows.push([
    "total",
    sum((t) => t.cases),
    sum((t) => t.crashStates),
    sum((t) => t.ackedChecked),
    sum((t) => t.lost),
    sum((t) => t.phantom),
    sum((t) => t.silentTruncations),
    "",
    sum((t) => t.extra.calls ?? 0),
    sum((t) => t.extra.refusals ?? 0),
    String(violationCount(r)),
    "",
    secs(r.ms),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function renderFigures(r: RunReport): string {
  const out: string[] = [];
  for (const t of r.tiers) {
    const rate =
      t.ms > 0
        ? t.tier === "B"
          ? `${((t.cases * 60_000) / t.ms).toFixed(0)} cycles/min`
          : t.tier === "misuse"
            ? `${(((t.extra.calls ?? 0) * 1000) / t.ms).toFixed(0)} calls/s, ${((t.crashStates * 1000) / t.ms).toFixed(0)} crash images/s`
            : t.tier === "D"
              ? `${((t.crashStates * 1000) / t.ms).toFixed(0)} states enumerated/s, ${(((t.extra.statesChecked ?? 0) * 1000) / t.ms).toFixed(0)} distinct states checked/s`
              : `${((t.crashStates * 1000) / t.ms).toFixed(0)} states/s`
        : "";
    const extra = Object.entries(t.extra)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    for (const n of t.notes.slice(0, 8)) out.push(`  ${t.tier} note: ${n}`);
    out.push(
      `  ${t.tier}: ${rate}${t.tier === "C" ? `, bit flips detected ${bitflipDetectedPct(t).toFixed(2)}%` : ""}; ${extra}`,
    );
  }
  for (const b of r.bugs ?? []) {
    out.push(
      `  planted ${b.bug} (expected: tier ${tiersText(b.expectedTiers)}): ${b.skipped === true ? `skipped: ${b.example ?? ""}` : caughtByExpectedTier(b) ? `caught by tier ${b.tier} in ${secs(b.ms)}: ${(b.example ?? "").slice(0, 160)}` : b.caught ? `NOT CAUGHT BY AN EXPECTED TIER, only by tier ${b.tier} in ${secs(b.ms)}: ${(b.example ?? "").slice(0, 160)}` : `NOT CAUGHT${b.example === null ? "" : ` (${b.example.slice(0, 400)})`}`}`,
    );
  }
  return out.join("\n");
}

export function renderViolations(r: RunReport): string {
  const out: string[] = [];
  for (const t of r.tiers) {
    for (const v of t.violations.slice(0, MAX_PRINTED_VIOLATIONS)) {
      out.push(`✗ [${v.tier}] ${v.kind} (seed ${r.seed}, case ${v.caseId}): ${v.message}\n    replay: ${v.replay}`);
    }
    if (t.violations.length > MAX_PRINTED_VIOLATIONS)
      out.push(`  ... and ${t.violations.length - MAX_PRINTED_VIOLATIONS} more in tier ${t.tier}`);
  }
  for (const b of r.bugs ?? []) {
    if (!missed(b)) continue;
    const what = b.caught
      ? `was caught by tier ${b.tier} only, not by its expected tier ${tiersText(b.expectedTiers)}`
      : `was not caught (expected: tier ${tiersText(b.expectedTiers)})`;
    out.push(`✗ planted bug ${b.bug} ${what}\n    replay: pnpm torture -- --tier bugs --seed ${r.seed}`);
  }
  return out.join("\n");
}

export function toJson(r: RunReport): Record<string, unknown> {
  const tier = (name: string) => r.tiers.find((t) => t.tier === name);
  const a = tier("A");
  const b = tier("B");
  const c = tier("C");
  const m = tier("misuse");
  const total = (f: (t: TierResult) => number) => r.tiers.reduce((n, t) => n + f(t), 0);
  return {
    seed: r.seed,
    minutes: r.minutes,
    finishedAt: new Date().toISOString(),
    ok: violationCount(r) === 0,
    crashStates: a?.crashStates ?? 0,
    crashStatesPerSec: a !== undefined && a.ms > 0 ? Math.round((a.crashStates * 1000) / a.ms) : 0,
    cycles: b?.cases ?? 0,
    cyclesPerMin: b !== undefined && b.ms > 0 ? Math.round((b.cases * 60_000) / b.ms) : 0,
    ackedChecked: total((t) => t.ackedChecked),
    lost: total((t) => t.lost),
    phantom: total((t) => t.phantom),
    silentTruncations: total((t) => t.silentTruncations),
    bitflipDetectedPct: c === undefined ? null : Number(bitflipDetectedPct(c).toFixed(4)),
    bitflipsTried: c?.extra.bitflipsTried ?? 0,
    corruptionDetectedPct:
      c === undefined || c.corruptionTotal === 0 ? null : (100 * c.corruptionDetected) / c.corruptionTotal,
    misuse:
      m === undefined
        ? null
        : {
            cases: m.cases,
            casesPlanned: m.extra.casesPlanned ?? m.cases,
            calls: m.extra.calls ?? 0,
            refusals: m.extra.refusals ?? 0,
            crashImages: m.crashStates,
            refusedByCode: Object.fromEntries(
              Object.entries(m.extra)
                .filter(([k]) => k.startsWith("refused."))
                .map(([k, v]) => [k.slice("refused.".length), v]),
            ),
            violations: m.violations.length,
            ms: m.ms,
          },
    plantedBugs: r.bugs === null ? null : plantedBugsJson(r.bugs),
    tiers: r.tiers.map((t) => ({
      tier: t.tier,
      cases: t.cases,
      crashStates: t.crashStates,
      ackedChecked: t.ackedChecked,
      lost: t.lost,
      phantom: t.phantom,
      silentTruncations: t.silentTruncations,
      violations: t.violations.length,
      ms: t.ms,
      ...t.extra,
      ...(t.tier === "D" ? tierDJson(t) : {}),
    })),
    violations: r.tiers.flatMap((t) => t.violations).slice(0, 200),
    ms: r.ms,
  };
}

/**
 * The planted bugs as the table counts them: `total` and `bugs` are the ones that ran (`caught` of `total`: caught by
 * an expected tier; `caughtElsewhere`: caught only by another tier, which fails the run as a miss does), and the ones
 * skipped (a seam bug without strace here) are listed apart in `skipped`, with why and which other tiers cover them.
 */
function plantedBugsJson(all: readonly BugVerdict[]): Record<string, unknown> {
  const ran = all.filter((x) => x.skipped !== true);
  return {
    caught: ran.filter(caughtByExpectedTier).length,
    caughtElsewhere: ran.filter(elsewhere).length,
    total: ran.length,
    bugs: ran.map((x) => ({
      bug: x.bug,
      caught: x.caught,
      tier: x.tier,
      expectedTiers: x.expectedTiers,
      byExpectedTier: caughtByExpectedTier(x),
      ms: x.ms,
      ...(x.otherTiers === undefined ? {} : { otherTiers: x.otherTiers }),
    })),
    skipped: all
      .filter((x) => x.skipped === true)
      .map((x) => ({
        bug: x.bug,
        expectedTiers: x.expectedTiers,
        why: x.example ?? "",
        // Which other tiers would catch it: for a seam bug, "none", the coverage this run lacks.
        ...(x.otherTiers === undefined ? {} : { otherTiers: x.otherTiers }),
      })),
  };
}

/** Tier D's own figures: what was traced (per sync mode and workload), claimed, enumerated per model, checked. */
function tierDJson(t: TierResult): Record<string, unknown> {
  const group = (prefix: string) =>
    Object.fromEntries(
      Object.entries(t.extra)
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => [k.slice(prefix.length), v]),
    );
  return {
    traces: t.extra.traces ?? 0,
    syscalls: t.extra.syscalls ?? 0,
    syncModes: { perCommit: 0, group: 0, none: 0, ...group("mode.") },
    workloads: group("workload."),
    claims: { ack: 0, wrote: 0, synced: 0, ...group("claims.") },
    models: { strict: t.extra.strictStates ?? 0, ordered: t.extra.orderedStates ?? 0 },
    distinctByModel: { strict: t.extra["distinct.strict"] ?? 0, ordered: t.extra["distinct.ordered"] ?? 0 },
    statesChecked: t.extra.statesChecked ?? 0,
    healStatesChecked: t.extra.healStatesChecked ?? 0,
    statesPerSec: t.ms > 0 ? Math.round(((t.extra.statesChecked ?? 0) * 1000) / t.ms) : 0,
    // Where the tier's time went: strace runs, parse + static checks + enumeration, opening the checked states.
    timeMs: { record: t.extra.recordMs ?? 0, model: t.extra.modelMs ?? 0, check: t.extra.checkMs ?? 0 },
    notes: t.notes,
  };
}

/** Write `results/<timestamp>-seed<seed>.json` and `results/latest.json`; returns the first path. */
export function writeJson(r: RunReport, extraPath?: string): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "results");
  mkdirSync(dir, { recursive: true });
  const body = `${JSON.stringify(toJson(r), null, 2)}\n`;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const path = join(dir, `${stamp}-seed${r.seed}.json`);
  writeFileSync(path, body);
  writeFileSync(join(dir, "latest.json"), body);
  if (extraPath !== undefined) writeFileSync(extraPath, body);
  return path;
}
