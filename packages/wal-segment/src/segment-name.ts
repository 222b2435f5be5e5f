/**
 * Segment names and listing (docs/format.md): `<dir>/0000000001.wal`, the id zero-padded to 10 decimal digits. A
 * directory entry is a segment when its extension is exactly `wal` and its stem parses as an unsigned integer the
 * way Rust's `u64` parser does (digits, optional leading `+`, leading zeros); other names are ignored. Ids are
 * ordered numerically; the highest is the active segment.
 */

import { join } from "node:path";
import { checkOptionNames, checkPath, firstNames, optionNames, shownValue, WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "./fs/file-system.js";
import { checkFileSystemArgument } from "./fs/file-system-option.js";

/** One segment file found by {@link listSegments}. */
export interface SegmentEntry {
  readonly id: number;
  /** The file name as listed (may be non-canonical, such as `1.wal`). */
  readonly name: string;
  readonly path: string;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** The canonical file name of segment `id`. */
export function segmentFileName(id: number): string {
  if (!Number.isSafeInteger(id) || id < 1)
    throw new WalError("WAL_INVALID_ARGUMENT", `segment id must be a positive integer, got ${shownValue(id)}`);
  return `${String(id).padStart(10, "0")}.wal`;
}

/**
 * The suffix of a segment file a restore (`@lora/wal-archive`) has written but not yet renamed into place
 * (`0000000001.wal.restoring`): a log directory holding one is a restore that did not finish.
 */
export const RESTORING_SUFFIX = ".restoring";

/**
 * The name of the directory lock's file inside a log directory (LoraDB's name; `@lora/wal-lock` takes its lock on it,
 * and `Wal.open` and `restore` leave it behind). It is no segment and no restore leftover, and it does not count as
 * something else a directory holds: `restore` accepts a directory holding it (with nothing else, or beside its own
 * leftovers), and the unfinished-restore refusal does not tell anyone to move it out.
 */
export const LOCK_FILE_NAME = ".lora-wal.lock";

/**
 * The segment id when `name` is exactly the name a restore gives a segment it has not renamed into place: the
 * canonical {@link segmentFileName} of an id from 1 to 2^53 - 1 followed by {@link RESTORING_SUFFIX}
 * (`0000000001.wal.restoring`, `12345678901.wal.restoring`); otherwise `undefined`. A name restore never writes
 * (`1.wal.restoring`, `+7.wal.restoring`, `notes.restoring`, `0000000001.wal.restoring.tmp`) is not one, though it
 * may look like one: it is no evidence of a restore, and a restore must not take it for its own. The one parse of
 * those names: the unfinished-restore refusal, `Wal.open`'s fence advice and `restore`'s check of its target all use
 * it.
 */
export function parseRestoringSegmentId(name: string): number | undefined {
  if (!name.endsWith(RESTORING_SUFFIX)) return undefined;
  const stem = name.slice(0, -RESTORING_SUFFIX.length);
  // At least the 10 padded digits, at most the 16 of 2^53 - 1; the round trip below refuses any other spelling.
  if (!/^[0-9]{10,16}\.wal$/.test(stem)) return undefined;
  const id = Number(stem.slice(0, -".wal".length));
  return Number.isSafeInteger(id) && id >= 1 && segmentFileName(id) === stem ? id : undefined;
}

/**
 * The refusal for a directory whose entries (`names`) hold a segment a restore wrote but did not rename into place
 * (`*.restoring`) above every segment in place (or with none in place): a restore that crashed before its renames
 * reached them. A restore renames newest first, so such a directory can only be read as a log without the restored
 * history, or as an empty one; `undefined` for any other directory. (`.restoring` files below a segment in place
 * are a restore that crashed part-way through its renames: the log then starts late, which the fence check refuses.)
 * Its advice is to run the restore again, after moving out, when there are any, the other entries it names: restore
 * refuses a directory holding anything besides its own leftovers and the lock file ({@link LOCK_FILE_NAME}, which a
 * restore killed while it held the lock leaves beside them, and which is never named as one to move out).
 */
export function unfinishedRestoreError(dir: string, names: readonly string[]): WalError | undefined {
  let newestInPlace = 0;
  const left: string[] = [];
  const others: string[] = [];
  let newestLeft = 0;
  for (const name of names) {
    const id = parseSegmentId(name);
    if (id !== undefined) newestInPlace = Math.max(newestInPlace, id);
    const leftId = parseRestoringSegmentId(name);
    if (leftId !== undefined) {
      left.push(name);
      newestLeft = Math.max(newestLeft, leftId);
    } else if (name !== LOCK_FILE_NAME) {
      others.push(name);
    }
  }
  if (newestLeft <= newestInPlace) return undefined;
  const inPlace = newestInPlace === 0 ? "no segment in place" : `no segment in place at or above segment ${newestLeft}`;
  // Restore refuses a directory holding anything but its own leftovers (and the lock file), so "run it again" alone
  // works only then.
  const rerun =
    others.length === 0
      ? "run the restore again into this directory to finish it (it replaces those files)"
      : `restore never merges into a directory, so move out what else it holds (${others.length} ` +
        `${others.length === 1 ? "entry" : "entries"}: ${firstNames(others)}), then run the restore again into it`;
  return new WalError(
    "WAL_MALFORMED",
    `${dir} holds ${left.length} segment file(s) named ${RESTORING_SUFFIX} (${firstNames(left)}) and ${inPlace}: a ` +
      "restore into this directory did not finish (it had not renamed them into place), so it is not read as a log " +
      `without them nor opened as a new one; ${rerun}`,
    { details: { path: dir } },
  );
}

/** The canonical path of segment `id` in `dir`. */
export function segmentPath(dir: string, id: number): string {
  return join(dir, segmentFileName(id));
}

/**
 * The segment id a directory entry names, or `undefined` when it is not a segment.
 * @throws {@link @lora/wal-codec!WalError} `WAL_MALFORMED` when the id is a valid u64 above 2^53 (it cannot be represented here).
 */
export function parseSegmentId(name: string): number | undefined {
  // Rust's Path::extension: the part after the last dot, unless the only dot leads the name.
  const dot = name.lastIndexOf(".");
  if (dot <= 0 || name.slice(dot + 1) !== "wal") return undefined;
  const stem = name.slice(0, dot);
  if (!/^\+?[0-9]+$/.test(stem)) return undefined;
  const value = BigInt(stem.startsWith("+") ? stem.slice(1) : stem);
  if (value > U64_MAX) return undefined;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new WalError("WAL_MALFORMED", `segment id ${value} exceeds the safe integer range (${name})`);
  }
  return Number(value);
}

/** Options of {@link listSegments}. */
export interface ListSegmentsOptions {
  /**
   * What a restore's `.restoring` files above every segment in place mean: `"refuse"` (a restore that did not
   * finish, `WAL_MALFORMED`) or `"ignore"` (not segments yet: a follower waiting for a log, which a restore running
   * into the directory is still writing, lists the segments in place only). @default "refuse"
   */
  readonly restoreLeftovers?: "refuse" | "ignore";
}

const LIST_SEGMENTS_OPTION_NAMES = optionNames<ListSegmentsOptions>()("restoreLeftovers");

/**
 * The segments of `dir`, ascending by id.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (cannot read the directory), `WAL_MALFORMED` (two files name one id,
 *   or, unless `restoreLeftovers` is `"ignore"`, a restore into `dir` did not finish: see
 *   {@link unfinishedRestoreError}); `WAL_INVALID_ARGUMENT` for an `fs` or a `dir` that is not one,
 *   `WAL_INVALID_OPTION` for bad options, before anything is read.
 */
export async function listSegments(
  fs: WalFileSystem,
  dir: string,
  given: ListSegmentsOptions = {},
): Promise<SegmentEntry[]> {
  checkFileSystemArgument(fs, "listSegments");
  checkPath(dir);
  const options = checkOptionNames(given, LIST_SEGMENTS_OPTION_NAMES, "listSegments");
  const leftovers = options.restoreLeftovers;
  if (leftovers !== undefined && leftovers !== "refuse" && leftovers !== "ignore") {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `listSegments: restoreLeftovers must be "refuse" or "ignore", got ${shownValue(leftovers)}`,
      { details: { option: "restoreLeftovers" } },
    );
  }
  const entries: SegmentEntry[] = [];
  const names = await fs.readdir(dir);
  for (const name of names) {
    const id = parseSegmentId(name);
    if (id !== undefined) entries.push({ id, name, path: join(dir, name) });
  }
  const unfinished = leftovers === "ignore" ? undefined : unfinishedRestoreError(dir, names);
  if (unfinished !== undefined) throw unfinished;
  entries.sort((a, b) => a.id - b.id);
  for (let i = 1; i < entries.length; i++) {
    const a = entries[i - 1] as SegmentEntry;
    const b = entries[i] as SegmentEntry;
    if (a.id === b.id) {
      throw new WalError("WAL_MALFORMED", `two files name segment id ${a.id}: ${a.name} and ${b.name}`, {
        details: { path: dir, segmentId: a.id },
      });
    }
  }
  return entries;
}
