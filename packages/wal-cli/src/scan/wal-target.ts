/**
 * What the CLI was pointed at: a WAL directory (its segment files, ascending by id) or one segment file. Stats
 * each segment once so commands can size a progress bar; nothing is opened for writing.
 */

import { basename, join } from "node:path";
import { checkPath, WalError } from "@lora/wal-codec";
import { listSegments, parseSegmentId, type WalFileSystem } from "@lora/wal-segment";

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
 * Resolve `path` into a {@link WalTarget}.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` (a `path` that is not a non-empty string), `WAL_IO`
 *   (missing path, `details.errno` `ENOENT`; unreadable directory; a segment name that stays listed but cannot be
 *   reached, such as a dangling symlink),
 *   `WAL_MALFORMED` (two files name one segment id).
 */
export async function resolveTarget(fs: WalFileSystem, path: string): Promise<WalTarget> {
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
  const segments: TargetSegment[] = [];
  const vanished: string[] = [];
  for (const entry of await listSegments(fs, path)) {
    const s = await fs.stat(entry.path);
    if (s === null) {
      vanished.push(entry.name);
      continue;
    }
    segments.push({ id: entry.id, name: entry.name, path: entry.path, size: s.size });
  }
  if (vanished.length > 0) await refuseUnreachable(fs, path, vanished);
  return { path, kind: "directory", segments, totalBytes: segments.reduce((n, s) => n + s.size, 0) };
}

/**
 * A segment removed between readdir and stat (a live writer truncating) is simply not part of the snapshot: it is
 * gone from a second listing. One still listed cannot be reached (a dangling symlink): `Wal.open` fails on it, so
 * no command may judge the log without it.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (`details.errno` `ENOENT`) naming the first such segment.
 */
async function refuseUnreachable(fs: WalFileSystem, dir: string, vanished: readonly string[]): Promise<void> {
  const listed = new Set(await fs.readdir(dir));
  const unreachable = vanished.find((name) => listed.has(name));
  if (unreachable === undefined) return;
  const segment = join(dir, unreachable);
  throw new WalError(
    "WAL_IO",
    `segment ${segment} is listed but cannot be reached (a dangling symlink?); opening the log fails on it too`,
    { details: { path: segment, syscall: "stat", errno: "ENOENT" } },
  );
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
