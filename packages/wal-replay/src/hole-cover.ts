/**
 * A hole in the segment ids that a checkpoint marker after it covers: what a crash in the middle of a checkpoint's
 * truncation leaves. LoraDB deletes the segments wholly at or below the snapshot one after another and fsyncs the
 * directory once, after all of them, so any subset of the deletions may be durable: an older segment can outlive a
 * newer one. The log is then whole from the segment after the hole on, exactly as it is once the truncation has
 * finished, and the segments before the hole are leftovers the next truncation removes. `lora-wal verify` calls such
 * a log clean and `Wal.open` opens it with a fence at or above the hole; a replay whose fence lies below the hole
 * reads it as that truncated log (`WAL_FENCE_TOO_LOW`, `WAL_TRUNCATED`, or with `allowTruncatedHistory` the log from
 * the segment after the hole), never as corruption. A hole no marker after it covers is a lost segment: the walk
 * meets it and says `WAL_CORRUPT`, as before.
 */

import { basename } from "node:path";
import type { WalFileSystem } from "@lora/wal-segment";
import { framingOnly } from "./framing-only-codec.js";
import { pendingOutcome } from "./replay-outcome.js";
import { planSegments, type ReplayPlan } from "./replay-plan.js";
import { ReplayWalk } from "./replay-walk.js";
import { segmentIdOf } from "./segment-continuity.js";
import { readBaseLsn } from "./segment-locate.js";

/** The last hole of a plan's segment ids, covered by the newest checkpoint marker after it. */
export interface CoveredHole {
  /**
   * Every id missing, hole by hole, and where, as a message names them: `segment 3 is missing between
   * 0000000002.wal and 0000000004.wal`, `segments 2..3, 5 are missing, the last before 0000000006.wal`.
   */
  readonly missing: string;
  /** The segment listed just before the last hole. */
  readonly before: { readonly id: number; readonly path: string };
  /** The segment listed just after the last hole: where the whole log starts. */
  readonly after: { readonly id: number; readonly path: string };
  /** `after`'s base LSN. */
  readonly baseLsn: number;
  /** The newest checkpoint marker's snapshot LSN in the segments from `after` on: at least `baseLsn - 1`. */
  readonly checkpointLsn: number;
}

/**
 * `plan` as a replay with fence `fence` must walk it: unchanged, unless its segment ids have a hole that the walk
 * would take for corruption (the segment after the last hole starts above `fence + 1`) and that the newest checkpoint
 * marker after the last hole covers. Then the plan starts at the segment after the last hole, with that segment's
 * base LSN as the oldest (the fence rules then judge the fence and `after` against it), and names the hole for their
 * errors. Only a plan with a hole pays for more than the listing: a header read, and a framing-only read of the
 * segments after the hole for their markers.
 */
export function acrossCoveredHole(
  list: () => Promise<ReplayPlan>,
  fs: WalFileSystem,
  fence: number,
): () => Promise<ReplayPlan> {
  return async () => {
    const plan = await list();
    const hole = await coveredHole(fs, plan.paths, fence);
    if (hole === undefined) return plan;
    const start = plan.paths.indexOf(hole.after.path);
    return { ...plan, paths: plan.paths.slice(start), oldestBaseLsn: hole.baseLsn, hole };
  };
}

/**
 * The last hole in the ids of `paths` (oldest first) when the segment after it starts above `fence + 1` and a
 * checkpoint marker after it covers it; `undefined` otherwise, and when the segment after the hole or the ones
 * after it cannot be read (the walk then meets the hole, or that damage, and reports it).
 */
async function coveredHole(
  fs: WalFileSystem,
  paths: readonly string[],
  fence: number,
): Promise<CoveredHole | undefined> {
  let last = -1;
  const runs: string[] = [];
  let count = 0;
  for (let i = 1; i < paths.length; i++) {
    const previous = segmentIdOf(paths[i - 1] as string);
    const id = segmentIdOf(paths[i] as string);
    if (previous === undefined || id === undefined || id <= previous + 1) continue;
    last = i;
    count += id - previous - 1;
    runs.push(id - previous === 2 ? `${previous + 1}` : `${previous + 1}..${id - 1}`);
  }
  if (last < 0) return undefined;
  const afterPath = paths[last] as string;
  const beforePath = paths[last - 1] as string;
  let baseLsn: number;
  try {
    baseLsn = await readBaseLsn(fs, afterPath);
  } catch {
    return undefined;
  }
  // Earlier holes lie lower still: a fence that reaches past this one reaches past them all.
  if (baseLsn - 1 <= fence) return undefined;
  const snapshot = await newestSnapshot(fs, paths.slice(last));
  // A marker's snapshot covers the hole when every LSN below the segment after it is at or below the snapshot.
  if (snapshot === undefined || snapshot < baseLsn - 1) return undefined;
  const ids = `${count === 1 ? "segment" : "segments"} ${runs.join(", ")} ${count === 1 ? "is" : "are"} missing`;
  return {
    missing:
      runs.length === 1
        ? `${ids} between ${basename(beforePath)} and ${basename(afterPath)}`
        : `${ids}, the last before ${basename(afterPath)}`,
    before: { id: segmentIdOf(beforePath) as number, path: beforePath },
    after: { id: segmentIdOf(afterPath) as number, path: afterPath },
    baseLsn,
    checkpointLsn: snapshot,
  };
}

/**
 * The newest checkpoint marker's snapshot in `paths`, read framing only and leniently (up to the first damage, as
 * `point-in-time` reads); `undefined` when there is none or the read fails.
 */
async function newestSnapshot(fs: WalFileSystem, paths: readonly string[]): Promise<number | undefined> {
  const { outcome, settle } = pendingOutcome();
  const walk = new ReplayWalk<never>(
    planSegments(paths),
    fs,
    { codec: framingOnly, fs, checkpointLsn: 0, allowTruncatedHistory: true, recovery: "point-in-time" },
    "point-in-time",
    settle,
    undefined,
  );
  try {
    for (;;) if ((await walk.next()).done) break;
    return (await outcome).checkpointLsnObserved ?? undefined;
  } catch {
    return undefined;
  }
}

/** How a fence or truncation error names `hole`: the ids missing, where, and the checkpoint below which they lie. */
export function holeText(hole: CoveredHole): string {
  return `${hole.missing}, below the checkpoint at lsn ${hole.checkpointLsn} (a truncation a crash interrupted)`;
}
