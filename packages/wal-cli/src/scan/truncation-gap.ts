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

/** The last hole in a directory's segment ids, when a checkpoint marker after it covers everything before it. */
export interface TruncationGap {
  /** The ids missing before the segment after the last hole, e.g. `segment 3` or `segments 2..4`. */
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
  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1]?.id;
    const id = segments[i]?.id;
    if (previous !== undefined && id !== undefined && id !== previous + 1) after = i;
  }
  if (after < 0) return null;
  const first = segments[after] as TargetSegment;
  const previousId = segments[after - 1]?.id as number;
  const firstId = first.id as number;
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
  const missing =
    firstId - previousId === 2 ? `segment ${previousId + 1}` : `segments ${previousId + 1}..${firstId - 1}`;
  return { missing, baseLsn, checkpointLsn: snapshot };
}
