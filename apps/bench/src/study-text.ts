/** The wording both study groups share in their verdicts and their markdown: intervals, verdicts, load, header. */

import { percent, type QuantileInterval, type Verdict } from "./confidence.js";
import type { StudyLoad } from "./study-context.js";

/** "0.962 × (95.0 % interval 0.950 – 0.981 ×, n = 18)". */
export function intervalText(i: QuantileInterval, digits: number, unit = ""): string {
  return `${i.estimate.toFixed(digits)}${unit} (${percent(i.coverage)} interval ${i.low.toFixed(digits)} – ${i.high.toFixed(digits)}${unit}, n = ${i.n})`;
}

export const verdictText = (v: Verdict): string => (v === "met" ? "**met**" : v);

export const loadText = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(" / ");

/** How a group's report was produced. */
export interface StudyRun {
  readonly command: string;
  readonly startedAt: string;
  readonly machine: string;
}

/**
 * The paragraphs under a group's title: the command, time and machine, then the load over the group; `loadRemark`
 * goes right after "over the children's starts and ends" (what counts in that load, and how to read it).
 */
export function runHeaderLines(run: StudyRun, durationSeconds: number, load: StudyLoad, loadRemark: string): string[] {
  return [
    `Produced by \`${run.command}\` (in \`apps/bench\`), ${run.startedAt}, ${durationSeconds.toFixed(0)} s; ${run.machine}.`,
    "",
    `Machine load (1 / 5 / 15-minute load average): ${loadText(load.start)} at the start of the group, ${loadText(
      load.end,
    )} at its end; the 1-minute figure ranged ${load.min1.toFixed(2)} – ${load.max1.toFixed(2)} over the children's ` +
      `starts and ends${loadRemark}`,
    "",
  ];
}

/** The verdicts table, then the group's errors if it had any. */
export function verdictTableLines(
  verdicts: readonly {
    readonly name: string;
    readonly target: string;
    readonly detail: string;
    readonly verdict: Verdict;
  }[],
  errors: readonly string[],
): string[] {
  const lines = ["| measure | target | estimate and interval | verdict |", "| --- | --- | --- | --- |"];
  for (const v of verdicts) lines.push(`| ${v.name} | ${v.target} | ${v.detail} | ${verdictText(v.verdict)} |`);
  if (errors.length > 0) lines.push("", `Errors: ${errors.join("; ")}.`);
  lines.push("");
  return lines;
}
