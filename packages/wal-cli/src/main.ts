/**
 * The `lora-wal` command line: parse, dispatch to a command, map every failure onto an exit code. Takes its
 * streams as arguments so tests run it in-process.
 */

import { readFileSync } from "node:fs";
import { isWalError, shownError, type WalErrorCode } from "@lora/wal-codec";
import { type CliIo, CommandContext, didYouMean, UsageError } from "./cli-context.js";
import { runArchive } from "./commands/archive.js";
import { runDump } from "./commands/dump.js";
import { runFollow } from "./commands/follow.js";
import { runInspect } from "./commands/inspect.js";
import { runRestore } from "./commands/restore.js";
import { runSlots } from "./commands/slots.js";
import { runStat } from "./commands/stat.js";
import { runVerify } from "./commands/verify.js";
import { ExitCode, exitCodeForError } from "./exit-codes.js";
import { jsonFailureLine, wantsJson } from "./json-error.js";

export const MAIN_HELP = `Usage: lora-wal <command> <dir> [options]

Tools for Lora write-ahead log directories (LoraDB's lora-wal format) and their
archives. All but restore (and slots create|drop) are read-only: they never
take the write lock and never change a byte of the log, so they are safe to run
beside a live writer (a record being written may show as a torn tail).

Commands:
  inspect <dir>   one line per segment, damage with its offset, lock state
  verify <dir>    full check: what opening the log would do (exit status below)
  dump <dir>      records as text or --json, filtered by LSN, kind, transaction
  stat <dir>      counts by kind, bytes, transaction sizes, checkpoints
  follow <dir>    committed transactions as they are committed (tail -f)
  slots <dir>     replication slots; slots <dir> create|drop <name> (these two
                  write in <dir>/slots/ only, never a segment)
  archive ls|verify <target>
                  an archive's segments; every check a restore makes
  restore <target> <dir>
                  rebuild a log directory from an archive (writes <dir> only)

<dir> is a WAL directory or a single segment file (0000000001.wal); follow and
slots take a directory. <target> is an archive: its directory, or
s3://bucket[/prefix] for S3 and S3-compatible services.

Logs of any codec: inspect, verify, stat and dump take --codec lora|json|bytes,
--codec framing (check records, LSNs, CRCs and transactions; decode no
payload) or --codec-module <file> (your own PayloadCodec). Without one they
read with lora, or framing only when lora does not decode the first mutation
record, and say so.

Options:
  -h, --help      show help (also: lora-wal <command> --help)
  -v, --version   show the version

Exit status:
  0  clean
  1  open repairs it: a torn tail (cut) or a headerless newest segment (removed)
  2  corruption, malformed structure or bad segment header
  3  usage error
  4  path missing or unreadable (I/O error)
  5  codec mismatch: intact records that do not decode with the --codec or
     --codec-module given (follow: or with the default, lora)
  6  behind truncation: the records after the position (or a slot's) are gone
  7  replication slot not found (or, on create, already there)
  8  archive: an object a restore needs is missing
  9  archive: an object is corrupt
`;

const COMMANDS: Record<string, (args: string[], ctx: CommandContext) => Promise<number>> = {
  inspect: runInspect,
  verify: runVerify,
  dump: runDump,
  stat: runStat,
  follow: runFollow,
  slots: runSlots,
  archive: runArchive,
  restore: runRestore,
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * Run `lora-wal` with `argv` (without the node and script paths).
 * @returns the exit code (see the README's table); never throws.
 * @example
 * ```ts
 * const code = await main(["verify", "./wal"], { stdout: process.stdout, stderr: process.stderr });
 * ```
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = new CommandContext(io);
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      io.stderr.write(MAIN_HELP);
      return ExitCode.USAGE;
    }
    if (command === "--help" || command === "-h" || command === "help") {
      const topic = command === "help" ? rest[0] : undefined;
      const run = topic === undefined ? undefined : COMMANDS[topic];
      if (run !== undefined) return await finish(ctx, await run(["--help"], ctx));
      ctx.out.line(MAIN_HELP.trimEnd());
      return await finish(ctx, ExitCode.OK);
    }
    if (command === "--version" || command === "-v") {
      ctx.out.line(version());
      return await finish(ctx, ExitCode.OK);
    }
    const run = COMMANDS[command];
    if (run === undefined) {
      throw unknownFirstArgument(command);
    }
    return await finish(ctx, await run(rest, ctx));
  } catch (error) {
    await ctx.out.flush().catch(() => undefined);
    const json = wantsJson(argv);
    if (error instanceof UsageError) {
      ctx.warn(error.message);
      const help = error.command === undefined ? "lora-wal --help" : `lora-wal ${error.command} --help`;
      io.stderr.write(`Run '${help}' for usage.\n`);
      return await fail(ctx, json, "WAL_INVALID_ARGUMENT", error.message, ExitCode.USAGE);
    }
    if (isWalError(error)) {
      ctx.warn(`${error.message} (${error.code})`);
      return await fail(ctx, json, error.code, error.message, exitCodeForError(error.code));
    }
    ctx.warn(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : shownError(error)}`);
    const message = error instanceof Error ? error.message : shownError(error);
    return await fail(ctx, json, null, message, ExitCode.IO);
  }
}

/**
 * Print a failure's JSON document on stdout when `--json` was asked for (stderr has the message already), and
 * return its exit code. A stdout that fails here changes nothing: the exit code says the command failed.
 */
async function fail(
  ctx: CommandContext,
  json: boolean,
  code: WalErrorCode | null,
  message: string,
  exitCode: number,
): Promise<number> {
  if (json) {
    ctx.out.line(jsonFailureLine(code, message, exitCode));
    await ctx.out.flush().catch(() => undefined);
  }
  return exitCode;
}

/** The usage error for a first argument that is neither a command nor a top-level option, with a suggestion. */
function unknownFirstArgument(arg: string): UsageError {
  if (arg.startsWith("--")) {
    return new UsageError(
      `unknown option ${arg}${didYouMean(arg.slice(2), ["help", "version"], (name) => `--${name}`)}`,
    );
  }
  if (arg.startsWith("-")) return new UsageError(`unknown option ${arg}`);
  const commands = [...Object.keys(COMMANDS), "help"];
  return new UsageError(
    `unknown command ${JSON.stringify(arg)}${didYouMean(arg, commands, (name) => JSON.stringify(name))}`,
  );
}

async function finish(ctx: CommandContext, code: number): Promise<number> {
  await ctx.out.flush();
  return code;
}
