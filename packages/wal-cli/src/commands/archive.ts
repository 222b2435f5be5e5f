/**
 * `lora-wal archive ls|verify <target>`: an archive written by `@lora/wal-archive`'s archiver, in a directory or in
 * S3. `ls` reads the object keys only (each names its segment, base LSN, byte range, size and CRC-32); `verify` runs
 * `verifyArchive`, every check `restore` makes, and reports each problem with the object it concerns. Both only
 * read: a directory through the read-only file system, S3 with `ListObjectsV2` and `GetObject`.
 */

import {
  type ArchivedSegment,
  type ArchiveProblem,
  type ArchiveStore,
  listArchive,
  verifyArchive,
} from "@lora/wal-archive";
import {
  COMMON_OPTIONS,
  type CommandContext,
  ExitCode,
  parseCommand,
  READ_OPTIONS,
  UsageError,
} from "../cli-context.js";
import { exitCodeForError } from "../exit-codes.js";
import { createProgressBar, type TransferProgress, wantsProgressBar } from "../format/progress-bar.js";
import { formatBytes, formatTable } from "../format/text-table.js";
import { type OpenedArchive, openArchiveTarget } from "../scan/archive-target.js";

/** One archived object as `archive ls` reports it. */
export interface ListedObject {
  readonly key: string;
  /** Its size as the store lists it. */
  readonly size: number;
}

/** One piece of an active segment: bytes `[from, to)` of the segment file. */
export interface ListedPiece extends ListedObject {
  readonly from: number;
  readonly to: number;
}

/** One segment of an archive, from its objects' keys. */
export interface ListedSegment {
  readonly id: number;
  /** The file name a restore gives it, e.g. `0000000001.wal`. */
  readonly name: string;
  readonly baseLsn: number;
  /** Where a restore takes it from: its sealed object (whole), or the pieces shipped while it was active. */
  readonly source: "sealed" | "pieces";
  /** The bytes of the segment file that source holds: `[0, size)` of the sealed object, or the pieces' span. */
  readonly byteRange: { readonly from: number; readonly to: number };
  /** The stored bytes of all its objects. */
  readonly bytes: number;
  /**
   * The LSNs it covers: from its base LSN to the next segment's base LSN minus one. `to` is `null` for the newest
   * segment and before an absent id: unknown without reading the bytes (`archive verify` reads them).
   */
  readonly lsnRange: { readonly from: number; readonly to: number | null };
  /** Whole-segment objects (normally at most one). */
  readonly sealed: readonly ListedObject[];
  /** Pieces, by offset (normally only the newest segment's; leftovers of a sealed one are superseded). */
  readonly pieces: readonly ListedPiece[];
}

/** What {@link describeArchive} found. */
export interface ArchiveListing {
  /** The store's name: `fs:<absolute directory>` or `s3://bucket/prefix`. */
  readonly archive: string;
  /** Oldest first. */
  readonly segments: readonly ListedSegment[];
  readonly totals: {
    readonly segments: number;
    readonly objects: number;
    readonly sealed: number;
    readonly pieces: number;
    readonly bytes: number;
    /**
     * Segment ids between the oldest and the newest with no object at all, as runs of consecutive ids (one per gap
     * in the listing, so the output follows the listing, not the ids a damaged key may name).
     */
    readonly absent: readonly { readonly from: number; readonly to: number }[];
    /** How many ids the runs of `absent` hold together. */
    readonly absentCount: number;
  };
}

const segmentName = (id: number) => `${String(id).padStart(10, "0")}.wal`;

function listedSegment(group: ArchivedSegment, next: ArchivedSegment | undefined): ListedSegment {
  const sealed = group.sealed.map((o) => ({ key: o.key, size: o.storedSize }));
  const pieces = group.pieces.map((p) => ({ key: p.key, from: p.from, to: p.to, size: p.storedSize }));
  const whole = group.sealed[0];
  const byteRange =
    whole === undefined
      ? { from: Math.min(...pieces.map((p) => p.from)), to: Math.max(...pieces.map((p) => p.to)) }
      : { from: 0, to: whole.size };
  const covered = next !== undefined && next.id === group.id + 1 ? next.baseLsn - 1 : null;
  return {
    id: group.id,
    name: segmentName(group.id),
    baseLsn: group.baseLsn,
    source: whole === undefined ? "pieces" : "sealed",
    byteRange,
    bytes: [...sealed, ...pieces].reduce((n, o) => n + o.size, 0),
    lsnRange: { from: group.baseLsn, to: covered },
    sealed,
    pieces,
  };
}

/**
 * The archive's segments from its object keys (nothing is fetched), oldest first, with totals.
 * @throws {@link @lora/wal-codec!WalError} whatever the store's `list` rejects with (`WAL_IO`).
 * @example
 * ```ts
 * const { segments, totals } = await describeArchive(fsArchive("/mnt/backup/wal"));
 * ```
 */
export async function describeArchive(
  store: ArchiveStore,
  options: { readonly signal?: AbortSignal } = {},
): Promise<ArchiveListing> {
  const groups = await listArchive(store, options);
  const segments = groups.map((group, i) => listedSegment(group, groups[i + 1]));
  const absent: { from: number; to: number }[] = [];
  let absentCount = 0;
  for (let i = 1; i < groups.length; i++) {
    const previous = (groups[i - 1] as ArchivedSegment).id;
    const id = (groups[i] as ArchivedSegment).id;
    if (id - previous > 1) {
      absent.push({ from: previous + 1, to: id - 1 });
      absentCount += id - previous - 1;
    }
  }
  const sealed = segments.reduce((n, s) => n + s.sealed.length, 0);
  const pieces = segments.reduce((n, s) => n + s.pieces.length, 0);
  return {
    archive: store.name,
    segments,
    totals: {
      segments: segments.length,
      objects: sealed + pieces,
      sealed,
      pieces,
      bytes: segments.reduce((n, s) => n + s.bytes, 0),
      absent,
      absentCount,
    },
  };
}

/** What {@link checkArchive} found. */
export interface ArchiveCheckReport {
  readonly archive: string;
  /**
   * - `clean`: a restore to the newest LSN succeeds (as long as the archive does not change meanwhile);
   * - `corrupt`: an object is damaged (at least one `WAL_ARCHIVE_CORRUPT` problem);
   * - `missing`: an object a restore needs is missing (`WAL_ARCHIVE_MISSING`, and nothing corrupt);
   * - `unreadable`: an object could not be fetched (a store failure such as `WAL_IO`, and nothing else).
   */
  readonly status: "clean" | "corrupt" | "missing" | "unreadable";
  /** 0, 9, 8, or the exit code of the store failure's code (4 for `WAL_IO`): see {@link ExitCode}. */
  readonly exitCode: number;
  /** Segments checked without a problem (fetched, checked against their keys, read to the end). */
  readonly segments: number;
  /** Pieces fetched for the newest segment (0 when it is sealed). */
  readonly pieces: number;
  /** Bytes fetched and checked. */
  readonly bytes: number;
  /** The first and last record LSN of the segments checked without a problem; `null` when there are none. */
  readonly firstLsn: number | null;
  readonly lastLsn: number | null;
  /**
   * Everything a restore would refuse, in log order: at most one per segment (the first found), plus one per run
   * of missing segment ids. `key` is the object, or the key pattern a missing one would have (`segments/0000000004-*`).
   */
  readonly problems: readonly ArchiveProblem[];
}

/** The status and exit code of a list of problems: corrupt before missing before a store failure. */
function judge(problems: readonly ArchiveProblem[]): Pick<ArchiveCheckReport, "status" | "exitCode"> {
  if (problems.some((p) => p.code === "WAL_ARCHIVE_CORRUPT")) {
    return { status: "corrupt", exitCode: ExitCode.ARCHIVE_CORRUPT };
  }
  if (problems.some((p) => p.code === "WAL_ARCHIVE_MISSING")) {
    return { status: "missing", exitCode: ExitCode.ARCHIVE_MISSING };
  }
  const first = problems[0];
  return first === undefined
    ? { status: "clean", exitCode: ExitCode.OK }
    : { status: "unreadable", exitCode: exitCodeForError(first.code) };
}

/**
 * Every check `restore` makes on the whole archive, without writing anything (`verifyArchive`): each problem is
 * reported with the object it concerns and its code, not thrown.
 * @throws {@link @lora/wal-codec!WalError} whatever the store's `list` rejects with (`WAL_IO`); a failed fetch is a
 *   problem.
 * @example
 * ```ts
 * const report = await checkArchive(fsArchive("/mnt/backup/wal"));
 * for (const p of report.problems) console.log(p.key, p.code);
 * ```
 */
export async function checkArchive(
  store: ArchiveStore,
  options: { readonly signal?: AbortSignal; readonly onProgress?: (progress: TransferProgress) => void } = {},
): Promise<ArchiveCheckReport> {
  const { onProgress, signal } = options;
  const report = await verifyArchive(store, {
    ...(signal === undefined ? {} : { signal }),
    // The bar counts bytes as restore's does: verifyArchive fetches the same objects.
    ...(onProgress === undefined
      ? {}
      : {
          onProgress: (p) =>
            onProgress({
              segmentsDone: p.segmentsDone,
              segmentsTotal: p.segmentsTotal,
              bytesDone: p.bytes,
              bytesTotal: p.totalBytes,
            }),
        }),
  });
  return {
    archive: store.name,
    ...judge(report.problems),
    segments: report.segments,
    pieces: report.pieces,
    bytes: report.bytes,
    firstLsn: report.firstLsn ?? null,
    lastLsn: report.lastLsn ?? null,
    problems: report.problems,
  };
}

/** The options of every command that opens an archive target. */
export const TARGET_OPTIONS = {
  endpoint: { type: "string" },
  "path-style": { type: "boolean" },
} as const;

export const ARCHIVE_HELP = `Usage: lora-wal archive ls <target> [options]
       lora-wal archive verify <target> [options]

Read an archive written by @lora/wal-archive's archiver (startArchiver).
<target> is the archive's directory, or s3://bucket[/prefix] for Amazon S3 or
an S3-compatible service.

  ls       the archived segments from the object keys alone (nothing is
           downloaded): per segment its id, base LSN, where a restore takes it
           from (its sealed object, or the newest segment's pieces) with the
           byte range and stored size, and the LSNs it covers (up to the next
           segment's base LSN; open for the newest); then the totals
  verify   every check a restore makes, without writing: every segment id from
           the oldest to the newest is there, each object has the size and
           CRC-32 its key names, each segment reads as whole records with
           rising LSNs from its base; each problem is listed with its object
           and code

Both only read: nothing is written to the archive or anywhere else.

Options:
      --endpoint <url>  S3: the service's URL (default: AWS_ENDPOINT_URL_S3 or
                        AWS_ENDPOINT_URL, else AWS's own endpoint)
      --path-style      S3: path-style requests (http://host/bucket/key), as
                        most S3-compatible services need
      --json            print the listing or the report as one JSON document
  -q, --quiet           verify: no progress bar
  -h, --help            show this help

S3 needs the AWS SDK for JavaScript v3 installed beside lora-wal (npm install
@aws-sdk/client-s3) and takes the region and credentials from the standard AWS
environment (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
...); with an endpoint and no region set, the region is us-east-1.

Exit status: 0 listed, or verified clean, 3 usage error (also: an s3:// target
without the AWS SDK installed), 4 the archive cannot be read (no such
directory, a failed store request), 8 verify: an object a restore needs is
missing (WAL_ARCHIVE_MISSING), 9 verify: an object is corrupt
(WAL_ARCHIVE_CORRUPT; also when objects are missing besides).
`;

/** `lora-wal archive`. */
export async function runArchive(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("archive", args, {
    ...COMMON_OPTIONS,
    ...TARGET_OPTIONS,
    json: READ_OPTIONS.json,
    quiet: READ_OPTIONS.quiet,
  });
  if (values.help === true) {
    ctx.out.line(ARCHIVE_HELP.trimEnd());
    return ExitCode.OK;
  }
  const [action, target, extra] = positionals;
  if (action === undefined) throw new UsageError("missing action: ls or verify", "archive");
  if (action !== "ls" && action !== "verify") {
    throw new UsageError(`unknown archive action ${JSON.stringify(action)} (expected ls or verify)`, "archive");
  }
  if (target === undefined) {
    throw new UsageError("missing <target> (an archive directory or s3://bucket[/prefix])", "archive");
  }
  if (extra !== undefined) throw new UsageError(`unexpected argument: ${extra}`, "archive");
  const json = values.json === true;
  const opened = await openArchiveTarget(target, "archive", {
    endpoint: values.endpoint,
    pathStyle: values["path-style"],
    env: ctx.env,
  });
  try {
    if (action === "ls") {
      const listing = await describeArchive(opened.store);
      if (json) ctx.out.line(JSON.stringify(listing, null, 2));
      else printListing(listing, ctx);
      if (!json && listing.segments.length === 0) await noteLogNamed(opened, target, ctx);
      return ExitCode.OK;
    }
    const bar = createProgressBar(
      ctx.stderr,
      wantsProgressBar(ctx.stderr, { json, quiet: values.quiet === true }),
      "verify",
    );
    let report: ArchiveCheckReport;
    try {
      report = await checkArchive(opened.store, { onProgress: (p) => bar.update(p) });
    } finally {
      bar.done();
    }
    if (json) ctx.out.line(JSON.stringify(report, null, 2));
    else printCheck(report, ctx);
    if (!json && report.segments === 0) await noteLogNamed(opened, target, ctx);
    return report.exitCode;
  } finally {
    opened.close();
  }
}

/** For an empty listing of a directory that holds a log: say so, and what reads a log. */
async function noteLogNamed(opened: OpenedArchive, target: string, ctx: CommandContext): Promise<void> {
  if (!(await opened.holdsLog())) return;
  ctx.out.line(
    `${ctx.style.bold("note")}       ${target} holds a write-ahead log, not its archive (read a log with lora-wal inspect or verify)`,
  );
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function objectsText(segment: ListedSegment): string {
  const parts = [
    segment.sealed.length === 0
      ? undefined
      : segment.sealed.length === 1
        ? "sealed"
        : `${segment.sealed.length} sealed`,
    segment.pieces.length === 0 ? undefined : plural(segment.pieces.length, "piece"),
  ];
  return parts.filter((p) => p !== undefined).join(" + ");
}

function printListing(listing: ArchiveListing, ctx: CommandContext): void {
  const s = ctx.style;
  const t = listing.totals;
  ctx.out.line(`${s.bold("archive")}    ${listing.archive}`);
  const first = listing.segments[0];
  const last = listing.segments.at(-1);
  if (first === undefined || last === undefined) {
    ctx.out.line(`${s.bold("segments")}   none (nothing archived here yet)`);
    return;
  }
  const ids = first.id === last.id ? `id ${first.id}` : `ids ${first.id}..${last.id}`;
  ctx.out.line(
    `${s.bold("segments")}   ${t.segments} (${ids}), ${plural(t.objects, "object")} (${t.sealed} sealed, ${plural(t.pieces, "piece")}), ${formatBytes(t.bytes)} (${t.bytes} bytes)`,
  );
  ctx.out.line(`${s.bold("LSNs")}       from ${first.baseLsn} (the oldest segment's base LSN)`);
  if (t.absentCount > 0) {
    const runs = t.absent.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}..${r.to}`)).join(", ");
    ctx.out.line(
      `${s.bold("absent")}     ${s.red(`${t.absentCount === 1 ? "id" : "ids"} ${runs}`)}: no object at all (lora-wal archive verify)`,
    );
  }
  ctx.out.line("");
  const table = formatTable(
    [
      { header: "SEGMENT" },
      { header: "BASE LSN", align: "right" },
      { header: "OBJECTS" },
      { header: "BYTES" },
      { header: "SIZE", align: "right" },
      { header: "LSN RANGE" },
    ],
    listing.segments.map((segment) => [
      segment.name,
      String(segment.baseLsn),
      objectsText(segment),
      `${segment.byteRange.from}..${segment.byteRange.to}`,
      String(segment.bytes),
      `${segment.lsnRange.from}..${segment.lsnRange.to ?? ""}`,
    ]),
  );
  for (const line of table) ctx.out.line(line);
}

function printCheck(report: ArchiveCheckReport, ctx: CommandContext): void {
  const s = ctx.style;
  const pieces = report.pieces === 0 ? "" : ` (the newest from ${plural(report.pieces, "piece")})`;
  const without = report.problems.length === 0 ? "" : " without a problem";
  ctx.out.line(`${s.bold("archive")}    ${report.archive}`);
  ctx.out.line(
    `${s.bold("checked")}    ${plural(report.segments, "segment")}${without}${pieces}, ${formatBytes(report.bytes)} (${report.bytes} bytes)`,
  );
  if (report.firstLsn !== null && report.lastLsn !== null) {
    const where = report.problems.length === 0 ? "" : " (in those segments)";
    ctx.out.line(`${s.bold("records")}    LSN ${report.firstLsn}..${report.lastLsn}${where}`);
  }
  if (report.problems.length > 0) {
    ctx.out.line(`${s.bold("problems")}   ${report.problems.length}`);
    for (const problem of report.problems) {
      ctx.out.line(`  ${problem.key === "" ? "(the archive)" : problem.key}`);
      ctx.out.line(`    ${s.red(problem.code)}: ${problem.message}`);
    }
  }
  ctx.out.line(`${s.bold("result")}     ${resultLine(report, ctx)}`);
}

function resultLine(report: ArchiveCheckReport, ctx: CommandContext): string {
  const s = ctx.style;
  if (report.status === "clean") return `${s.green("clean")}: a restore to the newest LSN succeeds`;
  const count = (code: string) => report.problems.filter((p) => p.code === code).length;
  const corrupt = count("WAL_ARCHIVE_CORRUPT");
  const missing = count("WAL_ARCHIVE_MISSING");
  const other = report.problems.length - corrupt - missing;
  const parts = [
    corrupt === 0 ? undefined : `${plural(corrupt, "object")} corrupt`,
    missing === 0 ? undefined : `${missing} missing`,
    other === 0 ? undefined : `${other} unreadable`,
  ].filter((p) => p !== undefined);
  return `${s.red(s.bold(report.status.toUpperCase()))}: ${parts.join(", ")}; a restore refuses this archive`;
}
