/**
 * Finding where an LSN lives without reading the log: segment base LSNs rise with segment ids, so the segment that
 * holds an LSN is found by a binary search over headers (one 32-byte read each).
 */

import { checkOptionNames, checkPath, isWalError, optionNames, WalError } from "@lora/wal-codec";
import {
  decodeSegmentHeader,
  fileSystemOption,
  isMissingFileError,
  type ListSegmentsOptions,
  listSegments,
  SEGMENT_HEADER_BYTES,
  type SegmentEntry,
  SegmentReader,
  type WalFileSystem,
} from "@lora/wal-segment";
import { classifyHeaderFailure } from "./damage-rules.js";
import { framingOnly } from "./framing-only-codec.js";
import { lookAgainAtNewest } from "./newest-segment-look.js";

/** The base LSN in a segment's header. @throws {@link WalError} `WAL_BAD_HEADER`, `WAL_IO`. */
export async function readBaseLsn(fs: WalFileSystem, path: string): Promise<number> {
  const file = await fs.open(path, "read");
  try {
    const raw = new Uint8Array(SEGMENT_HEADER_BYTES);
    let got = 0;
    while (got < raw.byteLength) {
      const n = await file.read(raw, got, raw.byteLength - got, got);
      if (n === 0) break;
      got += n;
    }
    return decodeSegmentHeader(raw.subarray(0, got), path).baseLsn;
  } finally {
    await file.close();
  }
}

/** Where reading for records above `after` starts. */
export interface SegmentLocation {
  /** The directory's segments, oldest first. */
  readonly entries: readonly SegmentEntry[];
  /** Index of the newest segment whose base LSN is at most `after + 1` (0 when `after` is below every base). */
  readonly index: number;
  /** The oldest segment's base LSN (`null` without segments). */
  readonly oldestBaseLsn: number | null;
  /** The newest segment when it has no header yet (left out of `entries`): replay reports it as a full walk does. */
  readonly headerless: SegmentEntry | null;
}

/**
 * Locate the segment holding LSN `after + 1`: the newest whose base is at most that. A transaction that begins
 * after `after` begins in it or a later one, so nothing before it needs reading.
 * @throws {@link WalError} `WAL_BAD_HEADER`, `WAL_IO`.
 */
export function locateSegment(
  fs: WalFileSystem,
  dir: string,
  after: number,
  listing: ListSegmentsOptions = {},
): Promise<SegmentLocation> {
  // Oldest first, so the segment needed is still there after a truncation that removed one probed.
  return againAfterTruncation(() => locateOnce(fs, dir, after, listing));
}

/**
 * Run `look` (a listing and reads of what it listed) again when a file it listed is gone by the time it reads it:
 * truncation deleted a segment meanwhile, or a restarted writer's recovery removed a headerless newest one.
 * Bounded, because each retry means another truncation or recovery ran meanwhile.
 */
async function againAfterTruncation<T>(look: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await look();
    } catch (error) {
      if (attempt >= 8 || !isMissingFileError(error)) throw error;
    }
  }
}

/**
 * The readable segments of `dir` and, apart, a newest one that has no header yet (a writer creating it, or one that
 * died doing so): it holds no records, and replay and `Wal.open` take it for exactly that.
 */
async function listSplit(
  fs: WalFileSystem,
  dir: string,
  listing: ListSegmentsOptions = {},
): Promise<{ entries: SegmentEntry[]; headerless: SegmentEntry | null }> {
  const entries = await listSegments(fs, dir, listing);
  const newest = entries[entries.length - 1];
  if (newest === undefined) return { entries, headerless: null };
  try {
    await readBaseLsn(fs, newest.path);
  } catch (error) {
    if ((await classifyHeaderFailure(fs, newest.path, error, true))?.kind === "headerless") {
      return { entries: entries.slice(0, -1), headerless: newest };
    }
    if (!(await headerLandedSince(fs, newest.path, error))) throw error;
  }
  return { entries, headerless: null };
}

/**
 * After a header read of `path` failed and the file no longer looks headerless: true when the header is readable
 * now (a live writer wrote it between the failed read and the look at the file). When the file is gone meanwhile (a
 * writer's recovery removed it as headerless), the missing-file error is thrown, so that a caller under
 * {@link againAfterTruncation} lists again and sees what replaced it. False when the header is still unreadable:
 * damage. Any other failure of the second read (`WAL_IO`) is thrown: an I/O error is never taken for damage.
 */
async function headerLandedSince(fs: WalFileSystem, path: string, failure: unknown): Promise<boolean> {
  if (!isWalError(failure, "WAL_BAD_HEADER")) return false;
  try {
    await readBaseLsn(fs, path);
    return true;
  } catch (error) {
    if (isWalError(error, "WAL_BAD_HEADER")) return false;
    throw error;
  }
}

async function locateOnce(
  fs: WalFileSystem,
  dir: string,
  after: number,
  listing: ListSegmentsOptions = {},
): Promise<SegmentLocation> {
  const { entries, headerless } = await listSplit(fs, dir, listing);
  if (entries.length === 0) return { entries, index: 0, oldestBaseLsn: null, headerless };
  const oldestBaseLsn = await readBaseLsn(fs, (entries[0] as SegmentEntry).path);
  const base = async (i: number) => (i === 0 ? oldestBaseLsn : readBaseLsn(fs, (entries[i] as SegmentEntry).path));
  const index = Math.max(0, await newestAtOrBelow(entries.length, base, after + 1));
  return { entries, index, oldestBaseLsn, headerless };
}

/**
 * The end of the log in `dir` when it lies below `lsn`, else `null` (the log has reached `lsn`). The end is the LSN of
 * the newest record, or the newest segment's base LSN minus one when that is higher: a segment with no record yet
 * still says every LSN below its base was given out (or skipped by a fence) and none will be written again.
 *
 * Reads the files as they are, not the durable mark: what a live writer has written is seen whether or not it is
 * synced yet, so a commit LSN the change feed delivered (read from these files) is never found beyond the end. What a
 * writer holds in memory and has not written is not seen. Costs a binary search over segment headers and, only when
 * `lsn` lies at or above the newest segment's base, a read of that segment's records up to the first at or above
 * `lsn` (the whole segment when the answer is "below"); a record that fails its checks ends the read (a torn tail, or
 * a record a live writer is still writing).
 * @throws {@link WalError} `WAL_BAD_HEADER`, `WAL_IO`.
 */
export function logEndBelow(fs: WalFileSystem, dir: string, lsn: number): Promise<number | null> {
  if (lsn <= 0) return Promise.resolve(null);
  return againAfterTruncation(async () => {
    // The newest segment whose base is at most `lsn`: any later one starts above `lsn`, so `lsn` lies below the end.
    const { entries, index, oldestBaseLsn } = await locateOnce(fs, dir, lsn - 1);
    if (oldestBaseLsn === null) return 0; // no segment with a header: no record yet
    if (lsn < oldestBaseLsn || index < entries.length - 1) return null;
    const reader = await SegmentReader.open(fs, (entries[index] as SegmentEntry).path);
    let end = reader.header.baseLsn - 1;
    try {
      for (;;) {
        const step = await reader.next(framingOnly);
        if (step.kind !== "record") return end;
        if (step.record.lsn >= lsn) return null;
        end = step.record.lsn;
      }
    } finally {
      await reader.close();
    }
  });
}

/**
 * The newest of `count` segments (oldest first, so base LSNs rise) whose base LSN is at most `lsn`, by a binary
 * search (one `base` call per step); -1 when even the oldest starts above it.
 */
export async function newestAtOrBelow(
  count: number,
  base: (index: number) => Promise<number>,
  lsn: number,
): Promise<number> {
  let lo = -1;
  let hi = count - 1;
  // Invariant: base(lo) <= lsn (or lo == -1); every index above hi starts above lsn.
  while (lo < hi) {
    const mid = Math.ceil((lo + hi + 1) / 2);
    if ((await base(mid)) <= lsn) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Options of {@link oldestRetainedLsn}. */
export interface OldestRetainedLsnOptions {
  /** The file-system seam. @default the Node file system */
  readonly fs?: WalFileSystem;
}

/** Every option `oldestRetainedLsn` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const OLDEST_RETAINED_OPTION_NAMES = optionNames<OldestRetainedLsnOptions>()("fs");

/**
 * The first LSN the log in `dir` still holds: its oldest segment's base LSN; `null` when it has no segment, or when
 * its only segment has no header yet (a new log's writer creating it: no records yet). A reader that needs the
 * records from an LSN below this on has lost records to truncation; when only the LSN just below it is missing, see
 * `isLoneMissingLsn` for when that loses nothing.
 * @throws {@link WalError} `WAL_BAD_HEADER` (the oldest segment's header is damaged), `WAL_IO`,
 *   `WAL_INVALID_ARGUMENT` (a `dir` that is not a non-empty string), `WAL_INVALID_OPTION`.
 */
export async function oldestRetainedLsn(dir: string, given: OldestRetainedLsnOptions = {}): Promise<number | null> {
  checkPath(dir);
  const options = checkOptionNames(given, OLDEST_RETAINED_OPTION_NAMES, "oldestRetainedLsn");
  const fs = fileSystemOption(options.fs, "oldestRetainedLsn");
  return await againAfterTruncation(async () => {
    const entries = await listSegments(fs, dir);
    const first = entries[0];
    if (first === undefined) return null;
    try {
      return await readBaseLsn(fs, first.path);
    } catch (error) {
      if (entries.length > 1) throw error; // an older segment is never being created: damage
      const look = await lookAgainAtNewest(fs, first.path, error, () => readBaseLsn(fs, first.path));
      return look.kind === "opened" ? look.value : null;
    }
  });
}

/**
 * Whether a reader that needs the records from `from` on may still start in a log whose oldest segment starts at
 * `oldestBase`: when `from` is the one LSN missing (`from === oldestBase - 1`). A committed transaction is a begin and
 * a commit at two LSNs, so one LSN cannot hold a whole transaction the reader should deliver: all it can lose is a
 * transaction begun at `from` that goes on in the retained log, and every retained record of that one names
 * `txBeginLsn === from`. The reader starts, and fails with {@link truncatedError} (the same error as before it
 * started) at the first such record, before delivering anything of it. It is the common case: rotation happens only
 * before a begin, so a segment often ends with a checkpoint marker, which is then all that a resume token from the
 * commit before it lacks. Two or more missing LSNs can hold a whole (empty) transaction: refused at once.
 */
export function isLoneMissingLsn(from: number, oldestBase: number): boolean {
  return from === oldestBase - 1;
}

/**
 * Whether a consumer that restarts at `restartLsn` (a slot's or a resume token's restart point) can still read the
 * log whose oldest retained segment starts at `oldestRetainedLsn` (what `oldestRetainedLsn()` returns): `true` when
 * nothing it needs is gone (`restartLsn >= oldestRetainedLsn`) or only the one LSN just below the log's start is
 * (`restartLsn === oldestRetainedLsn - 1`), `false` when two or more LSNs it needs are gone.
 *
 * Guarantees: `false` means every reader started there (`readCommitted`, `followDir`, `wal.follow`) fails at once
 * with `WAL_TRUNCATED`, so a slot there is useless. `true` means such a reader starts; with the one LSN missing it
 * fails `WAL_TRUNCATED` later only at a record of a transaction begun at that LSN, before delivering any of it:
 * nothing is skipped silently either way.
 */
export function canRestartFrom(restartLsn: number, oldestRetainedLsn: number): boolean {
  return restartLsn >= oldestRetainedLsn || isLoneMissingLsn(restartLsn, oldestRetainedLsn);
}

/** The error for a reader that needs records truncation has removed. */
export function truncatedError(dir: string, after: number, oldestRetained: number, slot?: string): WalError {
  return new WalError(
    "WAL_TRUNCATED",
    `the log in ${dir} no longer holds the records after lsn ${after}: its oldest segment starts at lsn ${oldestRetained} (truncated); resume from a snapshot at or above lsn ${oldestRetained - 1}`,
    { details: { path: dir, lsn: after, oldestRetainedLsn: oldestRetained, ...(slot === undefined ? {} : { slot }) } },
  );
}
