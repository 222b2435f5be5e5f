/**
 * Segment ids missing between the oldest and the newest segment of a listing: the LSNs those segments held are not
 * in the log. `verify` judges such a hole (no damage below a checkpoint marker that covers it, a truncation a crash
 * interrupted; corruption otherwise), and so does `dump`; `stat` names it, so that an operator reading its counts
 * learns that records are missing and where to look.
 */

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

/** The note for `holes` (at least one): which ids are missing where, and what tells why. */
export function segmentIdHolesNote(holes: readonly SegmentIdHole[]): string {
  return `${holesText(holes)}: the records they held are not in the log (run lora-wal verify: it tells a truncation a crash interrupted, below a checkpoint, from lost segments)`;
}

/**
 * What `holes` (at least one) are when no checkpoint marker after the last covers it (`findTruncationGap` found
 * none): lost segments, corruption as `verify` and `Wal.open` judge it.
 */
export function lostSegmentsText(holes: readonly SegmentIdHole[]): string {
  return `${holesText(holes)}, and no checkpoint marker after the hole covers it: the records it held are lost (lora-wal verify reports the same corruption)`;
}
