/**
 * Writing a run's results into the output directory: `archive.{json,md}` for the archiving group (alone), then
 * `follow.{json,md}` for the change-feed group, then `latest.{json,md,svg}` unless the run was `--only follow`.
 * The rendered markdown of what was written last goes to stdout.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ArchiveReport, renderArchiveMarkdown } from "./archive-study.js";
import type { Options } from "./cli-args.js";
import { type FollowReport, renderFollowMarkdown } from "./follow-study.js";
import { log } from "./log.js";
import { type RunReport, renderMarkdown, renderSvg } from "./report.js";
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
  process.stdout.write(md);
  log(`results written to ${opts.out}`);
}
