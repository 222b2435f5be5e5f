/**
 * What a follower reports when the next listed segment's id skips ahead while the log's oldest segment still holds
 * what it needs: ids missing in the middle of the log. Truncation deletes the oldest segments first, so that is
 * never the writer's truncation overtaking the follower; it is a truncation a crash interrupted (LoraDB deletes
 * segment after segment and fsyncs the directory once, after all of them, so any subset of the deletions may be
 * durable) or segments lost. Either way the records in the hole are gone for the follower, as for a truncated log;
 * what it can resume from is the segment after the hole, not the oldest one (which holds records before the hole,
 * so resuming there meets the hole again).
 */

import { WalError } from "@lora/wal-codec";
import type { SegmentEntry } from "@lora/wal-segment";
import { holeRunText } from "./segment-id-holes.js";

/** Where the hole is. */
export interface SegmentHole {
  readonly dir: string;
  /** The segment the follower read last. */
  readonly current: Pick<SegmentEntry, "id" | "path">;
  /** The first segment listed after the hole. */
  readonly next: Pick<SegmentEntry, "id" | "path">;
  /** `next`'s base LSN: the first LSN the log holds after the hole. */
  readonly nextBaseLsn: number;
  /** The last LSN the follower read. */
  readonly lastLsn: number;
  /**
   * The snapshot LSN of a checkpoint marker after the hole that covers it, when the reader knows one (a replay
   * looks ahead; a follower meets the hole before the marker): the hole is then a truncation a crash interrupted.
   */
  readonly coveredBy?: number;
}

/**
 * `WAL_TRUNCATED` for `hole`, naming the missing ids and the segments around them, with
 * `details.oldestRetainedLsn` the base LSN of the segment after the hole (a snapshot at or above the LSN before it
 * lets a follower resume), as `truncatedError` gives it for a log truncated at its start.
 */
export function segmentHoleError(hole: SegmentHole): WalError {
  const { current, next, dir, nextBaseLsn, lastLsn, coveredBy } = hole;
  const why =
    coveredBy === undefined
      ? "a truncation a crash interrupted, or segments lost: lora-wal verify tells which"
      : `below the checkpoint at lsn ${coveredBy}: a truncation a crash interrupted`;
  return new WalError(
    "WAL_TRUNCATED",
    `the log in ${dir} no longer holds the records after lsn ${lastLsn}: ${holeRunText({ before: current, after: next })} (${why}), and the log goes on at lsn ${nextBaseLsn}; resume from a snapshot at or above lsn ${nextBaseLsn - 1}`,
    { details: { path: dir, lsn: lastLsn, oldestRetainedLsn: nextBaseLsn, segment: next.path } },
  );
}
