/**
 * The shape `inspect`, `verify` and `stat` share: parse `<path>` and the read options, answer `--help`, compute a
 * report (showing progress on a TTY), then print it as JSON or as text; the exit code is the report's verdict.
 */

import type { ParseArgsConfig } from "node:util";
import { COMMON_OPTIONS, type CommandContext, ExitCode, onePath, parseCommand, READ_OPTIONS } from "../cli-context.js";
import { codecOptions } from "../codec-module.js";
import { reportJson } from "../format/report-json.js";
import type { CodecUse, ReadOptions } from "../read-options.js";
import { holdsArchive } from "../scan/holds-archive.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import type { Verdict } from "../verdict.js";

export interface ReportCommand<R extends { readonly verdict: Verdict; readonly codec: CodecUse }> {
  readonly name: string;
  readonly help: string;
  compute(path: string, options: ReadOptions): Promise<R>;
  /**
   * Print the report as text (the JSON form is generic). `archive`: the directory holds no segment but an archive,
   * which a note printed after the report names (so the text need not say that it holds no segment files).
   */
  printText(report: R, ctx: CommandContext, place: { readonly archive: boolean }): void;
  /** Whether the report found no segment in a directory (then the text says so when it holds an archive). */
  noSegments(report: R): boolean;
  /** The command's own options beside the read options, and what they add to the options `compute` gets. */
  readonly own?: {
    readonly options: NonNullable<ParseArgsConfig["options"]>;
    read(values: Record<string, unknown>): object;
  };
}

/** What the commands that read a log say of an archive directory named in its place. */
export function archiveDirNote(path: string): string {
  return `${path} holds the archive of a log, not a log (read it with lora-wal archive ls or archive verify; lora-wal restore rebuilds a log from it)`;
}

export async function runReportCommand<R extends { readonly verdict: Verdict; readonly codec: CodecUse }>(
  command: ReportCommand<R>,
  args: string[],
  ctx: CommandContext,
): Promise<number> {
  const { values, positionals } = parseCommand(command.name, args, {
    ...COMMON_OPTIONS,
    ...READ_OPTIONS,
    ...command.own?.options,
  });
  if (values.help === true) {
    ctx.out.line(command.help.trimEnd());
    return ExitCode.OK;
  }
  const path = onePath(command.name, positionals);
  const codec = await codecOptions(command.name, values);
  const own = command.own?.read(values) ?? {};
  const read = ctx.readOptions(command.name, codec, values.quiet === true);
  let report: R;
  try {
    report = await command.compute(path, { ...read.options, ...own });
  } finally {
    read.done();
  }
  if (values.json === true) ctx.out.line(JSON.stringify(reportJson(report), null, 2));
  else {
    const archive = command.noSegments(report) && (await holdsArchive(createReadOnlyFileSystem(), path));
    command.printText(report, ctx, { archive });
    if (archive) {
      ctx.out.line(`${ctx.style.bold("note")}       ${archiveDirNote(path)}`);
    }
  }
  return report.verdict.exitCode;
}
