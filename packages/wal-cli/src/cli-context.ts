/** What every command handler gets: output streams, styling, progress, and argument parsing helpers. */

import { parseArgs } from "node:util";
import { closestName } from "@lora/wal-codec";
import { ExitCode } from "./exit-codes.js";
import {
  colourEnabled,
  createProgress,
  createStyle,
  LineWriter,
  type Style,
  type TextStream,
} from "./format/terminal.js";
import { CODEC_CHOICES, type CodecChoice, type ReadOptions } from "./read-options.js";
import type { Verdict } from "./verdict.js";

/** The process's streams and environment, injectable for tests. */
export interface CliIo {
  readonly stdout: TextStream;
  readonly stderr: TextStream;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Subscribe to the process's interruption (SIGINT, SIGTERM) for a command that runs until stopped (`follow`):
   * while subscribed, the first signal calls `listener` instead of ending the process; the returned function
   * unsubscribes. Without it (in-process callers) such a command runs until its own bounds stop it.
   */
  readonly interrupts?: (listener: () => void) => () => void;
}

/** A bad command line; `main` prints it with a hint and exits {@link ExitCode.USAGE}. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

export class CommandContext {
  readonly out: LineWriter;
  readonly stderr: TextStream;
  /** Colours for stdout. */
  readonly style: Style;
  /** Colours for stderr. */
  readonly errStyle: Style;
  /** The environment (`AWS_*` for an `s3://` archive target, `NO_COLOR`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly #io: CliIo;

  constructor(io: CliIo) {
    const env = io.env ?? process.env;
    this.env = env;
    this.#io = io;
    this.out = new LineWriter(io.stdout);
    this.stderr = io.stderr;
    this.style = createStyle(colourEnabled(io.stdout, env));
    this.errStyle = createStyle(colourEnabled(io.stderr, env));
  }

  /**
   * Call `listener` on the first SIGINT or SIGTERM instead of ending the process (see {@link CliIo.interrupts});
   * returns the unsubscribe function, which the command calls when it ends.
   */
  onInterrupt(listener: () => void): () => void {
    return this.#io.interrupts?.(listener) ?? (() => undefined);
  }

  /** A warning or error line on stderr (`lora-wal: …`). */
  warn(message: string): void {
    this.stderr.write(`${this.errStyle.bold("lora-wal:")} ${message}\n`);
  }

  /**
   * Read options with a progress bar on stderr (a TTY only, and not with `--quiet`). Call `done()` before printing
   * anything else to stderr.
   */
  readOptions(
    label: string,
    codec: Pick<ReadOptions, "codec" | "payloadCodec">,
    quiet: boolean,
  ): { readonly options: ReadOptions; done(): void } {
    const progress = createProgress(this.stderr, this.#io.stderr.isTTY === true && !quiet, label, 0);
    return {
      options: {
        ...(codec.codec === undefined ? {} : { codec: codec.codec }),
        ...(codec.payloadCodec === undefined ? {} : { payloadCodec: codec.payloadCodec }),
        // Called again when the command starts again from a new listing: the bar starts again with it.
        onTotal: (bytes) => progress.set(0, bytes),
        onRead: (bytes) => progress.add(bytes),
        onProgress: (p) => progress.set(p.bytes, p.totalBytes),
      },
      done: () => progress.done(),
    };
  }

  /** The verdict as one coloured line. */
  verdictLine(verdict: Verdict): string {
    const s = this.style;
    if (verdict.status === "clean") return s.green("clean");
    const where =
      verdict.segment === undefined
        ? ""
        : ` in ${verdict.segment}${verdict.offset === undefined ? "" : ` at offset ${verdict.offset}`}`;
    const label = verdict.status === "headerless" ? "NO HEADER" : verdict.status.toUpperCase().replace("-", " ");
    const paint = verdict.status === "torn-tail" || verdict.status === "headerless" ? s.yellow : s.red;
    return `${paint(s.bold(label))}${where}: ${verdict.message}`;
  }
}

/** The option shapes the commands use (a subset of `parseArgs`'s). */
type Options = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** `--codec`, `--codec-module`, `--json` and `--quiet`, for commands that read payloads. */
export const READ_OPTIONS = {
  codec: { type: "string", short: "c" },
  "codec-module": { type: "string" },
  quiet: { type: "boolean", short: "q" },
  json: { type: "boolean" },
} as const satisfies Options;

/** What {@link parseCommand} gives back for options `O`. */
export interface ParsedCommand<O extends Options> {
  readonly values: {
    [K in keyof O]?: O[K]["multiple"] extends true
      ? O[K]["type"] extends "string"
        ? string[]
        : boolean[]
      : O[K]["type"] extends "string"
        ? string
        : boolean;
  };
  readonly positionals: string[];
}

/**
 * `parseArgs` with usage errors instead of `TypeError`s; an unknown long option names the one it most likely meant
 * ({@link didYouMean}).
 */
export function parseCommand<O extends Options>(command: string, args: string[], options: O): ParsedCommand<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }) as ParsedCommand<O>;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(
      /\. To specify a positional argument.*$/s,
      "",
    );
    const unknown = /^Unknown option '--([^']+)'$/.exec(message)?.[1];
    const hint = unknown === undefined ? "" : didYouMean(unknown, Object.keys(options), (name) => `--${name}`);
    throw new UsageError(`${message}${hint}`, command);
  }
}

/**
 * ` (did you mean …?)` with the known name `given` most likely misspells (`closestName`, the library's rule for
 * option names), as `show` writes it; `""` when none is close.
 */
export function didYouMean(given: string, known: readonly string[], show: (name: string) => string): string {
  const near = closestName(given, known);
  return near === undefined ? "" : ` (did you mean ${show(near)}?)`;
}

/** The single `<dir>` positional. */
export function onePath(command: string, positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError("missing <dir> (a WAL directory or one segment file)", command);
  if (positionals.length > 1) throw new UsageError(`unexpected argument: ${positionals[1]}`, command);
  return positionals[0] as string;
}

/** Validate `--codec`. */
export function codecOption(command: string, value: string | undefined): CodecChoice | undefined {
  if (value === undefined) return undefined;
  if (!(CODEC_CHOICES as readonly string[]).includes(value)) {
    throw new UsageError(`--codec must be one of ${CODEC_CHOICES.join(", ")}, got ${JSON.stringify(value)}`, command);
  }
  return value as CodecChoice;
}

/** The value of an option written as decimal digits only, when it is a safe integer; else `undefined`. */
function digitsValue(value: string): number | undefined {
  return /^[0-9]+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : undefined;
}

/** Validate a non-negative integer option (LSNs). */
export function lsnOption(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const lsn = digitsValue(value);
  if (lsn === undefined) {
    throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`, command);
  }
  return lsn;
}

/** Validate a count option (`--limit`, `--count`): an integer of at least 1, one rule for every value refused. */
export function countOption(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const count = digitsValue(value);
  if (count === undefined || count < 1) {
    throw new UsageError(`--${name} must be an integer of at least 1, got ${JSON.stringify(value)}`, command);
  }
  return count;
}

export { ExitCode };
