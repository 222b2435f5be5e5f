/**
 * `lora-wal inspect <dir>`: one line per segment (id, base LSN, sealed, bytes, records, LSN range, damage), whether
 * the directory lock is held right now, and the verdict `verify` would give.
 */

import { join } from "node:path";
import { isWalError } from "@lora/wal-codec";
import { LOCK_FILE_NAME, probeDirLock } from "@lora/wal-lock";
import type { WalFileSystem } from "@lora/wal-segment";
import type { CommandContext } from "../cli-context.js";
import { formatBytes, formatTable } from "../format/text-table.js";
import { nextStep } from "../next-step.js";
import { type CodecUse, checkReadOptions, type ReadOptions } from "../read-options.js";
import { chooseCodec, tellCodecChanges } from "../scan/choose-codec.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import { type SegmentDamage, scanTarget } from "../scan/scan-segments.js";
import { scanFreshListing, type WalTarget } from "../scan/wal-target.js";
import { codecLine, type Verdict } from "../verdict.js";
import { CODEC_OPTIONS_HELP } from "./codec-options-help.js";
import { runReportCommand } from "./run-report.js";
import {
  checkpointInTransactionLine,
  historyLine,
  NO_SEGMENTS_NOTE,
  sealedNewestLine,
  type VerifyReport,
  verifyTarget,
} from "./verify.js";

/** One segment as `inspect` shows it. */
export interface SegmentReport {
  readonly id: number | undefined;
  readonly name: string;
  readonly path: string;
  /** `null` when the header is unreadable. */
  readonly baseLsn: number | null;
  readonly sealed: boolean | null;
  readonly bytes: number;
  readonly records: number;
  readonly firstLsn: number | null;
  readonly lastLsn: number | null;
  /** The end of the last good record. */
  readonly endOffset: number;
  readonly damage: SegmentDamage | null;
}

/**
 * A `*.broken` file beside the segments: bytes an earlier open of the log took out of it and kept (a torn tail it
 * cut, `<segment>.<offset>.broken`; a segment a `point-in-time` open moved aside, `<segment>.broken`). Not part of
 * the log: no reader looks at it.
 */
export interface BrokenFile {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
}

/**
 * The directory lock right now: `held` (a writer, LoraDB or `@lora/wal`, has the log open), `free`, `missing` (no
 * lock file: never opened by a writer), `invalid` (`.lora-wal.lock` exists but is not a regular file, e.g. a
 * directory: no writer can lock it, so opening the log fails), `not-applicable` (a single file was given),
 * `unknown` (the probe failed or gave an answer this version does not know).
 */
export type LockState = "free" | "held" | "missing" | "invalid" | "not-applicable" | "unknown";

/** What {@link inspectDir} found. */
export interface InspectReport {
  readonly path: string;
  readonly kind: "directory" | "file";
  readonly lock: LockState;
  /** Why the lock state is `unknown`. */
  readonly lockError?: string;
  readonly bytes: number;
  /** The codec payloads were read with (`framingOnly`: none were decoded), and how it was chosen. */
  readonly codec: CodecUse;
  readonly segments: readonly SegmentReport[];
  /** The `.broken` files in the directory, by name (none for a single file). */
  readonly broken: readonly BrokenFile[];
  /**
   * The counts of {@link verifyDir}'s replay (`oldestFence`, `lowestFence`, `sealedNewest` among them); `null` when
   * replay stopped on a structure error or a bad header.
   */
  readonly replay: VerifyReport["replay"];
  /** The same verdict as {@link verifyDir}. */
  readonly verdict: Verdict;
}

/**
 * Describe a WAL directory (or one segment file) segment by segment, read-only. Every segment is read on its own,
 * so damage in one does not hide the others. A segment a live writer's truncation removes between the listing and
 * its read makes the whole description start again from a new listing (see {@link ReadOptions}), so the report
 * describes one listing.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when the path is missing or unreadable, or a listed segment is
 *   gone before its stat or its read in each of 3 listings (3 in all).
 * @example
 * ```ts
 * const report = await inspectDir("./wal");
 * for (const s of report.segments) console.log(s.name, s.records, s.damage?.kind ?? "ok");
 * ```
 */
export async function inspectDir(path: string, given: ReadOptions = {}): Promise<InspectReport> {
  const options = checkReadOptions(given, "inspectDir");
  const fs = createReadOnlyFileSystem(options.onRead);
  const tell = tellCodecChanges(options);
  return scanFreshListing(fs, path, (target) => inspectTarget(fs, target, tell));
}

/** {@link inspectDir} of one listing. */
async function inspectTarget(fs: WalFileSystem, target: WalTarget, options: ReadOptions): Promise<InspectReport> {
  const path = target.path;
  const { lock, lockError } =
    target.kind === "directory" ? await lockState(fs, path) : { lock: "not-applicable" as const, lockError: undefined };
  const chosen = await chooseCodec(target, options);
  options.onTotal?.(target.totalBytes);
  const segments: SegmentReport[] = [];
  for await (const event of scanTarget(target, { codec: chosen.codec, fs })) {
    if (event.type !== "segment") continue;
    const s = event.scan;
    segments.push({
      id: s.id,
      name: s.name,
      path: s.path,
      baseLsn: s.header?.baseLsn ?? null,
      sealed: s.header?.sealed ?? null,
      bytes: s.fileSize,
      records: s.records,
      firstLsn: s.firstLsn ?? null,
      lastLsn: s.lastLsn ?? null,
      endOffset: s.endOffset,
      damage: s.damage,
    });
  }
  const { verdict, replay } = await verifyTarget(fs, target, chosen);
  const broken = target.kind === "directory" ? await brokenFiles(fs, path) : [];
  return {
    path,
    kind: target.kind,
    lock,
    ...(lockError === undefined ? {} : { lockError }),
    bytes: segments.reduce((n, s) => n + s.bytes, 0),
    codec: chosen.use,
    segments,
    broken,
    replay,
    verdict,
  };
}

/** The `.broken` files of `dir`, by name; one removed between the listing and its stat is left out. */
async function brokenFiles(fs: WalFileSystem, dir: string): Promise<BrokenFile[]> {
  const out: BrokenFile[] = [];
  for (const name of (await fs.readdir(dir)).filter((n) => n.endsWith(".broken")).sort()) {
    const path = join(dir, name);
    const stat = await fs.stat(path);
    if (stat?.isFile) out.push({ name, path, bytes: stat.size });
  }
  return out;
}

/**
 * The lock line's state. Never "free" unless the probe said so of a regular lock file: a lock path that is not a
 * regular file is `invalid` before any probe, and an answer the probe may give that this version does not know
 * (such as `"invalid"`), or a probe that throws, is reported as such rather than taken for free.
 */
async function lockState(fs: WalFileSystem, dir: string): Promise<{ lock: LockState; lockError: string | undefined }> {
  const path = join(dir, LOCK_FILE_NAME);
  try {
    const stat = await fs.stat(path);
    if (stat !== null && !stat.isFile) {
      const what = stat.isDirectory ? "a directory" : "not a regular file";
      return { lock: "invalid", lockError: `${path} is ${what}` };
    }
    const answer: string = await probeDirLock(dir);
    switch (answer) {
      case "free":
      case "held":
      case "missing":
        return { lock: answer, lockError: undefined };
      case "invalid":
        return { lock: "invalid", lockError: `${path} cannot be locked` };
      default:
        return { lock: "unknown", lockError: `the lock probe answered ${JSON.stringify(answer)}` };
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { lock: "unknown", lockError: isWalError(error) ? `${message} (${error.code})` : message };
  }
}

export const INSPECT_HELP = `Usage: lora-wal inspect <dir> [options]

One line per segment (id, base LSN, sealed, bytes, records, LSN range, damage),
whether the directory lock is held right now, and the verdict of 'verify'.
<dir> may also be a single segment file. Read-only: takes no lock, writes nothing.

A segment a live writer truncates after the listing and before its read makes
it start again from a new listing (3 listings at most, then exit 4).

Options:
${CODEC_OPTIONS_HELP}
      --json          print the report as one JSON document
  -q, --quiet         no progress bar
  -h, --help          show this help

Exit status: 0 clean, 1 torn tail only (or a newest segment without a header),
2 corruption / malformed / bad header, 3 usage error (also a --codec-module
that does not load or exports no codec), 4 path missing or unreadable, 5 codec
mismatch with the --codec or --codec-module given (run again with the codec
the log was written with).
`;

const LOCK_TEXT: Record<LockState, string> = {
  free: "free (no writer has the log open)",
  held: "HELD (a writer has the log open right now; a record being written may show as a torn tail)",
  missing: "no lock file (no writer has opened this directory)",
  invalid: "INVALID (the lock file cannot be locked: opening the log fails until it is fixed)",
  "not-applicable": "n/a (a single segment file)",
  unknown: "unknown",
};

function statusText(r: SegmentReport): string {
  const damage = r.damage;
  // A preallocating writer's zeros after the records (a live or killed writer's active segment): the end, not damage.
  if (damage === null) return r.endOffset < r.bytes ? `ok, zeros after ${r.endOffset}` : "ok";
  switch (damage.kind) {
    case "torn-tail":
      return `torn tail at offset ${damage.offset} (${damage.bytesAfter} bytes, ${damage.code})`;
    case "corruption":
      return `CORRUPT at offset ${damage.offset} (${damage.code})`;
    case "bad-header":
      return "BAD HEADER (WAL_BAD_HEADER)";
    case "codec-mismatch":
      return `CODEC MISMATCH at offset ${damage.offset} (${damage.code})`;
    case "headerless":
      return `no header (${damage.bytesAfter} bytes; removed on open)`;
  }
}

/** `lora-wal inspect`. */
export function runInspect(args: string[], ctx: CommandContext): Promise<number> {
  return runReportCommand(
    {
      name: "inspect",
      help: INSPECT_HELP,
      compute: inspectDir,
      printText: printInspect,
      noSegments: (r) => r.kind === "directory" && r.segments.length === 0,
    },
    args,
    ctx,
  );
}

function printInspect(report: InspectReport, ctx: CommandContext, place: { readonly archive: boolean }): void {
  const s = ctx.style;
  const range = (r: SegmentReport) =>
    r.firstLsn === null ? "-" : r.firstLsn === r.lastLsn ? `${r.firstLsn}` : `${r.firstLsn}..${r.lastLsn}`;
  ctx.out.line(`${s.bold(report.kind === "directory" ? "directory" : "segment file")}  ${report.path}`);
  const lock = LOCK_TEXT[report.lock] + (report.lockError === undefined ? "" : ` (${report.lockError})`);
  const paint = report.lock === "held" ? s.yellow : report.lock === "invalid" ? s.red : (t: string) => t;
  ctx.out.line(`${s.bold("lock")}       ${paint(lock)}`);
  ctx.out.line(`${s.bold("codec")}      ${codecLine(report.codec)}`);
  ctx.out.line(
    `${s.bold("segments")}   ${report.segments.length}, ${formatBytes(report.bytes)} (${report.bytes} bytes)`,
  );
  if (report.kind === "directory" && report.segments.length === 0 && !place.archive)
    ctx.out.line(`${s.bold("note")}       ${NO_SEGMENTS_NOTE}`);
  if (report.segments.length > 0) {
    ctx.out.line("");
    const table = formatTable(
      [
        { header: "SEGMENT" },
        { header: "BASE LSN", align: "right" },
        { header: "SEALED" },
        { header: "BYTES", align: "right" },
        { header: "RECORDS", align: "right" },
        { header: "LSN RANGE" },
        {
          header: "STATUS",
          paint: (padded, raw) =>
            raw === "ok" || raw.startsWith("ok,")
              ? s.green(padded)
              : raw.startsWith("torn") || raw.startsWith("no header")
                ? s.yellow(padded)
                : s.red(padded),
        },
      ],
      report.segments.map((r) => [
        r.name,
        r.baseLsn === null ? "?" : String(r.baseLsn),
        r.sealed === null ? "?" : r.sealed ? "yes" : "no",
        String(r.bytes),
        String(r.records),
        range(r),
        statusText(r),
      ]),
    );
    for (const line of table) ctx.out.line(line);
    ctx.out.line("");
  }
  const r = report.replay;
  const history = r === null ? undefined : historyLine(report.kind, r);
  if (history !== undefined) ctx.out.line(`${s.bold("history")}    ${history}`);
  if (r !== null && r.sealedNewest !== null)
    ctx.out.line(`${s.bold("newest")}     ${sealedNewestLine(r.sealedNewest)}`);
  if (r !== null && r.checkpointInTransaction !== null)
    ctx.out.line(`${s.bold("note")}       ${checkpointInTransactionLine(r.checkpointInTransaction)}`);
  if (report.broken.length > 0) {
    const files = report.broken.length === 1 ? "1 file" : `${report.broken.length} files`;
    ctx.out.line(
      `${s.bold("broken")}     ${s.yellow(files)} an earlier open took out of the log and kept (a torn tail it cut, or segments point-in-time recovery moved aside); not part of the log: look at them, then remove them`,
    );
    const table = formatTable(
      [{ header: "" }, { header: "", align: "right" }],
      report.broken.map((b) => [b.name, `${formatBytes(b.bytes)} (${b.bytes} bytes)`]),
    );
    for (const line of table.slice(1)) ctx.out.line(`           ${line}`);
  }
  ctx.out.line(`${s.bold("verdict")}    ${ctx.verdictLine(report.verdict)}`);
  const next = nextStep(report.verdict);
  if (next !== null) ctx.out.line(`${s.bold("next")}       ${next}`);
}
