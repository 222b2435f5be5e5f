/**
 * A truncation a crash interrupted: segment ids missing in the middle of a directory, below a checkpoint.
 *
 * A checkpoint writes its marker, then deletes the segments wholly at or below its snapshot. LoraDB deletes them one
 * after another and fsyncs the directory once at the end, so a crash in between may leave any subset of the
 * deletions durable: an older segment still there after a newer one is gone. Read with fence 0, that hole is
 * corruption (ids must follow each other); read with the checkpoint's snapshot as the fence, as the application
 * that checkpointed opens it, it is no damage. The newest marker in the segments after the hole says which it is.
 */

import type { PayloadCodec } from "@lora/wal-codec";
import { replaySegments } from "@lora/wal-replay";
import type { WalFileSystem } from "@lora/wal-segment";
import type { TargetSegment } from "./wal-target.js";

/** The holes in a directory's segment ids, when a checkpoint marker after the last covers everything before it. */
export interface TruncationGap {
  /** Every id missing, hole by hole, e.g. `segment 3` or `segments 2..4, 7`. */
  readonly missing: string;
  /** The base LSN of the first segment after the last hole. */
  readonly baseLsn: number;
  /** The newest checkpoint marker's snapshot LSN in the segments after the hole: at least `baseLsn - 1`. */
  readonly checkpointLsn: number;
}

/**
 * The last hole in the ids of `segments` (sorted by id) and the checkpoint that explains it; `null` when the ids
 * follow each other, or when no marker after the last hole covers it (then the hole is damage), or when the
 * segments after it cannot be read (the main walk reports why).
 */
export async function findTruncationGap(
  fs: WalFileSystem,
  segments: readonly TargetSegment[],
  codec: PayloadCodec<unknown>,
): Promise<TruncationGap | null> {
  let after = -1;
  let missingIds = 0;
  const holes: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1]?.id;
    const id = segments[i]?.id;
    if (previous === undefined || id === undefined || id === previous + 1) continue;
    after = i;
    missingIds += id - previous - 1;
    holes.push(id - previous === 2 ? `${previous + 1}` : `${previous + 1}..${id - 1}`);
  }
  if (after < 0) return null;
  let outcome: Awaited<ReturnType<ReturnType<typeof replaySegments>["outcome"]>>;
  try {
    const replay = replaySegments(
      segments.slice(after).map((s) => s.path),
      { codec, recovery: "point-in-time", allowTruncatedHistory: true, fs },
    );
    outcome = await replay.outcome();
  } catch {
    return null;
  }
  const baseLsn = outcome.segments[0]?.baseLsn;
  const snapshot = outcome.checkpointLsnObserved;
  if (baseLsn === undefined || snapshot === null || snapshot < baseLsn - 1) return null;
  // Every hole lies below the last one's segment, so the marker that covers the last covers them all.
  return {
    missing: `${missingIds === 1 ? "segment" : "segments"} ${holes.join(", ")}`,
    baseLsn,
    checkpointLsn: snapshot,
  };
}
