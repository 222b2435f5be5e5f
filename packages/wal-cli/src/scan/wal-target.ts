/**
 * What the CLI was pointed at: a WAL directory (its segment files, ascending by id) or one segment file. Stats
 * each segment once so commands can size a progress bar; nothing is opened for writing.
 */

import { basename } from "node:path";
import { checkPath, WalError } from "@lora/wal-codec";
import { isMissingFileError, listSegments, parseSegmentId, type WalFileSystem } from "@lora/wal-segment";

/** One segment file of a {@link WalTarget}. */
export interface TargetSegment {
  /** The id its name carries; `undefined` for a single file whose name is not `<digits>.wal`. */
  readonly id: number | undefined;
  /** The file name, e.g. `0000000001.wal`. */
  readonly name: string;
  readonly path: string;
  /** Size when the target was resolved (a live writer may have appended since). */
  readonly size: number;
}

/** A resolved target: a directory of segments or a single segment file. */
export interface WalTarget {
  readonly path: string;
  readonly kind: "directory" | "file";
  readonly segments: readonly TargetSegment[];
  /** Sum of the segment sizes. */
  readonly totalBytes: number;
}

function idOf(name: string): number | undefined {
  try {
    return parseSegmentId(name);
  } catch {
    return undefined;
  }
}

/**
 * The listings of a directory one command has made: one count for those {@link resolveTarget} makes again (a segment
 * gone before its stat) and those a scan starts again from (a segment gone before its read), which run one inside
 * the other, so that together they stay within {@link SCAN_LISTINGS}.
 */
export interface ListingCount {
  made: number;
}

/**
 * Resolve `path` into a {@link WalTarget}. A directory's segments are those of one listing: when a segment is removed
 * between the listing and its stat (a live writer truncating), the directory is listed again, while `listings` (the
 * command's count, a new one by default) stays within {@link SCAN_LISTINGS}.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` (a `path` that is not a non-empty string), `WAL_IO`
 *   (missing path, `details.errno` `ENOENT`; unreadable directory; a segment name that stays listed but cannot be
 *   reached, such as a dangling symlink; a listed segment removed before its stat in each of the listings),
 *   `WAL_MALFORMED` (two files name one segment id).
 */
export async function resolveTarget(
  fs: WalFileSystem,
  path: string,
  listings: ListingCount = { made: 0 },
): Promise<WalTarget> {
  checkPath(path, "the path");
  const stat = await fs.stat(path);
  if (stat === null) {
    throw new WalError("WAL_IO", `no such file or directory: ${path}`, {
      details: { path, syscall: "stat", errno: "ENOENT" },
    });
  }
  if (stat.isFile) {
    const name = basename(path);
    return { path, kind: "file", segments: [{ id: idOf(name), name, path, size: stat.size }], totalBytes: stat.size };
  }
  if (!stat.isDirectory) {
    throw new WalError("WAL_IO", `not a directory or a regular file: ${path}`, { details: { path, syscall: "stat" } });
  }
  for (;;) {
    listings.made++;
    const segments: TargetSegment[] = [];
    const vanished: TargetSegment[] = [];
    for (const entry of await listSegments(fs, path)) {
      const s = await fs.stat(entry.path);
      if (s === null) {
        vanished.push({ id: entry.id, name: entry.name, path: entry.path, size: 0 });
        continue;
      }
      segments.push({ id: entry.id, name: entry.name, path: entry.path, size: s.size });
    }
    if (vanished.length === 0) {
      return { path, kind: "directory", segments, totalBytes: segments.reduce((n, s) => n + s.size, 0) };
    }
    await refuseUnreachable(fs, path, vanished);
    // The names left are no listing the directory ever had: the truncation that removed these came after a
    // checkpoint marker, perhaps in a segment created since the readdir, and the segment it made the oldest is
    // judged by that marker (without it, a healthy log reads as truncated without one, or its newest as sealed).
    if (listings.made >= SCAN_LISTINGS) {
      throw goneSegmentError(
        vanished[0] as TargetSegment,
        `a listed segment was gone in ${SCAN_LISTINGS} listings in a row`,
      );
    }
  }
}

/**
 * A segment removed between readdir and stat (a live writer truncating) is gone from a second listing: the
 * directory is listed again. One still listed cannot be reached (a dangling symlink): `Wal.open` fails on it, so
 * no command may judge the log without it.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (`details.errno` `ENOENT`) naming the first such segment.
 */
async function refuseUnreachable(fs: WalFileSystem, dir: string, vanished: readonly TargetSegment[]): Promise<void> {
  const listed = new Set(await fs.readdir(dir));
  for (const segment of vanished) {
    if (await isUnreachable(fs, segment, listed)) throw unreachableError(segment.path, "stat");
  }
}

/**
 * Listed, and still not found by a new stat: a dangling symlink. Found again, it was removed and created anew under
 * the same name meanwhile (a restarting writer's recovery recreates a headerless newest segment): a new listing.
 */
async function isUnreachable(fs: WalFileSystem, segment: TargetSegment, listed: ReadonlySet<string>): Promise<boolean> {
  return listed.has(segment.name) && (await fs.stat(segment.path)) === null;
}

function unreachableError(segment: string, syscall: string, cause?: unknown): WalError {
  return new WalError(
    "WAL_IO",
    `segment ${segment} is listed but cannot be reached (a dangling symlink?); opening the log fails on it too`,
    { details: { path: segment, syscall, errno: "ENOENT" }, ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * Listings a command makes of a directory at most when segments it listed are gone by the time it stats or reads
 * them (both together: see {@link ListingCount}).
 */
export const SCAN_LISTINGS = 3;

/**
 * The segment of `target` that `error` (thrown while reading it) says is gone, when a new listing of the directory
 * no longer names it either: a live writer's truncation removed it after the listing, so a scan from a new listing
 * describes the log as it is. `undefined` when `error` is anything else (a single file, another errno, a path the
 * listing did not name). The listing is the judge, as in {@link resolveTarget}: a file that cannot be opened under
 * a name that is still listed (a dangling symlink) is never taken for truncation.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (`details.errno` `ENOENT`) for such a still-listed segment, as
 *   {@link resolveTarget} refuses it; what the new listing's `readdir` throws.
 */
export async function segmentGoneSinceListing(
  fs: WalFileSystem,
  target: WalTarget,
  error: unknown,
): Promise<TargetSegment | undefined> {
  if (target.kind !== "directory" || !isMissingFileError(error)) return undefined;
  const path = (error as { details?: { path?: unknown } }).details?.path;
  const segment = target.segments.find((s) => s.path === path);
  if (segment === undefined) return undefined;
  if (await isUnreachable(fs, segment, new Set(await fs.readdir(target.path)))) {
    throw unreachableError(segment.path, "open", error);
  }
  return segment;
}

/**
 * The error of a scan that found a listed segment gone (see {@link segmentGoneSinceListing}) and does not start
 * again: `why` says why not (its last listing, or rows already printed). `WAL_IO`, `details.errno` `ENOENT`, with
 * the read's error as `cause` (none, and `details.syscall` `stat`, when it was gone before its stat).
 */
export function goneSegmentError(segment: TargetSegment, why: string, cause?: unknown): WalError {
  return new WalError(
    "WAL_IO",
    `segment ${segment.path} was removed after it was listed (a live writer truncating the log); ${why}: run again`,
    {
      details: { path: segment.path, syscall: cause === undefined ? "stat" : "open", errno: "ENOENT" },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/**
 * Resolve `path` and run `scan` on it; when a segment the listing named is gone by the time `scan` reads it (see
 * {@link segmentGoneSinceListing}), run `scan` again, whole, on a new listing, so its result describes one listing
 * and never a mix of two. At most {@link SCAN_LISTINGS} listings in all, those `resolveTarget` makes again counted
 * too: a writer that truncates faster than a scan reads cannot keep it looping. `scan` must start from nothing each
 * time.
 * @throws {@link @lora/wal-codec!WalError} what {@link resolveTarget} and `scan` throw; `WAL_IO` (`details.errno`
 *   `ENOENT`) when a listed segment is gone in the last listing too, or cannot be reached under a name still listed.
 */
export async function scanFreshListing<T>(
  fs: WalFileSystem,
  path: string,
  scan: (target: WalTarget) => Promise<T>,
): Promise<T> {
  const listings: ListingCount = { made: 0 };
  for (;;) {
    const target = await resolveTarget(fs, path, listings);
    try {
      return await scan(target);
    } catch (error) {
      const gone = await segmentGoneSinceListing(fs, target, error);
      if (gone === undefined) throw error;
      if (listings.made < SCAN_LISTINGS) continue;
      throw goneSegmentError(gone, `a listed segment was gone in ${SCAN_LISTINGS} listings in a row`, error);
    }
  }
}

/**
 * Resolve `path` as a WAL directory, for the commands that work on a whole log (`follow`, `slots`): a single
 * segment file is refused.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` as {@link resolveTarget}, and for a file (`details.errno`
 *   `ENOTDIR`).
 */
export async function resolveLogDir(fs: WalFileSystem, path: string, command: string): Promise<WalTarget> {
  const target = await resolveTarget(fs, path);
  if (target.kind === "file") {
    throw new WalError("WAL_IO", `${command} needs a WAL directory, and ${path} is a file`, {
      details: { path, syscall: "stat", errno: "ENOTDIR" },
    });
  }
  return target;
}
