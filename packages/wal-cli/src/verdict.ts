/** The one-line judgement every command reports, and how damage found by a walk maps onto it. */

import type { WalErrorCode } from "@lora/wal-codec";
import { ExitCode } from "./exit-codes.js";
import { CODEC_NAMES, type CodecUse } from "./read-options.js";
import type { SegmentScan } from "./scan/scan-segments.js";

/** The state of a log, worst first found. */
export interface Verdict {
  /**
   * - `clean`: nothing wrong;
   * - `torn-tail`: the only damage is at the end of the newest, unsealed segment, and opening the log cuts it off;
   * - `headerless`: the newest segment has no header (shorter than one, or all zeros) and holds no records;
   *   opening the log removes it (and creates it again unless appends resume in the unsealed segment before it);
   * - `corruption`: damage opening the log refuses (`WAL_CORRUPT`): mid-log, in a sealed segment, followed by
   *   valid data, or a CRC-valid record that cannot be used;
   * - `codec-mismatch`: the records are intact but the first mutation record does not decode with the codec
   *   (`WAL_CODEC_MISMATCH`): the log was written with another one;
   * - `malformed`: every record is intact but the structure breaks a rule (LSN order, transaction bracketing,
   *   segment base LSNs);
   * - `bad-header`: a segment header is unreadable (or the file is not a segment at all).
   */
  readonly status: "clean" | "torn-tail" | "headerless" | "corruption" | "codec-mismatch" | "malformed" | "bad-header";
  /** 0, 1, 2 or 5: see {@link ExitCode}. */
  readonly exitCode: 0 | 1 | 2 | 5;
  /** File name of the first bad segment. */
  readonly segment?: string;
  /** Its path. */
  readonly segmentPath?: string;
  /** Where the damage starts in it (0 for a header). */
  readonly offset?: number;
  /** The LSN involved, when known. */
  readonly lsn?: number;
  /**
   * The most specific error code (e.g. `WAL_CRC_MISMATCH`, `WAL_TORN_TAIL`, `WAL_MALFORMED`,
   * `WAL_CODEC_MISMATCH`).
   */
  readonly code?: WalErrorCode;
  readonly message: string;
}

export const CLEAN: Verdict = { status: "clean", exitCode: ExitCode.OK, message: "no damage found" };

/** Exit code of a verdict status. */
export function exitCodeOf(status: Verdict["status"]): 0 | 1 | 2 | 5 {
  switch (status) {
    case "clean":
      return ExitCode.OK;
    case "torn-tail":
    case "headerless":
      return ExitCode.TORN_TAIL;
    case "codec-mismatch":
      return ExitCode.CODEC_MISMATCH;
    default:
      return ExitCode.DAMAGED;
  }
}

/**
 * The advice for a codec mismatch: the codec it was read with (a `--codec` name, or a `--codec-module` codec's name)
 * and what to try instead. `framing: false` leaves out `--codec framing`, for a command that refuses it (`follow`
 * prints events): advice to run it with an option it refuses would send the user from one error to the next.
 */
export function codecAdvice(
  codec = "lora",
  source?: CodecUse["source"],
  { framing = true }: { readonly framing?: boolean } = {},
): string {
  const read = source === "module" ? `read with the --codec-module codec "${codec}"` : `read with --codec ${codec}`;
  const others = CODEC_NAMES.filter((c) => c !== codec).map((c) => `--codec ${c}`);
  if (!framing) return `${read}; try ${others.join(" or ")}, or your own codec with --codec-module <file>`;
  return `${read}; try ${others.join(" or ")}, your own codec with --codec-module <file>, or --codec framing to check the framing only`;
}

/** What to add to a codec mismatch's message: {@link codecAdvice} as an aside, ` (<advice>)`. */
export function codecHint(codec = "lora", source?: CodecUse["source"]): string {
  return ` (${codecAdvice(codec, source)})`;
}

/**
 * The verdict of a segment walk: its first damage, which the walk classifies as replay does (a torn tail can only
 * be the last). `codec` is the codec the walk read with, named in a codec mismatch's message.
 */
export function verdictFromScans(scans: readonly SegmentScan[], codec?: CodecUse): Verdict {
  for (const scan of scans) {
    const damage = scan.damage;
    if (damage === null) continue;
    const status: Verdict["status"] = damage.kind;
    return {
      status,
      exitCode: exitCodeOf(status),
      segment: scan.name,
      segmentPath: scan.path,
      offset: damage.offset,
      ...(damage.lsn === undefined ? {} : { lsn: damage.lsn }),
      code: damage.code,
      message: status === "codec-mismatch" ? damage.message + codecHint(codec?.name, codec?.source) : damage.message,
    };
  }
  return CLEAN;
}

/** The codec a command read with, as the one line its text output prints (`codec  …`). */
export function codecLine(use: CodecUse): string {
  switch (use.source) {
    case "default":
      return `${use.name} (the default)`;
    case "module":
      return `"${use.name}" (--codec-module)`;
    case "option":
      return use.framingOnly ? "framing only (--codec framing): payloads not decoded" : `${use.name} (--codec)`;
    case "fallback": {
      const f = use.fallback;
      const why =
        f === undefined
          ? "the default codec did not decode the first mutation record"
          : `${f.codec} (the default) did not decode the first mutation record, LSN ${f.lsn} in ${f.segment} at offset ${f.offset}: ${f.message}`;
      return `framing only: ${why}; payloads not decoded (name the codec with --codec or --codec-module)`;
    }
  }
}
