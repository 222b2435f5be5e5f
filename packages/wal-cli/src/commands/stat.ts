/**
 * `lora-wal stat <dir>`: counts and sizes — records and bytes per kind, transaction sizes (events and bytes: min,
 * median, max), checkpoint markers, segments.
 */

import type { RecordKind } from "@lora/wal-codec";
import { missingIds, type SegmentIdHoleJudgement } from "@lora/wal-replay";
import type { WalFileSystem } from "@lora/wal-segment";
import type { CommandContext } from "../cli-context.js";
import { formatBytes, formatTable } from "../format/text-table.js";
import { nextStep } from "../next-step.js";
import { type CodecUse, checkReadOptions, type ReadOptions } from "../read-options.js";
import { chooseCodec, tellCodecChanges } from "../scan/choose-codec.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import { type SegmentScan, scanTarget } from "../scan/scan-segments.js";
import { coveredHoleNote, judgeListingHoles, lostSegmentsText } from "../scan/segment-id-holes.js";
import { scanFreshListing, type WalTarget } from "../scan/wal-target.js";
import { codecLine, exitCodeOf, type Verdict, verdictFromScans } from "../verdict.js";
import { CODEC_OPTIONS_HELP } from "./codec-options-help.js";
import { RECORD_KINDS } from "./dump.js";
import { runReportCommand } from "./run-report.js";

/** min / median / max of a distribution (the lower median for an even count); all 0 when it is empty. */
export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** What {@link statDir} counted. */
export interface StatReport {
  readonly path: string;
  readonly kind: "directory" | "file";
  /** The codec payloads were read with (`framingOnly`: none were decoded), and how it was chosen. */
  readonly codec: CodecUse;
  readonly segments: { readonly count: number; readonly sealed: number; readonly bytes: number };
  readonly records: number;
  /** Bytes of valid records (framing included); the rest of the files is headers and damage. */
  readonly recordBytes: number;
  readonly firstLsn: number | null;
  readonly lastLsn: number | null;
  readonly byKind: Readonly<Record<RecordKind, { readonly records: number; readonly bytes: number }>>;
  /** Decoded events in mutation records; `null` framing only (a batch's event count is in its payload). */
  readonly events: number | null;
  readonly transactions: {
    readonly committed: number;
    readonly aborted: number;
    /** Begun but not finished when the log ends (a live writer, or work a crash discarded). */
    readonly unfinished: number;
    /** Over committed and aborted transactions: events per transaction; `null` framing only. */
    readonly events: Spread | null;
    /** Over committed and aborted transactions: record bytes per transaction, begin to commit inclusive. */
    readonly bytes: Spread;
  };
  readonly checkpoints: {
    readonly count: number;
    /** The newest marker: its own LSN and the snapshot LSN it records. */
    readonly latest: { readonly lsn: number; readonly snapshotLsn: number } | null;
  };
  /**
   * The segment ids missing in the middle of a directory, judged as `verify` judges them (`judgeSegmentIdHoles`):
   * `covered` by a checkpoint marker after them (a truncation a crash interrupted, no damage; `checkpointLsn` its
   * snapshot) or `lost` (corruption; `checkpointLsn` null), with every id missing (`segment 3`, `segments 2..4, 7`)
   * and what the text says of them. Here whatever the verdict, which damage met reading records may outrank; `null`
   * when the ids follow each other (and for a single file).
   */
  readonly segmentIdHoles: {
    readonly status: "covered" | "lost";
    readonly missing: string;
    readonly checkpointLsn: number | null;
    readonly message: string;
  } | null;
  /**
   * From damage met while reading (structure is `verify`'s job), and from segment ids missing in the middle of a
   * directory, judged as `verify` judges them: lost segments no checkpoint marker after them covers are corruption
   * (`WAL_CORRUPT`, at the end of the segment before the first hole) unless the walk met damage that exits 2 or
   * above; a hole such a marker covers is no damage.
   */
  readonly verdict: Verdict;
}

function spread(values: number[]): Spread {
  if (values.length === 0) return { min: 0, median: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  return {
    min: sorted[0] ?? 0,
    median: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
  };
}

/**
 * Count what a WAL directory (or one segment file) holds, read-only. A segment a live writer's truncation removes
 * between the listing and its read makes the whole count start again from a new listing (see {@link ReadOptions}),
 * so the counts describe one listing.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when the path is missing or unreadable, or a listed segment is
 *   gone before its stat or its read in each of 3 listings (3 in all).
 * @example
 * ```ts
 * const stat = await statDir("./wal");
 * // `events` is null when the log was read framing only (a log the default `lora` codec does not decode)
 * console.log(stat.transactions.committed, stat.transactions.events?.median ?? "not decoded");
 * ```
 */
export async function statDir(path: string, given: ReadOptions = {}): Promise<StatReport> {
  const options = checkReadOptions(given, "statDir");
  const fs = createReadOnlyFileSystem(options.onRead);
  const tell = tellCodecChanges(options);
  return scanFreshListing(fs, path, (target) => statTarget(fs, target, tell));
}

/** {@link statDir} of one listing. */
async function statTarget(fs: WalFileSystem, target: WalTarget, options: ReadOptions): Promise<StatReport> {
  const path = target.path;
  const chosen = await chooseCodec(target, options);
  options.onTotal?.(target.totalBytes);
  const byKind = Object.fromEntries(RECORD_KINDS.map((k) => [k, { records: 0, bytes: 0 }])) as Record<
    RecordKind,
    { records: number; bytes: number }
  >;
  const open = new Map<number, { events: number; bytes: number }>();
  const txEvents: number[] = [];
  const txBytes: number[] = [];
  const scans: SegmentScan[] = [];
  let records = 0;
  let recordBytes = 0;
  let events = 0;
  let committed = 0;
  let aborted = 0;
  let firstLsn: number | null = null;
  let lastLsn: number | null = null;
  let checkpoints = 0;
  let latest: { lsn: number; snapshotLsn: number } | null = null;

  for await (const event of scanTarget(target, { codec: chosen.codec, fs })) {
    if (event.type === "segment") {
      scans.push(event.scan);
      continue;
    }
    const r = event.record;
    const bytes = event.byteLength;
    records++;
    recordBytes += bytes;
    firstLsn ??= r.lsn;
    lastLsn = r.lsn;
    const k = byKind[r.kind];
    k.records++;
    k.bytes += bytes;
    switch (r.kind) {
      case "txBegin":
        open.set(r.lsn, { events: 0, bytes });
        break;
      case "mutation":
      case "mutationBatch": {
        const n = r.kind === "mutation" ? 1 : r.events.length;
        events += n;
        const tx = open.get(r.txBeginLsn);
        if (tx !== undefined) {
          tx.events += n;
          tx.bytes += bytes;
        }
        break;
      }
      case "txCommit":
      case "txAbort": {
        const tx = open.get(r.txBeginLsn);
        if (r.kind === "txCommit") committed++;
        else aborted++;
        if (tx !== undefined) {
          open.delete(r.txBeginLsn);
          txEvents.push(tx.events);
          txBytes.push(tx.bytes + bytes);
        }
        break;
      }
      case "checkpoint":
        checkpoints++;
        latest = { lsn: r.lsn, snapshotLsn: r.snapshotLsn };
        break;
    }
  }

  // After the walk, whose listing it judges: the look for markers reads only what a hole makes it read.
  // A segment removed meanwhile throws, and the listing starts again.
  const judged = (await judgeListingHoles(target)) ?? null;
  return {
    path,
    kind: target.kind,
    codec: chosen.use,
    segments: {
      count: scans.length,
      sealed: scans.filter((s) => s.header?.sealed === true).length,
      bytes: scans.reduce((n, s) => n + s.fileSize, 0),
    },
    records,
    recordBytes,
    firstLsn,
    lastLsn,
    byKind,
    events: chosen.use.framingOnly ? null : events,
    transactions: {
      committed,
      aborted,
      unfinished: open.size,
      events: chosen.use.framingOnly ? null : spread(txEvents),
      bytes: spread(txBytes),
    },
    checkpoints: { count: checkpoints, latest },
    segmentIdHoles: holesReport(judged),
    verdict: verdictWithHoles(scans, chosen.use, judged),
  };
}

/** {@link StatReport.segmentIdHoles} of a judgement. */
function holesReport(judged: SegmentIdHoleJudgement | null): StatReport["segmentIdHoles"] {
  if (judged === null || judged.kind === "behind-fence") return null;
  const missing = missingIds(judged.holes);
  return judged.kind === "covered"
    ? {
        status: "covered",
        missing,
        checkpointLsn: judged.checkpointLsn,
        message: coveredHoleNote(judged, "the records counted"),
      }
    : { status: "lost", missing, checkpointLsn: null, message: lostSegmentsText(judged.holes) };
}

/**
 * The verdict of the walk, with the segment-id holes of the listing judged as `dump` judges them, and ranked as dump
 * ranks them: lost segments are corruption (exit 2, as a CRC mismatch mid-log is), which outranks a clean walk, a
 * torn tail and a headerless newest segment (they exit below 2); damage the walk met that exits 2 or above stays the
 * verdict (stat's text then says the lost segments in a note, and `segmentIdHoles` says them in either form).
 */
function verdictWithHoles(
  scans: readonly SegmentScan[],
  codec: CodecUse,
  judged: SegmentIdHoleJudgement | null,
): Verdict {
  const walked = verdictFromScans(scans, codec);
  if (judged?.kind !== "lost" || walked.exitCode >= exitCodeOf("corruption")) return walked;
  // Where verify puts it: the end of the last good record of the segment before the first hole.
  const before = judged.holes[0]?.before.path;
  const scan = scans.find((s) => s.path === before);
  return {
    status: "corruption",
    exitCode: exitCodeOf("corruption"),
    ...(scan === undefined ? {} : { segment: scan.name, segmentPath: scan.path, offset: scan.endOffset }),
    code: "WAL_CORRUPT",
    message: lostSegmentsText(judged.holes),
  };
}

export const STAT_HELP = `Usage: lora-wal stat <dir> [options]

Counts and sizes of a WAL directory (or one segment file): records and bytes
by kind, transaction sizes (events and bytes: min, median, max), checkpoint
markers, segments. Read-only: takes no lock, writes nothing.

A segment a live writer truncates after the listing and before its read makes
it start again from a new listing (3 listings at most, then exit 4).

Options:
${CODEC_OPTIONS_HELP}
      --json          print the report as one JSON document
  -q, --quiet         no progress bar
  -h, --help          show this help

Reports the damage it meets reading records; it does not check structure (a
commit naming a missing begin, …): verify does. Segment ids missing in the
middle of the log are judged as verify judges them: below a checkpoint marker
after them that covers them, a truncation a crash interrupted (a note names
the checkpoint); otherwise corruption (exit 2).

Exit status: 0 no damage met, 1 torn tail (or a newest segment without a
header), 2 corruption (also segments missing that no checkpoint covers) or bad
header, 3 usage error (also a --codec-module that does not load or exports no
codec), 4 path missing or unreadable, 5 codec mismatch with the --codec or
--codec-module given (run again with the codec the log was written with).
`;

/** `lora-wal stat`. */
export function runStat(args: string[], ctx: CommandContext): Promise<number> {
  return runReportCommand(
    {
      name: "stat",
      help: STAT_HELP,
      compute: statDir,
      printText: printStat,
      noSegments: (r) => r.kind === "directory" && r.segments.count === 0,
    },
    args,
    ctx,
  );
}

function printStat(report: StatReport, ctx: CommandContext): void {
  const s = ctx.style;
  const b = (label: string) => s.bold(label.padEnd(14));
  const t = report.transactions;
  ctx.out.line(
    `${b("segments")}${report.segments.count} (${report.segments.sealed} sealed), ${formatBytes(report.segments.bytes)} (${report.segments.bytes} bytes)`,
  );
  ctx.out.line(
    `${b("records")}${report.records}, ${report.recordBytes} bytes${report.firstLsn === null ? "" : `, LSN ${report.firstLsn}..${report.lastLsn}`}`,
  );
  ctx.out.line(`${b("codec")}${codecLine(report.codec)}`);
  ctx.out.line(`${b("events")}${report.events ?? "not counted (framing only)"}`);
  ctx.out.line(`${b("transactions")}${t.committed} committed, ${t.aborted} aborted, ${t.unfinished} unfinished`);
  const e = t.events;
  ctx.out.line(`${b("  events/tx")}${e === null ? "-" : `min ${e.min}, median ${e.median}, max ${e.max}`}`);
  ctx.out.line(`${b("  bytes/tx")}min ${t.bytes.min}, median ${t.bytes.median}, max ${t.bytes.max}`);
  const c = report.checkpoints;
  ctx.out.line(
    `${b("checkpoints")}${c.count}${c.latest === null ? "" : ` (latest at LSN ${c.latest.lsn}: snapshot LSN ${c.latest.snapshotLsn})`}`,
  );
  ctx.out.line("");
  const table = formatTable(
    [{ header: "KIND" }, { header: "RECORDS", align: "right" }, { header: "BYTES", align: "right" }],
    RECORD_KINDS.map((k) => [k, String(report.byKind[k].records), String(report.byKind[k].bytes)]),
  );
  for (const line of table) ctx.out.line(line);
  ctx.out.line("");
  // stat reads records, not transactions' structure, so a clean walk is not verify's clean: say so where it shows.
  const scope = report.verdict.status === "clean" ? ` ${s.dim(STRUCTURE_NOT_CHECKED)}` : "";
  ctx.out.line(`${b("damage")}${ctx.verdictLine(report.verdict)}${scope}`);
  const next = nextStep(report.verdict);
  if (next !== null) ctx.out.line(`${b("next")}${next}`);
  // Segment ids missing mid-log: lost ones are the verdict, unless damage outranks them (they are corruption too,
  // and said); covered ones are no damage, but the counts leave out what those segments held.
  const holes = report.segmentIdHoles;
  if (holes !== null && report.verdict.message !== holes.message) ctx.out.line(`${b("note")}${holes.message}`);
}

/** What a clean `damage` line adds: `stat` does not check structure (a commit naming a missing begin, …). */
const STRUCTURE_NOT_CHECKED = "(records only; verify also checks structure)";
