/** Options every programmatic entry point shares: the payload codec and progress hooks. */

import {
  bytesCodec,
  checkOptionNames,
  jsonCodec,
  optionNames,
  type PayloadCodec,
  payloadCodecProblem,
  shownValue,
  WalError,
} from "@lora/wal-codec";
import { loraCodec } from "@lora/wal-codec/lora";
import type { ReplayProgress } from "@lora/wal-replay";
import { framingOnlyCodec } from "./scan/framing-codec.js";

/** The payload codecs the CLI knows by name (`--codec`). */
export type CodecName = "lora" | "json" | "bytes";

export const CODEC_NAMES: readonly CodecName[] = ["lora", "json", "bytes"];

/**
 * What `--codec` takes: a {@link CodecName}, or `"framing"`: read the framing only (records, LSNs, CRCs,
 * transaction structure) and never decode a payload, for a log whose codec the CLI does not have.
 */
export type CodecChoice = CodecName | "framing";

export const CODEC_CHOICES: readonly CodecChoice[] = [...CODEC_NAMES, "framing"];

/** What a command read payloads with, and why: every report carries one, and `onCodec` is told it. */
export interface CodecUse {
  /** The codec's name (`"lora"`, `"json"`, `"bytes"`, a `--codec-module` codec's own `name`), or `"framing"`. */
  readonly name: string;
  /** True when no payload was decoded: only the framing was checked, so payloads are neither shown nor verified. */
  readonly framingOnly: boolean;
  /**
   * - `default`: no codec was chosen and the default, `lora`, decoded the first mutation record (or the log has
   *   none);
   * - `option`: `codec` (`--codec`) named it;
   * - `module`: `payloadCodec` (`--codec-module`) gave it;
   * - `fallback`: no codec was chosen and `lora` did not decode the first mutation record, so the log was read
   *   framing only (see `fallback`). The verdict is then the framing's: never a codec mismatch, and never
   *   corruption for a payload the CLI cannot read.
   */
  readonly source: "default" | "option" | "module" | "fallback";
  /** With `source` `fallback`: the record `lora` did not decode and its error. */
  readonly fallback?: {
    readonly codec: CodecName;
    readonly segment: string;
    readonly offset: number;
    readonly lsn: number;
    readonly message: string;
  };
}

/** Options every command function takes (`inspectDir`, `verifyDir`, `dumpRecords`, `statDir`). */
export interface ReadOptions {
  /**
   * How mutation payloads are decoded. Without it (and without `payloadCodec`) the CLI reads with `lora`, unless
   * `lora` does not decode the log's first mutation record: then it reads framing only (see {@link CodecUse}).
   * @default "lora" (LoraDB's LW1 events), falling back to "framing"
   */
  readonly codec?: CodecChoice;
  /** A payload codec of your own (what `--codec-module` loads); takes the place of `codec`. */
  readonly payloadCodec?: PayloadCodec<unknown>;
  /**
   * Called once, before any record is read, with the codec the command reads with (again only when a new listing,
   * see `onTotal`, changes the choice).
   */
  readonly onCodec?: (use: CodecUse) => void;
  /**
   * Called before reading with the number of bytes the command will read (for a progress bar). Called again, with
   * the new listing's bytes, when the command starts again from a new listing of the directory: a live writer's
   * truncation removed a segment after it was listed and before it was read. What `onRead` reports after that call
   * counts against the new total (the reading starts again from the beginning); nothing of the first listing is in
   * the result. At most 3 listings in all, those made again for a segment gone before its size was read included
   * (`dumpRecords`: only while it has yielded nothing).
   */
  readonly onTotal?: (bytes: number) => void;
  /** Called after every read with its byte count. */
  readonly onRead?: (bytes: number) => void;
  /**
   * The replay's own progress, for the commands whose work is a replay (`verifyDir`): bytes and records of the
   * segments done, at most once per MiB read and once at the end. When given, such a command reports through it
   * instead of `onTotal`/`onRead`.
   */
  readonly onProgress?: (progress: ReplayProgress) => void;
}

/** Every option of {@link ReadOptions}; any other name is refused (`WAL_INVALID_OPTION`). */
export const READ_OPTION_NAMES = optionNames<ReadOptions>()(
  "codec",
  "payloadCodec",
  "onCodec",
  "onTotal",
  "onRead",
  "onProgress",
);

/**
 * Check the options every reading command shares, before anything is read. `where` (the function's name) and `known`
 * (its option names, {@link READ_OPTION_NAMES} by default) serve the refusal of an unknown name.
 * @returns The options, each read once (see `checkOptionNames`): the command uses these, never `given` again.
 * @throws {@link WalError} `WAL_INVALID_OPTION` for options that are not an object, an option name not in `known`,
 *   an unknown `codec`, a `payloadCodec` without a string `name` and the two decode methods, or a callback
 *   (`onCodec`, `onTotal`, `onRead`, `onProgress`) that is not a function.
 */
export function checkReadOptions<T extends ReadOptions>(
  given: T,
  where: string,
  known: readonly string[] = READ_OPTION_NAMES,
): T {
  const options = checkOptionNames(given, known, where);
  if (options.codec !== undefined && !CODEC_CHOICES.includes(options.codec)) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `unknown codec ${shownValue(options.codec)} (expected one of ${CODEC_CHOICES.join(", ")})`,
    );
  }
  // The CLI only decodes: a decode-only codec (what `--codec-module` accepts) is enough.
  const problem = options.payloadCodec === undefined ? undefined : payloadCodecProblem(options.payloadCodec, "read");
  if (problem !== undefined) throw new WalError("WAL_INVALID_OPTION", `payloadCodec ${problem}`);
  for (const name of ["onCodec", "onTotal", "onRead", "onProgress"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new WalError("WAL_INVALID_OPTION", `${name} must be a function`);
    }
  }
  return options;
}

/** The codec called `name` (`"framing"`: {@link framingOnlyCodec}, which decodes nothing). */
export function codecFor(name: CodecChoice = "lora"): PayloadCodec<unknown> {
  switch (name) {
    case "lora":
      return loraCodec as PayloadCodec<unknown>;
    case "json":
      return jsonCodec;
    case "bytes":
      return bytesCodec as PayloadCodec<unknown>;
    case "framing":
      return framingOnlyCodec;
    default:
      throw new WalError(
        "WAL_INVALID_OPTION",
        `unknown codec ${shownValue(name)} (expected one of ${CODEC_CHOICES.join(", ")})`,
      );
  }
}
