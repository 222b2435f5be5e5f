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
 *
 * A marker covers the hole when its snapshot is at or above the LSN before the segment after the hole: the segments
 * in the hole held nothing above the snapshot, which is what the interrupted truncation was deleting. The fence a
 * reader opens the log with is then the lowest transaction boundary at or above that LSN
 * ({@link CoveredHole.usableFence}), as for the log the finished truncation leaves. A snapshot inside a transaction changes
 * which fence that is, never the verdict: when the transaction began in the hole, no fence at or below the snapshot
 * opens the log (as once the truncation finishes) and the lowest that does lies after the transaction's commit. That
 * is a fence the caller must choose, not lost data: calling it corruption would send `point-in-time` recovery to cut
 * the whole log after the hole.
 *
 * {@link judgeSegmentIdHoles} is the one judgement: replay, `Wal.open` and `lora-wal` `verify`, `dump` and `stat` all
 * call it, so they cannot disagree on a hole.
 */

import { basename } from "node:path";
import { isWalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { framingOnly } from "./framing-only-codec.js";
import { pendingOutcome } from "./replay-outcome.js";
import { planSegments, type ReplayPlan } from "./replay-plan.js";
import { ReplayWalk } from "./replay-walk.js";
import { missingIds, type SegmentIdHole, segmentIdHoles } from "./segment-id-holes.js";
import { readBaseLsn } from "./segment-locate.js";
import type { TransactionSpans } from "./transaction-spans.js";

/** The last hole of a listing's segment ids, covered by the newest checkpoint marker after it. */
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
  /**
   * The lowest fence at or above `baseLsn - 1` that lies outside every transaction: the lowest a replay or open reads
   * the log with (from `after` on), as `lora-wal verify`'s `lowestFence` names it. `baseLsn - 1` unless a transaction
   * runs across the hole; above `checkpointLsn` when the snapshot lies inside a transaction that began in the hole.
   */
  readonly usableFence: number;
}

/**
 * What the holes in a listing's segment ids are (see {@link judgeSegmentIdHoles}); `holes` names each, oldest
 * first.
 *
 * - `covered`: a checkpoint marker after the last hole covers it (the {@link CoveredHole} fields): a truncation a
 *   crash interrupted, no damage.
 * - `lost`: no marker after the last hole covers it (none, or one whose snapshot lies below it), or the segments
 *   after it do not read up to one: corruption, `WAL_CORRUPT` where a walk meets the hole.
 * - `behind-fence`: only with a fence given, which reaches the segment after the last hole (at or above the LSN
 *   before it): a reader with that fence never reads across the holes, so no marker was looked for.
 */
export type SegmentIdHoleJudgement =
  | ({ readonly kind: "covered"; readonly holes: readonly SegmentIdHole[] } & CoveredHole)
  | { readonly kind: "lost"; readonly holes: readonly SegmentIdHole[] }
  | { readonly kind: "behind-fence"; readonly holes: readonly SegmentIdHole[] };

/**
 * Judge the holes in the ids of `paths` (a directory's listing, oldest first); `undefined` when the ids follow each
 * other. Reads the header of the segment after the last hole and, unless `fence` reaches it, the segments from it
 * on, framing only (no payload is decoded, whatever codec the caller reads records with) and leniently (up to the
 * first damage), for the newest checkpoint marker and the transaction boundaries. Only a listing with a
 * hole pays for more than the scan of its names.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when a segment after the hole cannot be read for I/O reasons, such
 *   as one removed since the listing (`details.errno` `ENOENT`, `details.path` its path): a live writer's truncation
 *   removes the oldest segments, and the segments after a hole with them; that is no lost segment, and a caller that
 *   lists again sees the log as it is. Damage there (a bad header, a malformed structure) is no error: the hole is
 *   then `lost`, and the caller's walk reports the damage where it meets it.
 */
export async function judgeSegmentIdHoles(
  fs: WalFileSystem,
  paths: readonly string[],
  fence?: number,
): Promise<SegmentIdHoleJudgement | undefined> {
  const holes = segmentIdHoles(paths);
  const last = holes.at(-1);
  if (last === undefined) return undefined;
  let baseLsn: number;
  try {
    baseLsn = await readBaseLsn(fs, last.after.path);
  } catch (error) {
    if (isWalError(error, "WAL_IO")) throw error;
    return { kind: "lost", holes };
  }
  // Earlier holes lie lower still: a fence that reaches past this one reaches past them all.
  if (fence !== undefined && baseLsn - 1 <= fence) return { kind: "behind-fence", holes };
  const look = await newestSnapshot(fs, paths.slice(paths.indexOf(last.after.path)));
  // Every LSN in the hole lies at or below the snapshot: the truncation to it was deleting them.
  if (look === undefined || look.snapshot < baseLsn - 1) return { kind: "lost", holes };
  const usableFence = look.spans.lowestBoundaryAtOrAbove(baseLsn - 1);
  const ids = missingIds(holes);
  const verb = ids.startsWith("segments") ? "are" : "is";
  return {
    kind: "covered",
    holes,
    missing:
      holes.length === 1
        ? `${ids} ${verb} missing between ${basename(last.before.path)} and ${basename(last.after.path)}`
        : `${ids} ${verb} missing, the last before ${basename(last.after.path)}`,
    before: last.before,
    after: last.after,
    baseLsn,
    checkpointLsn: look.snapshot,
    usableFence,
  };
}

/**
 * `plan` as a replay with fence `fence` must walk it: unchanged, unless its segment ids have a hole that the walk
 * would take for corruption (the segment after the last hole starts above `fence + 1`) and that a checkpoint marker
 * after the last hole covers ({@link judgeSegmentIdHoles}). Then the plan starts at the segment after the last hole,
 * with that segment's base LSN as the oldest (the fence rules then judge the fence and `after` against it), and
 * names the hole for their errors.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` as {@link judgeSegmentIdHoles} throws it.
 */
export function acrossCoveredHole(
  list: () => Promise<ReplayPlan>,
  fs: WalFileSystem,
  fence: number,
): () => Promise<ReplayPlan> {
  return async () => {
    const plan = await list();
    const judged = await judgeSegmentIdHoles(fs, plan.paths, fence);
    if (judged?.kind !== "covered") return plan;
    const { kind: _, holes: __, ...hole } = judged;
    const start = plan.paths.indexOf(hole.after.path);
    return { ...plan, paths: plan.paths.slice(start), oldestBaseLsn: hole.baseLsn, hole };
  };
}

/**
 * The newest checkpoint marker's snapshot in `paths`, read framing only and leniently (up to the first damage, as
 * `point-in-time` reads), with the transaction spans read up to there; `undefined` when there is none or the read
 * throws damage.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when a segment cannot be read for I/O reasons.
 */
async function newestSnapshot(
  fs: WalFileSystem,
  paths: readonly string[],
): Promise<{ snapshot: number; spans: TransactionSpans } | undefined> {
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
    const read = await outcome;
    return read.checkpointLsnObserved === null
      ? undefined
      : { snapshot: read.checkpointLsnObserved, spans: read.transactionSpans };
  } catch (error) {
    if (isWalError(error, "WAL_IO")) throw error;
    return undefined;
  }
}

/** How a fence or truncation error names `hole`: the ids missing, where, and the checkpoint below which they lie. */
export function holeText(hole: CoveredHole): string {
  return `${hole.missing}, below the checkpoint at lsn ${hole.checkpointLsn} (a truncation a crash interrupted)`;
}
