/**
 * Segment ids missing between the oldest and the newest segment of a listing: the LSNs those segments held are not
 * in the log. `verify` judges such a hole (no damage below a checkpoint marker that covers it, a truncation a crash
 * interrupted; corruption otherwise), and `dump` and `stat` judge it the same way (`judgeSegmentIdHoles`) and
 * say it in the words kept here.
 */

import type { TruncationGap } from "./truncation-gap.js";
import type { TargetSegment } from "./wal-target.js";

/** A listed segment, as a hole names it. */
interface Listed {
  readonly id: number;
  readonly name: string;
}

/** One run of missing ids: the segments listed on either side of it. */
export interface SegmentIdHole {
  readonly before: Listed;
  readonly after: Listed;
}

/** The holes in the ids of `segments` (sorted by id, as a listing gives them), in order. */
export function segmentIdHoles(segments: readonly Pick<TargetSegment, "id" | "name">[]): SegmentIdHole[] {
  const holes: SegmentIdHole[] = [];
  for (let i = 1; i < segments.length; i++) {
    const before = segments[i - 1];
    const after = segments[i];
    // A single file (no id) has no neighbours.
    if (before?.id === undefined || after?.id === undefined || after.id <= before.id + 1) continue;
    holes.push({ before: { id: before.id, name: before.name }, after: { id: after.id, name: after.name } });
  }
  return holes;
}

/** Which ids are missing where, hole by hole. */
function holesText(holes: readonly SegmentIdHole[]): string {
  const named = holes.map(({ before, after }) => {
    const missing =
      after.id - before.id === 2 ? `segment ${before.id + 1} is` : `segments ${before.id + 1}..${after.id - 1} are`;
    return `${missing} missing between ${before.name} and ${after.name}`;
  });
  return named.join("; ");
}

/**
 * What holes a checkpoint marker after them covers (`gap`, found by `findTruncationGap`) are: verify's `history`
 * line, said of what the command printed before the segment after the last hole (`before`: `"the rows"` for dump,
 * `"the records counted"` for stat), which lies below that checkpoint, and the fence a reader opens the log with.
 */
export function coveredHoleNote(gap: TruncationGap, holes: readonly SegmentIdHole[], before: string): string {
  const after = holes.at(-1)?.after.name as string;
  return `${gap.missing} missing below the checkpoint at LSN ${gap.checkpointLsn} (a truncation a crash interrupted; the next truncation removes the rest): ${before} before ${after} lie below that checkpoint, and a reader opens the log with a checkpointLsn of at least ${gap.baseLsn - 1} (lora-wal verify names the lowest that works)`;
}

/**
 * What `holes` (at least one) are when no checkpoint marker after the last covers it (`findTruncationGap` found
 * none): lost segments, corruption as `verify` and `Wal.open` judge it.
 */
export function lostSegmentsText(holes: readonly SegmentIdHole[]): string {
  return `${holesText(holes)}, and no checkpoint marker after the hole covers it: the records it held are lost (lora-wal verify reports the same corruption)`;
}
