/**
 * `pnpm torture`: runs the tiers (every one by count, never by a deadline), shows a live progress line on a TTY, prints the verdict
 * table and every violation with a one-line replay command, writes the JSON report, and exits non-zero on any
 * violation (or any planted bug not caught).
 */

import { type CliOptions, parseCli, USAGE } from "./args.js";
import { runFaults } from "./faults.js";
import { misuseSequenceCount, runMisuse } from "./misuse.js";
import { type BugVerdict, runPlantedBugs } from "./planted-bugs.js";
import { type RunReport, renderFigures, renderTable, renderViolations, violationCount, writeJson } from "./report.js";
import type { TierResult } from "./result.js";
import { runTierA } from "./tier-a.js";
import { runTierB } from "./tier-b.js";
import { runTierC } from "./tier-c.js";
import { runTierD, tierDOptions } from "./tier-d.js";
import { runFollowBugs, runTierF, tierFOptions } from "./tier-f.js";
import { runTierR, tierROptions } from "./tier-r.js";
import { loadTrace } from "./trace-saved.js";

/**
 * Tier A cases and Tier B SIGKILL cycles, per minute of `--minutes` and for a smoke run. Every tier is bounded by
 * count, never by a deadline, so a seed's verdict is the same on a loaded machine (which takes longer instead).
 * Sized from this project's 2-core VM: about 35 Tier A cases and 3 Tier B cycles a second.
 */
const OPEN_ENDED = { A: { smoke: 200, perMinute: 900 }, B: { smoke: 12, perMinute: 50 } } as const;

/** How many cases (A) or cycles (B) a run makes. */
export function openEndedCount(tier: "A" | "B", smoke: boolean, minutes: number): number {
  const c = OPEN_ENDED[tier];
  return smoke ? c.smoke : Math.max(1, Math.round(c.perMinute * minutes));
}

function progress(): { update(r: TierResult): void; done(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  return {
    update(r) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const cases =
        r.tier === "misuse" ? `${r.cases}/${r.extra.casesPlanned ?? "?"}  calls ${r.extra.calls ?? 0}` : `${r.cases}`;
      const line = `  [${r.tier}] cases ${cases}  crash states ${r.crashStates}  acked checked ${r.ackedChecked}  violations ${r.violations.length}`;
      process.stderr.write(`\r${line.padEnd(100).slice(0, process.stderr.columns - 1 || 100)}`);
    },
    done() {
      process.stderr.write(`\r${" ".repeat(Math.max(0, (process.stderr.columns || 100) - 1))}\r`);
    },
  };
}

async function run(o: CliOptions): Promise<RunReport> {
  const start = Date.now();
  const selected = o.tiers;
  // --case runs that one case of its tier.
  const oneCase = { deadline: Number.POSITIVE_INFINITY, maxCases: 1 };
  const cases = o.caseIndex === undefined ? undefined : [o.caseIndex];
  // The bounded tiers (C's damage set, the fault cases) run their whole fixed set whatever the machine's speed, so
  // a verdict and a percentage are always of the full set; A and B run their counts.
  const wholeSet = { deadline: Number.POSITIVE_INFINITY, maxCases: Number.MAX_SAFE_INTEGER };
  const p = progress();
  const tiers: TierResult[] = [];
  const announce = (what: string) => {
    if (!process.stderr.isTTY) process.stderr.write(`torture: ${what}\n`);
  };
  // The fixed sets run first (C's damage cases, the fault cases, misuse and the planted bugs), then A and B their
  // counts.
  if (selected.includes("C")) {
    announce("tier C (on-disk damage)");
    tiers.push(
      await runTierC({
        seed: o.seed,
        budget: cases === undefined ? wholeSet : oneCase,
        ...(cases === undefined ? {} : { cases }),
      }),
    );
  }
  if (selected.includes("faults")) {
    announce("faults (fsync EIO, ENOSPC, locks)");
    tiers.push(
      await runFaults({
        seed: o.seed,
        budget: cases === undefined ? wholeSet : oneCase,
        ...(cases === undefined ? {} : { cases }),
      }),
    );
  }
  if (selected.includes("misuse")) {
    announce("misuse (refused calls, fences at every LSN, wrong codecs, crashes)");
    tiers.push(
      await runMisuse({
        seed: o.seed,
        sequences: misuseSequenceCount(o.smoke, o.minutes),
        ...(cases === undefined ? {} : { cases }),
        onProgress: p.update,
      }),
    );
  }
  if (selected.includes("D")) {
    announce("tier D (crash states from strace of the real process)");
    tiers.push(
      await runTierD({
        ...tierDOptions(o.seed, o.smoke, o.long, selected.length === 1),
        ...(cases === undefined ? {} : { cases }),
        ...(o.traceFile === undefined ? {} : { traceFile: o.traceFile }),
      }),
    );
  }
  if (selected.includes("F")) {
    announce("tier F (the change feed: followers beside crashing writers)");
    tiers.push(
      await runTierF({
        ...tierFOptions(o.seed, o.smoke, o.long),
        ...(cases === undefined ? {} : { simCaseList: cases }),
        onProgress: p.update,
      }),
    );
  }
  if (selected.includes("R")) {
    announce("tier R (archive, crash, restore, compare)");
    tiers.push(
      await runTierR({
        ...tierROptions(o.seed, o.smoke, o.long),
        ...(cases === undefined ? {} : { caseList: cases }),
        onProgress: p.update,
      }),
    );
  }
  let bugs: BugVerdict[] | null = null;
  if (selected.includes("bugs")) {
    announce("planted bugs");
    bugs = [...(await runPlantedBugs(o.seed)), ...(await runFollowBugs(o.seed))];
  }
  if (selected.includes("A")) {
    announce("tier A (simulated crashes)");
    tiers.push(
      await runTierA({
        seed: o.seed,
        budget: {
          deadline: Number.POSITIVE_INFINITY,
          maxCases: o.caseIndex === undefined ? openEndedCount("A", o.smoke, o.minutes) : 1,
        },
        maxLen: o.long ? 5 : 3,
        maxImages: 8,
        ...(cases === undefined ? {} : { cases }),
        onProgress: p.update,
      }),
    );
  }
  if (selected.includes("B")) {
    announce("tier B (SIGKILL cycles)");
    const b = { deadline: Number.POSITIVE_INFINITY, maxCases: openEndedCount("B", o.smoke, o.minutes) };
    tiers.push(
      await runTierB({
        seed: o.seed,
        budget: o.caseIndex === undefined ? b : { deadline: Number.POSITIVE_INFINITY, maxCases: o.caseIndex + 1 },
        ...(o.caseIndex === undefined ? {} : { lastCycle: o.caseIndex }),
        onProgress: p.update,
      }),
    );
  }
  const order = ["A", "B", "C", "D", "F", "R", "faults", "misuse"];
  tiers.sort((x, y) => order.indexOf(x.tier) - order.indexOf(y.tier));
  p.done();
  return { seed: o.seed, minutes: o.minutes, tiers, bugs, ms: Date.now() - start };
}

async function main(): Promise<number> {
  let o: CliOptions;
  try {
    o = parseCli(process.argv.slice(2));
    // A replayed tier D trace keeps the seed it was recorded with (its crash states are seeded by it).
    if (o.traceFile !== undefined) o = { ...o, seed: loadTrace(o.traceFile).seed };
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  console.log(
    `torture: seed ${o.seed}, budget ${o.minutes.toFixed(2)} min, tiers ${o.tiers.join(" ")}${o.long ? ", long" : ""}`,
  );
  const report = await run(o);
  console.log(`\n${renderTable(report)}\n`);
  console.log(renderFigures(report));
  const path = writeJson(report, o.json);
  const bad = violationCount(report);
  if (bad > 0) {
    console.log(`\n${renderViolations(report)}`);
    console.log(`\nFAIL: ${bad} violation(s), seed ${o.seed} (report: ${path})`);
    return 1;
  }
  console.log(`\nPASS: no violations, seed ${o.seed} (report: ${path})`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
