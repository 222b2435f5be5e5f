/**
 * `lora-wal verify <dir>`: a full check through the same replay `Wal.open` runs (point-in-time mode, so damage is
 * reported rather than thrown; it is classified exactly as in the default mode), plus the errors replay throws in
 * every mode (structure, bad header, codec mismatch). The verdict is what `Wal.open` in its default mode would do:
 * exit 0 open is clean, 1 open repairs a torn tail or a headerless newest segment, 2 open fails on corruption,
 * malformed structure or a bad header, 5 open fails on a codec mismatch.
 *
 * A log whose oldest segments a checkpoint truncated is judged on what it retains: `Wal.open` needs a
 * `checkpointLsn` for it, and the report names the lowest one it accepts. A log that starts late with no checkpoint
 * marker to explain it (truncated without one, or its first segments lost) is `malformed` (`WAL_FENCE_TOO_LOW`), as
 * `Wal.open` without a fence refuses it.
 */

import { basename } from "node:path";
import { isWalError, optionNames, shownValue, WalError } from "@lora/wal-codec";
import {
  describeCorruption,
  describeHeaderless,
  describeTornTail,
  type ReplayProgress,
  replaySegments,
} from "@lora/wal-replay";
import { SegmentReader, type WalFileSystem } from "@lora/wal-segment";
import { type CommandContext, lsnOption } from "../cli-context.js";
import { formatBytes } from "../format/text-table.js";
import { nextStep } from "../next-step.js";
import { type CodecUse, checkReadOptions, READ_OPTION_NAMES, type ReadOptions } from "../read-options.js";
import { type ChosenCodec, chooseCodec, tellCodecChanges } from "../scan/choose-codec.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import { judgeListingHoles } from "../scan/segment-id-holes.js";
import { type TruncationGap, truncationGapOf } from "../scan/truncation-gap.js";
import { scanFreshListing, type WalTarget } from "../scan/wal-target.js";
import { CLEAN, codecHint, codecLine, exitCodeOf, type Verdict } from "../verdict.js";
import { CODEC_OPTIONS_HELP } from "./codec-options-help.js";
import { runReportCommand } from "./run-report.js";

/** Options of {@link verifyDir}: the read options, and the fence the log will be opened with. */
export interface VerifyOptions extends ReadOptions {
  /**
   * Judge the log as `Wal.open(dir, { checkpointLsn })` would: a fence below what the log holds or inside a
   * transaction is `malformed` (`WAL_FENCE_TOO_LOW`, `WAL_FENCE_IN_TRANSACTION`); a log that starts after LSN 1 is
   * no damage when the fence reaches it (a restore from a snapshot's fence). Without it, such a log must start at a
   * checkpoint marker it holds.
   */
  readonly checkpointLsn?: number;
}

/** Every option of {@link VerifyOptions}. */
const VERIFY_OPTION_NAMES = optionNames<VerifyOptions>()(...READ_OPTION_NAMES, "checkpointLsn");

/** What {@link verifyDir} found. */
export interface VerifyReport {
  readonly path: string;
  readonly kind: "directory" | "file";
  readonly segments: number;
  readonly bytes: number;
  /** The codec payloads were read with (`framingOnly`: none were decoded), and how it was chosen. */
  readonly codec: CodecUse;
  /** Replay's counts; `null` when replay stopped on a structure error or a bad header. */
  readonly replay: {
    readonly records: number;
    readonly maxLsn: number;
    readonly committedTransactions: number;
    readonly abortedTransactions: number;
    /** Begun but neither committed nor aborted at the end of the log (discarded on open). */
    readonly uncommittedTransactions: number;
    readonly checkpointLsnObserved: number | null;
    /** The oldest segment's base LSN minus one: above 0 when the log no longer starts at LSN 1. */
    readonly oldestFence: number;
    /**
     * The lowest `checkpointLsn` `Wal.open` accepts for this log: `oldestFence`, or the first transaction boundary
     * above it when the oldest segment starts inside a transaction (0 for a log that starts at LSN 1). A log
     * truncated at a checkpoint is no damage, but a reader must open it with a fence at least this high.
     */
    readonly lowestFence: number;
    /**
     * The newest segment's file name when it is sealed and has no successor (a crash between sealing it and creating
     * the next; `null` otherwise). No damage: `Wal.open` creates the successor (`sealedSegmentSucceeded`). LoraDB 0.15
     * refuses such a directory until then.
     */
    readonly sealedNewest: string | null;
    /**
     * Segment ids missing in the middle of a directory below its newest checkpoint marker: what a crash in the
     * middle of a checkpoint's truncation can leave (LoraDB fsyncs the directory once, after all its deletions). No
     * damage for a reader that opens the log with a fence at or above the LSN before the segment after the hole
     * (`lowestFence` is the lowest that opens it); the walk then reads the log from that segment on, as the log the
     * truncation leaves once it finishes, and the counts leave out the segments before the hole. `null` when there
     * is no such hole (`judgeSegmentIdHoles` of `@lora/wal-replay` judges it, as replay and `Wal.open` do).
     */
    readonly truncationGap: TruncationGap | null;
    /**
     * The newest checkpoint marker's snapshot LSN (`checkpointLsnObserved`) when it lies inside a transaction (a
     * marker written between a transaction's begin and its last record, naming an LSN of it), with the highest fence
     * at or below it that `Wal.open` accepts (`null` when none above what the log can serve); `null` otherwise. No
     * damage: the log opens, but `Wal.open({ checkpointLsn: snapshotLsn })` is refused with
     * `WAL_FENCE_IN_TRANSACTION`, so a snapshot taken at that marker cannot be opened with its own fence.
     */
    readonly checkpointInTransaction: { readonly snapshotLsn: number; readonly usableFence: number | null } | null;
  } | null;
  readonly verdict: Verdict;
}

/**
 * Check a WAL directory (or one segment file) read-only: every header, CRC, payload and structure rule replay
 * applies. Payloads are checked with the codec {@link ReadOptions} chooses; framing only (`codec: "framing"`, or
 * the fallback when no codec is chosen and the default does not decode the log), every rule but the payload's. A
 * segment a live writer's truncation removes between the listing and its read makes the whole check start again
 * from a new listing (see {@link ReadOptions}), so the verdict is that of one listing.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when the path is missing or unreadable, or a listed segment is
 *   gone before its stat or its read in each of 3 listings (3 in all) (damage is never thrown: it is the verdict).
 * @example
 * ```ts
 * const report = await verifyDir("./wal");
 * if (report.verdict.exitCode !== 0) console.log(report.verdict.message);
 * ```
 */
export async function verifyDir(path: string, given: VerifyOptions = {}): Promise<VerifyReport> {
  const options = checkReadOptions(given, "verifyDir", VERIFY_OPTION_NAMES);
  const fence = options.checkpointLsn;
  if (fence !== undefined && !(Number.isSafeInteger(fence) && fence >= 0)) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `checkpointLsn must be a non-negative safe integer, got ${shownValue(fence)}`,
    );
  }
  const onProgress = options.onProgress;
  // The replay's progress when asked for, else the bytes the seam reads (not both: one bar, one source).
  const fs = createReadOnlyFileSystem(onProgress === undefined ? options.onRead : undefined);
  const tell = tellCodecChanges(options);
  return scanFreshListing(fs, path, async (target) => {
    const chosen = await chooseCodec(target, tell);
    if (onProgress === undefined) options.onTotal?.(target.totalBytes);
    return verifyTarget(fs, target, chosen, onProgress, fence);
  });
}

/**
 * {@link verifyDir} of a resolved target with a chosen codec (`inspect` shares both with its own walk).
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when a segment cannot be read.
 */
export async function verifyTarget(
  fs: WalFileSystem,
  target: WalTarget,
  chosen: ChosenCodec,
  onProgress?: (progress: ReplayProgress) => void,
  checkpointLsn?: number,
): Promise<VerifyReport> {
  const base = {
    path: target.path,
    kind: target.kind,
    segments: target.segments.length,
    bytes: target.totalBytes,
    codec: chosen.use,
  };
  const notSegment = target.kind === "file" ? await headerProblem(fs, target) : undefined;
  if (notSegment !== undefined) return { ...base, replay: null, verdict: notSegment };

  const codec = chosen.codec;
  // The one judgement replay and Wal.open make. A segment removed since the listing throws, and the check starts
  // again from a new listing.
  const judged = await judgeListingHoles(target);
  const gap = truncationGapOf(judged);
  // Whatever the log retains: a checkpoint's truncation removes the oldest segments, which is no damage, and the
  // fence a reader opens it with is the reader's, not known here (the report names the lowest one that works). A
  // hole a crash left in a checkpoint's truncation is read from the segment after it, as the log that truncation
  // leaves once it finishes, and as replay and Wal.open read it: the leftovers before it are no part of the log.
  // With the reader's fence given, it is checked as Wal.open checks it (too low, or inside a transaction).
  const from = judged?.kind === "covered" ? target.segments.findIndex((s) => s.path === judged.after.path) : 0;
  const replayWith = (fence: number | undefined) =>
    replaySegments(
      target.segments.slice(from).map((s) => s.path),
      {
        codec,
        recovery: "point-in-time",
        allowTruncatedHistory: checkpointLsn === undefined,
        fs,
        // A directory's durable mark, as Wal.open looks at it; a file given alone has none.
        ...(target.kind === "directory" ? { durableMarkDir: target.path } : {}),
        ...(fence === undefined ? {} : { checkpointLsn: fence }),
        ...(onProgress === undefined ? {} : { onProgress }),
      },
    ).outcome();
  try {
    let outcome: Awaited<ReturnType<typeof replayWith>>;
    try {
      outcome = await replayWith(checkpointLsn);
    } catch (error) {
      const fenceRefused = isWalError(error, "WAL_FENCE_TOO_LOW") || isWalError(error, "WAL_FENCE_IN_TRANSACTION");
      if (checkpointLsn !== undefined && fenceRefused) {
        return { ...base, replay: null, verdict: fenceVerdict(target, checkpointLsn, error) };
      }
      throw error;
    }
    const floor = Math.max(outcome.oldestFence, gap === null ? 0 : gap.baseLsn - 1);
    const counts = {
      records: outcome.records,
      maxLsn: outcome.maxLsn,
      committedTransactions: outcome.committedTransactions,
      abortedTransactions: outcome.abortedTransactions,
      uncommittedTransactions: outcome.uncommittedTransactions,
      // The covering marker lies in what is read, but the walk may stop at damage before it: the judgement saw it.
      checkpointLsnObserved:
        gap === null ? outcome.checkpointLsnObserved : Math.max(outcome.checkpointLsnObserved ?? 0, gap.checkpointLsn),
      oldestFence: outcome.oldestFence,
      lowestFence: floor === 0 ? 0 : outcome.transactionSpans.lowestBoundaryAtOrAbove(floor),
      sealedNewest: target.kind === "directory" ? sealedNewestOf(outcome, target) : null,
      truncationGap: gap,
      checkpointInTransaction: null as { readonly snapshotLsn: number; readonly usableFence: number | null } | null,
    };
    // A marker inside a transaction is accepted by replay, but its snapshot is no fence open accepts.
    const marker = counts.checkpointLsnObserved;
    // From where the log starts: a snapshot below the lowest fence, inside a transaction that runs across the log's
    // start (truncated up to it, or to a hole), is one no fence at or below opens.
    if (marker !== null && marker >= floor && outcome.transactionSpans.isInside(marker)) {
      const usable = outcome.transactionSpans.highestBoundaryAtOrBelow(marker, counts.lowestFence);
      counts.checkpointInTransaction = { snapshotLsn: marker, usableFence: usable ?? null };
    }
    let verdict: Verdict = CLEAN;
    if (outcome.corruption !== null) {
      const c = outcome.corruption;
      const cause = isWalError(c.error.cause) ? c.error.cause : c.error;
      verdict = {
        status: "corruption",
        exitCode: exitCodeOf("corruption"),
        segment: basename(c.segmentPath),
        segmentPath: c.segmentPath,
        offset: c.offset,
        ...(cause.details.lsn === undefined ? {} : { lsn: cause.details.lsn }),
        code: cause.code,
        message: describeCorruption(c.error),
      };
    } else if (outcome.tornTail !== null) {
      const t = outcome.tornTail;
      verdict = {
        status: "torn-tail",
        exitCode: exitCodeOf("torn-tail"),
        segment: basename(t.segmentPath),
        segmentPath: t.segmentPath,
        offset: t.offset,
        code: t.cause.code,
        message: describeTornTail(t.cause, t.droppedBytes),
      };
    } else if (outcome.headerlessLastSegment !== null) {
      const h = outcome.headerlessLastSegment;
      verdict = {
        status: "headerless",
        exitCode: exitCodeOf("headerless"),
        segment: basename(h.path),
        segmentPath: h.path,
        offset: 0,
        code: "WAL_BAD_HEADER",
        message: describeHeaderless(h.fileSize),
      };
    }
    // A fence given was accepted by the walk; without one, the start must be explained by a checkpoint marker.
    if (verdict.exitCode < 2 && target.kind === "directory" && checkpointLsn === undefined && !startExplained(counts)) {
      verdict = unexplainedStartVerdict(target, counts.oldestFence, counts.lowestFence);
    }
    return { ...base, replay: counts, verdict };
  } catch (error) {
    if (isWalError(error, "WAL_CODEC_MISMATCH")) {
      return { ...base, replay: null, verdict: codecMismatchVerdict(target, error, chosen.use) };
    }
    if (isWalError(error, "WAL_MALFORMED") || isWalError(error, "WAL_BAD_HEADER")) {
      return { ...base, replay: null, verdict: await structureVerdict(fs, target, error, chosen) };
    }
    throw error;
  }
}

/** The verdict for the `WAL_CODEC_MISMATCH` replay threw (in every mode): the log is intact, the codec is wrong. */
function codecMismatchVerdict(target: WalTarget, error: WalError, use: CodecUse): Verdict {
  const segmentPath = error.details.segment ?? error.details.path;
  const known = target.segments.find((s) => s.path === segmentPath);
  return {
    status: "codec-mismatch",
    exitCode: exitCodeOf("codec-mismatch"),
    ...(segmentPath === undefined ? {} : { segment: known?.name ?? basename(segmentPath), segmentPath }),
    ...(error.details.offset === undefined ? {} : { offset: error.details.offset }),
    ...(error.details.lsn === undefined ? {} : { lsn: error.details.lsn }),
    code: error.code,
    message: error.message + codecHint(use.name, use.source),
  };
}

/** A single file whose header does not parse is "not a segment", even when it is short (no headerless leniency). */
async function headerProblem(fs: WalFileSystem, target: WalTarget): Promise<Verdict | undefined> {
  const segment = target.segments[0];
  if (segment === undefined) return undefined;
  try {
    const reader = await SegmentReader.open(fs, segment.path);
    await reader.close();
    return undefined;
  } catch (error) {
    if (!isWalError(error, "WAL_BAD_HEADER")) throw error;
    return {
      status: "bad-header",
      exitCode: exitCodeOf("bad-header"),
      segment: segment.name,
      segmentPath: segment.path,
      offset: 0,
      code: error.code,
      message: `not a WAL segment: ${error.message}`,
    };
  }
}

/** Turn a thrown structure error into a verdict, finding the offset of the record it names. */
async function structureVerdict(
  fs: WalFileSystem,
  target: WalTarget,
  error: WalError,
  chosen: ChosenCodec,
): Promise<Verdict> {
  const segmentPath = error.details.segment ?? error.details.path;
  const lsn = error.details.lsn;
  let offset = 0;
  if (segmentPath !== undefined && lsn !== undefined && error.code === "WAL_MALFORMED") {
    offset = (await offsetOfLsn(fs, segmentPath, lsn, chosen)) ?? 0;
  }
  const status = error.code === "WAL_BAD_HEADER" ? "bad-header" : "malformed";
  const known = target.segments.find((s) => s.path === segmentPath);
  return {
    status,
    exitCode: exitCodeOf(status),
    ...(segmentPath === undefined ? {} : { segment: known?.name ?? basename(segmentPath), segmentPath }),
    offset,
    ...(lsn === undefined ? {} : { lsn }),
    code: error.code,
    message: error.message,
  };
}

async function offsetOfLsn(
  fs: WalFileSystem,
  path: string,
  lsn: number,
  chosen: ChosenCodec,
): Promise<number | undefined> {
  const reader = await SegmentReader.open(fs, path);
  try {
    for (;;) {
      const step = await reader.next(chosen.codec);
      if (step.kind !== "record") return undefined;
      if (step.record.lsn === lsn) return step.offset;
    }
  } finally {
    await reader.close();
  }
}

export const VERIFY_HELP = `Usage: lora-wal verify <dir> [options]

A full check of a WAL directory (or one segment file): every segment header,
every record's length, CRC and payload, and the log's structure (LSN order,
transaction bracketing, segment base LSNs), exactly as opening the log would.
Prints the first bad segment and offset. A log truncated at a checkpoint is checked
from its oldest segment on; the report names the lowest checkpointLsn that opens
it. Read-only: takes no lock, writes nothing.

A segment a live writer truncates after the listing and before its read makes
it start again from a new listing (3 listings at most, then exit 4).

Options:
${CODEC_OPTIONS_HELP}
      --checkpoint-lsn <lsn>
                      the fence the log is opened with (Wal.open's
                      checkpointLsn): judge it as that open would, e.g. a log
                      restored with --from-lsn <lsn>
      --json          print the report as one JSON document
  -q, --quiet         no progress bar
  -h, --help          show this help

Exit status: 0 clean, 1 the only damage is one opening the log repairs (a torn
tail, which it cuts, or a newest segment without a header, which it removes),
2 corruption, malformed structure or a bad header, 3 usage error (also a
--codec-module that does not load or exports no codec), 4 path missing or
unreadable, 5 codec mismatch (the records are intact but do not decode with the
--codec or --codec-module given: run again with the codec the log was written
with).
`;

/** `lora-wal verify`. */
export function runVerify(args: string[], ctx: CommandContext): Promise<number> {
  return runReportCommand(
    {
      name: "verify",
      help: VERIFY_HELP,
      compute: verifyDir,
      noSegments: (r) => r.kind === "directory" && r.segments === 0,
      printText: printVerify,
      own: {
        options: { "checkpoint-lsn": { type: "string" } },
        read: (values) => {
          const fence = lsnOption("verify", "checkpoint-lsn", values["checkpoint-lsn"] as string | undefined);
          return fence === undefined ? {} : { checkpointLsn: fence };
        },
      },
    },
    args,
    ctx,
  );
}

function printVerify(report: VerifyReport, ctx: CommandContext, place: { readonly archive: boolean }): void {
  const s = ctx.style;
  const what =
    report.kind === "directory" ? `${report.segments} segment${report.segments === 1 ? "" : "s"}` : "1 segment file";
  ctx.out.line(`${s.bold("checked")}       ${report.path}: ${what}, ${formatBytes(report.bytes)}`);
  if (report.kind === "directory" && report.segments === 0 && !place.archive)
    ctx.out.line(`${s.bold("note")}          ${NO_SEGMENTS_NOTE}`);
  ctx.out.line(`${s.bold("codec")}         ${codecLine(report.codec)}`);
  if (report.replay !== null) {
    const r = report.replay;
    ctx.out.line(`${s.bold("records")}       ${r.records}, max LSN ${r.maxLsn}`);
    ctx.out.line(
      `${s.bold("transactions")}  ${r.committedTransactions} committed, ${r.abortedTransactions} aborted, ${r.uncommittedTransactions} unfinished`,
    );
    if (r.checkpointLsnObserved !== null)
      ctx.out.line(`${s.bold("checkpoint")}    snapshot LSN ${r.checkpointLsnObserved}`);
    if (r.checkpointInTransaction !== null)
      ctx.out.line(`${s.bold("note")}          ${checkpointInTransactionLine(r.checkpointInTransaction)}`);
    const history = historyLine(report.kind, r);
    if (history !== undefined) ctx.out.line(`${s.bold("history")}       ${history}`);
    if (r.sealedNewest !== null) ctx.out.line(`${s.bold("newest")}        ${sealedNewestLine(r.sealedNewest)}`);
  }
  ctx.out.line(`${s.bold("result")}        ${ctx.verdictLine(report.verdict)}`);
  const next = nextStep(report.verdict);
  if (next !== null) ctx.out.line(`${s.bold("next")}          ${next}`);
}

/**
 * Whether what the log lacks at its start is explained: nothing (it starts at LSN 1), or a checkpoint marker whose
 * snapshot covers it (a checkpoint's truncation keeps every segment holding a record above the snapshot). A log
 * that starts later with no such marker was truncated without one or lost its first segments: `Wal.open` refuses it
 * without a fence, and nothing here tells which.
 */
function startExplained(r: { readonly oldestFence: number; readonly checkpointLsnObserved: number | null }): boolean {
  // Read with fence 0, every marker is above the fence: the observed snapshot is the newest of them all.
  return r.oldestFence === 0 || (r.checkpointLsnObserved !== null && r.checkpointLsnObserved >= r.oldestFence);
}

/** The verdict for a fence `Wal.open(dir, { checkpointLsn })` refuses (too low, or inside a transaction). */
function fenceVerdict(target: WalTarget, checkpointLsn: number, error: WalError): Verdict {
  const first = target.segments[0];
  const usable = error.details.usableFence;
  return {
    status: "malformed",
    exitCode: exitCodeOf("malformed"),
    ...(first === undefined ? {} : { segment: first.name, segmentPath: first.path }),
    offset: 0,
    code: error.code,
    message: `Wal.open refuses checkpointLsn ${checkpointLsn}: ${error.message}${usable === undefined ? "" : ` (a fence that works: ${usable})`}`,
  };
}

function unexplainedStartVerdict(target: WalTarget, oldestFence: number, lowestFence: number): Verdict {
  const first = target.segments[0];
  return {
    status: "malformed",
    exitCode: exitCodeOf("malformed"),
    ...(first === undefined ? {} : { segment: first.name, segmentPath: first.path }),
    offset: 0,
    code: "WAL_FENCE_TOO_LOW",
    message: `the log starts after LSN ${oldestFence} and no checkpoint marker covers the records before it (truncated without one, or its first segments lost); Wal.open refuses it without a checkpointLsn of at least ${lowestFence}`,
  };
}

/**
 * The `history` line of a directory whose start a checkpoint truncated, or with holes a checkpoint's interrupted
 * truncation left (an unexplained start is the verdict's, or comes after worse damage); `undefined` for any other.
 */
export function historyLine(
  kind: "directory" | "file",
  r: {
    readonly oldestFence: number;
    readonly lowestFence: number;
    readonly checkpointLsnObserved: number | null;
    readonly truncationGap: TruncationGap | null;
  },
): string | undefined {
  if (kind !== "directory") return undefined;
  const parts: string[] = [];
  if (r.oldestFence !== 0 && startExplained(r)) {
    parts.push(`starts after LSN ${r.oldestFence} (older segments truncated at a checkpoint)`);
  }
  const gap = r.truncationGap;
  if (gap !== null) {
    parts.push(
      `${gap.missing} missing below the checkpoint at LSN ${gap.checkpointLsn} (a truncation a crash interrupted; the next truncation removes the rest)`,
    );
  }
  if (parts.length === 0) return undefined;
  return `${parts.join("; ")}: open it with a checkpointLsn of at least ${r.lowestFence}`;
}

/**
 * The newest segment by file name when it is sealed, the walk reached it without damage, and nothing follows it
 * (no headerless segment after it); `null` otherwise.
 */
function sealedNewestOf(
  outcome: {
    readonly segments: readonly { readonly path: string; readonly sealed: boolean }[];
    readonly corruption: unknown;
  },
  target: WalTarget,
): string | null {
  const last = outcome.segments.at(-1);
  const newest = target.segments.at(-1);
  if (last === undefined || newest === undefined || outcome.corruption !== null) return null;
  return last.sealed && last.path === newest.path ? basename(last.path) : null;
}

/**
 * The note `verify` and `inspect` print for a directory without segment files. Its verdict is clean, as `Wal.open`
 * would start a new log there; the note is for the likelier case on the command line, a path one level off (the
 * application's data directory rather than its log subdirectory), which a bare "clean" would hide.
 */
export const NO_SEGMENTS_NOTE =
  "no segment files (*.wal) here: an empty log, where Wal.open would start a new one; if a log should be here, check the path (is it in a subdirectory?)";

/** What a sealed newest segment means for opening the log. */
export function sealedNewestLine(segment: string): string {
  return `${segment} is sealed and has no successor (a crash between sealing it and creating the next): Wal.open creates the next segment; LoraDB 0.15 refuses the directory until then`;
}

/**
 * The note for a newest checkpoint marker whose snapshot lies inside a transaction: no damage (the log opens, and the
 * verdict stays clean), but that snapshot's fence cannot be used.
 */
export function checkpointInTransactionLine(c: {
  readonly snapshotLsn: number;
  readonly usableFence: number | null;
}): string {
  const usable =
    c.usableFence === null
      ? "no fence at or below it opens the log"
      : `the highest fence at or below it that opens the log is ${c.usableFence}`;
  return `the checkpoint marker's snapshot LSN ${c.snapshotLsn} lies inside a transaction: the log opens, but Wal.open({ checkpointLsn: ${c.snapshotLsn} }) is refused (WAL_FENCE_IN_TRANSACTION), so a snapshot taken at that marker cannot be opened with its own fence; ${usable}`;
}
