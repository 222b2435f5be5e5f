/**
 * `lora-wal restore <target> <dir>`: rebuild a log directory from an archive with `@lora/wal-archive`'s `restore`,
 * whole, up to `--to-lsn`, or from a snapshot's fence `--from-lsn`. The one command that writes a log: it creates
 * `<dir>` and writes inside it, through a file system that refuses everything else, and only reads the archive. It
 * holds `<dir>`'s kernel lock meanwhile (the view locks as Node's file system does: see `read-only-fs.ts`).
 */

import { basename, dirname, resolve } from "node:path";
import { type RestoreResult, restore } from "@lora/wal-archive";
import { isWalError, WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import {
  COMMON_OPTIONS,
  type CommandContext,
  ExitCode,
  lsnOption,
  parseCommand,
  READ_OPTIONS,
  UsageError,
} from "../cli-context.js";
import { createProgressBar, wantsProgressBar } from "../format/progress-bar.js";
import { formatBytes } from "../format/text-table.js";
import { openArchiveTarget } from "../scan/archive-target.js";
import { createReadOnlyFileSystem } from "../scan/read-only-fs.js";
import { TARGET_OPTIONS } from "./archive.js";

/** What `restore --json` prints. */
export interface RestoreSummary {
  /** The store's name: `fs:<absolute directory>` or `s3://bucket/prefix`. */
  readonly archive: string;
  /** The log directory, as given. */
  readonly dir: string;
  readonly fromLsn: number | null;
  readonly toLsn: number | null;
  /** Segment files restored (the empty successor not counted). */
  readonly segments: number;
  /** Their bytes, as written (after a `--to-lsn` cut). */
  readonly bytes: number;
  /** Objects fetched from the archive. */
  readonly objects: number;
  /** The first and last record LSN restored; `null` when the segments hold no record. */
  readonly firstLsn: number | null;
  readonly lastLsn: number | null;
  /** The file name of the empty segment created after a sealed newest one, or `null`. */
  readonly successor: string | null;
  /**
   * `null` when `<dir>`'s lock was released; else why its release failed once the restored log was in place (the
   * restore is done: durable and complete, and the exit status 0), as `restore`'s `lockReleaseFailure` says it: its
   * code (`WAL_IO`) and its message, which says the log is restored and not to restore again.
   */
  readonly lockReleaseFailure: { readonly code: string; readonly message: string } | null;
}

export const RESTORE_HELP = `Usage: lora-wal restore <target> <dir> [options]

Rebuild a WAL directory from an archive (see lora-wal archive): <target> is the
archive's directory or s3://bucket[/prefix]; <dir> is the log directory to
create. It must not exist (its parent must), be an empty directory, or hold
only the *.restoring files of a restore that stopped before renaming any
segment into place (they are replaced; the log commands refuse such a <dir>
with exit 2 until it is restored again). Every
object is checked against the size and CRC-32 its key names and every segment
is read as whole records before anything is renamed into place; a restore that
cannot give the log asked for removes what it wrote (and <dir>, when it
created it) and fails, so it never leaves a shorter log. The result opens with Wal.open (and, with the lora codec,
in LoraDB).

This command writes: it creates <dir> and writes the restored segments in it,
and nothing else; the archive is only read. (Every other command is read-only,
except slots create|drop, which write in a log's slots/.) It holds <dir>'s lock
(.lora-wal.lock, the one Wal.open and LoraDB take) until it is done: into a
<dir> they hold it fails, and they cannot open <dir> while it runs.

Options:
      --to-lsn <lsn>    restore exactly the records at or below this LSN (the
                        last segment is cut after them and left open for
                        appends); it must be archived
      --from-lsn <lsn>  a snapshot's fence: start at the segment holding
                        lsn + 1; load the snapshot, then open the log with
                        checkpointLsn <lsn>
      --endpoint <url>  S3: the service's URL (default: AWS_ENDPOINT_URL_S3 or
                        AWS_ENDPOINT_URL, else AWS's own endpoint)
      --path-style      S3: path-style requests (http://host/bucket/key)
      --json            print the summary as one JSON object
  -q, --quiet           no progress bar
  -h, --help            show this help

A progress bar (bytes and segments) is drawn on stderr when it is a terminal,
not with --json or --quiet. At the end: segments, bytes and the LSN range
restored. S3 needs @aws-sdk/client-s3 and the standard AWS environment (see
lora-wal archive --help). An interrupted restore (Ctrl-C) can leave files in
<dir>: remove it and run again.

If releasing <dir>'s lock fails once the log is in place, a "lock" line says so
(with --json: lockReleaseFailure, null otherwise) and the exit status is still 0:
the log is restored; do not restore again.

Exit status: 0 restored, 3 usage error (also: <dir> is not empty or not a
directory, an s3:// target without the AWS SDK installed), 4 the archive or
<dir> cannot be read or written (no such directory, a failed store request,
<dir> held by another live handle: WAL_LOCKED, or taken from under the
restore before its first rename: WAL_LOCK_LOST),
8 the archive lacks an object the restore needs, or does not reach --to-lsn
or back to --from-lsn (WAL_ARCHIVE_MISSING), 9 an object is corrupt
(WAL_ARCHIVE_CORRUPT).
`;

/** `lora-wal restore`. */
export async function runRestore(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand("restore", args, {
    ...COMMON_OPTIONS,
    ...TARGET_OPTIONS,
    json: READ_OPTIONS.json,
    quiet: READ_OPTIONS.quiet,
    "to-lsn": { type: "string" },
    "from-lsn": { type: "string" },
  });
  if (values.help === true) {
    ctx.out.line(RESTORE_HELP.trimEnd());
    return ExitCode.OK;
  }
  const [target, dir, extra] = positionals;
  if (target === undefined) {
    throw new UsageError("missing <target> (an archive directory or s3://bucket[/prefix])", "restore");
  }
  if (dir === undefined) throw new UsageError("missing <dir> (the log directory to create)", "restore");
  if (extra !== undefined) throw new UsageError(`unexpected argument: ${extra}`, "restore");
  const toLsn = lsnOption("restore", "to-lsn", values["to-lsn"]);
  const fromLsn = lsnOption("restore", "from-lsn", values["from-lsn"]);
  if (toLsn !== undefined && fromLsn !== undefined && toLsn < fromLsn) {
    throw new UsageError(
      `--to-lsn ${toLsn} is below --from-lsn ${fromLsn}: the snapshot is already past it`,
      "restore",
    );
  }
  // Writes reach <dir> (and <dir> itself, when its parent exists) and nothing else, by construction; fsyncs change
  // no byte (restore fsyncs the parent after creating <dir>).
  const fs = createReadOnlyFileSystem(undefined, undefined, { allowSync: true, writableDir: dir });
  await checkParent(fs, dir);
  const json = values.json === true;
  const opened = await openArchiveTarget(target, "restore", {
    endpoint: values.endpoint,
    pathStyle: values["path-style"],
    env: ctx.env,
  });
  const bar = createProgressBar(
    ctx.stderr,
    wantsProgressBar(ctx.stderr, { json, quiet: values.quiet === true }),
    "restore",
  );
  let result: RestoreResult;
  try {
    result = await restore({
      store: opened.store,
      dir,
      fs,
      // Restore reports at most once per MiB fetched and once at the end; the bar redraws from those calls only.
      onProgress: (p) =>
        bar.update({
          bytesDone: p.bytes,
          bytesTotal: p.totalBytes,
          segmentsDone: p.segments,
          segmentsTotal: p.totalSegments,
        }),
      ...(toLsn === undefined ? {} : { toLsn }),
      ...(fromLsn === undefined ? {} : { fromLsn }),
    });
  } catch (error) {
    // <dir> not empty or not a directory: the argument is wrong, not the archive.
    if (isWalError(error, "WAL_INVALID_OPTION"))
      throw new UsageError(error.message.replace(/^restore: /, ""), "restore");
    throw error;
  } finally {
    bar.done();
    opened.close();
  }
  const summary: RestoreSummary = {
    archive: opened.store.name,
    dir,
    fromLsn: fromLsn ?? null,
    toLsn: toLsn ?? null,
    segments: result.segments,
    bytes: result.bytes,
    objects: result.objects,
    firstLsn: result.firstLsn,
    lastLsn: result.lastLsn,
    successor: result.successor === null ? null : basename(result.successor),
    // Done with the log in place: exit 0 still (a caller that ran the restore again would be refused as not empty),
    // the failure shown with the summary rather than left to the process warning restore also emits.
    lockReleaseFailure:
      result.lockReleaseFailure === undefined
        ? null
        : { code: result.lockReleaseFailure.code, message: unprefixed(result.lockReleaseFailure.message) },
  };
  if (json) ctx.out.line(JSON.stringify(summary, null, 2));
  else printSummary(summary, ctx);
  return ExitCode.OK;
}

/** `restore`'s message without its `restore: ` prefix: the command's own output says which command it is. */
function unprefixed(message: string): string {
  return message.replace(/^restore: /, "");
}

/** `<dir>`'s parent must be an existing directory: restore creates `<dir>`, nothing above it. */
async function checkParent(fs: WalFileSystem, dir: string): Promise<void> {
  const parent = dirname(resolve(dir));
  const stat = await fs.stat(parent);
  if (stat === null) {
    throw new WalError(
      "WAL_IO",
      `cannot create ${dir}: its parent directory ${parent} does not exist (restore creates <dir>, nothing above it)`,
      { details: { path: parent, syscall: "stat", errno: "ENOENT" } },
    );
  }
  if (!stat.isDirectory) {
    throw new WalError("WAL_IO", `cannot create ${dir}: ${parent} is not a directory`, {
      details: { path: parent, syscall: "stat", errno: "ENOTDIR" },
    });
  }
}

function printSummary(summary: RestoreSummary, ctx: CommandContext): void {
  const s = ctx.style;
  ctx.out.line(`${s.bold("restored")}   ${summary.dir} from ${summary.archive}`);
  ctx.out.line(
    `${s.bold("segments")}   ${summary.segments}, ${formatBytes(summary.bytes)} (${summary.bytes} bytes), from ${summary.objects} object${summary.objects === 1 ? "" : "s"}`,
  );
  const range =
    summary.firstLsn === null || summary.lastLsn === null ? "none" : `LSN ${summary.firstLsn}..${summary.lastLsn}`;
  const cut = summary.toLsn === null ? "" : ` (--to-lsn ${summary.toLsn}: every record at or below it)`;
  ctx.out.line(`${s.bold("records")}    ${range}${cut}`);
  if (summary.successor !== null) {
    ctx.out.line(
      `${s.bold("successor")}  ${summary.successor}: empty, after the sealed newest segment (as opening the log creates it)`,
    );
  }
  if (summary.fromLsn !== null) {
    ctx.out.line(
      `${s.bold("fence")}      ${summary.fromLsn}: load the snapshot taken there, then open the log with checkpointLsn ${summary.fromLsn} (lora-wal verify <dir> --checkpoint-lsn ${summary.fromLsn} checks it)`,
    );
  }
  if (summary.lockReleaseFailure !== null) {
    ctx.out.line(`${s.bold("lock")}       ${s.yellow(summary.lockReleaseFailure.message)}`);
  }
}
