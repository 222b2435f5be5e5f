/**
 * The range plan of a replay: which segment files it walks (all of a directory's, from the one holding `after + 1`
 * on, or explicit files) and, for progress, how many bytes the range spans up to `upto`.
 */

import { listSegments, type WalFileSystem } from "@lora/wal-segment";
import type { CoveredHole } from "./hole-cover.js";
import { locateSegment, newestAtOrBelow, readBaseLsn } from "./segment-locate.js";

/** The segments a replay walks, decided when iteration starts. */
export interface ReplayPlan {
  /** The segment files, oldest first. */
  readonly paths: string[];
  /** The directory's oldest segment's base LSN, when the walk starts at a later segment (a seek to `after`). */
  readonly oldestBaseLsn: number | undefined;
  /** The directory replayed, for error messages (undefined for explicit files). */
  readonly dir: string | undefined;
  /**
   * A hole in the segment ids that a checkpoint covers, when the walk starts after it (see `acrossCoveredHole`):
   * `oldestBaseLsn` is then the base LSN of the segment after it.
   */
  readonly hole?: CoveredHole;
}

/**
 * The plan of a directory, listed when called: every segment, or with `after` the segments from the one holding
 * `after + 1` on (a binary search over headers).
 */
export function planDir(fs: WalFileSystem, dir: string, after: number | undefined): () => Promise<ReplayPlan> {
  if (after === undefined) {
    return async () => ({ paths: (await listSegments(fs, dir)).map((e) => e.path), oldestBaseLsn: undefined, dir });
  }
  return async () => {
    const where = await locateSegment(fs, dir, after);
    const paths = where.entries.slice(where.index).map((e) => e.path);
    // Left out by the search (it has no base LSN to compare), but a full walk reports it: so does this one.
    if (where.headerless !== null) paths.push(where.headerless.path);
    return { paths, oldestBaseLsn: where.oldestBaseLsn ?? undefined, dir };
  };
}

/** The plan of explicit files, in the order given (copied now: the caller may reuse its array). */
export function planSegments(paths: readonly string[]): () => Promise<ReplayPlan> {
  const plan: ReplayPlan = { paths: [...paths], oldestBaseLsn: undefined, dir: undefined };
  return () => Promise.resolve(plan);
}

/** The bytes of a replay's range, for progress. */
export interface RangeBytes {
  /** Where each planned segment starts in the range (bytes of the range before it). */
  readonly starts: readonly number[];
  /** The range's byte count. */
  readonly totalBytes: number;
}

/**
 * The range's byte count for progress: each segment's size now, from the first planned one to the newest whose
 * base LSN is at most `upto` (a binary search over headers).
 */
export async function measureRange(fs: WalFileSystem, paths: readonly string[], upto: number): Promise<RangeBytes> {
  let end = paths.length;
  if (upto !== Number.POSITIVE_INFINITY) {
    // A header that cannot be read (the newest being created) holds nothing at or below upto.
    const base = async (i: number) => readBaseLsn(fs, paths[i] as string).catch(() => Number.POSITIVE_INFINITY);
    end = (await newestAtOrBelow(paths.length, base, upto)) + 1;
  }
  let total = 0;
  const starts: number[] = [];
  for (let i = 0; i < paths.length; i++) {
    starts.push(total);
    if (i < end) total += (await fs.stat(paths[i] as string))?.size ?? 0;
  }
  return { starts, totalBytes: total };
}
