/**
 * A truncation a crash interrupted, as `verify` reports it: segment ids missing in the middle of a directory, below a
 * checkpoint. `judgeSegmentIdHoles` of `@lora/wal-replay` judges the hole, for `verify` as for `dump`, `stat`,
 * `replayDir` and `Wal.open`; this is its report shape.
 */

import { missingIds, type SegmentIdHoleJudgement } from "@lora/wal-replay";

/** The holes in a directory's segment ids, when a checkpoint marker after the last covers everything before it. */
export interface TruncationGap {
  /** Every id missing, hole by hole, e.g. `segment 3` or `segments 2..4, 7`. */
  readonly missing: string;
  /** The base LSN of the first segment after the last hole. */
  readonly baseLsn: number;
  /** The newest checkpoint marker's snapshot LSN in the segments after the hole: at least `baseLsn - 1`. */
  readonly checkpointLsn: number;
}

/** The report of a `covered` judgement; `null` for any other (or none). */
export function truncationGapOf(judged: SegmentIdHoleJudgement | undefined): TruncationGap | null {
  if (judged?.kind !== "covered") return null;
  return { missing: missingIds(judged.holes), baseLsn: judged.baseLsn, checkpointLsn: judged.checkpointLsn };
}
