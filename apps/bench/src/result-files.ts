/**
 * Writing a run's results into the output directory: `archive.{json,md}` for the archiving group (alone), then
 * `follow.{json,md}` for the change-feed group, then `latest.{json,md,svg}` unless the run was `--only follow`; a
 * full run that replaced the committed results also rewrites the root README's summary table.
 * The rendered markdown of what was written last goes to stdout.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ArchiveReport, renderArchiveMarkdown } from "./archive-study.js";
import type { Options } from "./cli-args.js";
import { type FollowReport, renderFollowMarkdown } from "./follow-study.js";
import { log } from "./log.js";
import { APP_DIR } from "./paths.js";
import { replaceBlock, SUMMARY_END, SUMMARY_START } from "./readme-block.js";
import { type RunReport, renderMarkdown, renderSummary, renderSvg } from "./report.js";
import type { StudyRun } from "./study-text.js";

/** How this run was started: through the package script (`pnpm bench -- …` here or at the root) or directly. */
function commandLine(): string {
  const args = process.argv.slice(2).filter((x) => x !== "--");
  return process.env.npm_lifecycle_event === "bench"
    ? `pnpm bench -- ${args.join(" ")}`
    : `node dist/main.js ${args.join(" ")}`.trim();
}

/** What a group's report says about how it was produced. */
function studyRun(report: RunReport): StudyRun {
  const machine = report.machine;
  return {
    command: commandLine(),
    startedAt: report.startedAt,
    machine: `Node ${machine.node}, ${machine.platform}, ${machine.cpus} × ${machine.cpuModel}`,
  };
}

export function writeResults(
  opts: Options,
  report: RunReport,
  follow: FollowReport | undefined,
  archive: ArchiveReport | undefined,
): void {
  mkdirSync(opts.out, { recursive: true });
  if (archive !== undefined) {
    const run = studyRun(report);
    const md = renderArchiveMarkdown(archive, run);
    writeFileSync(
      join(opts.out, "archive.json"),
      `${JSON.stringify({ command: run.command, startedAt: report.startedAt, machine: report.machine, ...archive }, null, 2)}\n`,
    );
    writeFileSync(join(opts.out, "archive.md"), md);
    process.stdout.write(md);
    log(`results written to ${join(opts.out, "archive.{json,md}")}`);
    return;
  }
  if (follow !== undefined) {
    const run = studyRun(report);
    const followMd = renderFollowMarkdown(follow, run);
    const followJson = { command: run.command, startedAt: report.startedAt, machine: report.machine, ...follow };
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
  if (opts.out === join(APP_DIR, "results")) updateReadme(report);
  process.stdout.write(md);
  log(`results written to ${opts.out}`);
}

const README = join(APP_DIR, "..", "..", "README.md");
/** The root README's summary table, from a full run that replaced the committed results. */
function updateReadme(report: RunReport): void {
  if (!existsSync(README)) return;
  const text = readFileSync(README, "utf8");
  const next = replaceBlock(text, SUMMARY_START, SUMMARY_END, renderSummary(report).join("\n"));
  if (next === undefined) {
    log(`README.md has no ${SUMMARY_START} … ${SUMMARY_END} block: not updated`);
    return;
  }
  writeFileSync(README, next);
  log("README.md summary table updated");
}
