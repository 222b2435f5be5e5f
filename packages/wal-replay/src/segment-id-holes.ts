/**
 * Segment ids missing between the oldest and the newest segment of a listing, and the words every reader names them
 * in: replay's fence and truncation errors, a follower's `WAL_TRUNCATED`, and `lora-wal` `verify`, `dump` and `stat`
 * all say "segment 3 is missing between 0000000002.wal and 0000000004.wal" from here, so they cannot drift apart.
 */

import { basename } from "node:path";
import { segmentIdOf } from "./segment-continuity.js";

/** A listed segment beside a hole. */
export interface HoleSide {
  readonly id: number;
  readonly path: string;
}

/** One run of missing ids: the segments listed on either side of it. */
export interface SegmentIdHole {
  readonly before: HoleSide;
  readonly after: HoleSide;
}

/**
 * The holes in the ids of `paths` (oldest first, as a listing gives them), in order. A path whose name carries no
 * segment id has no neighbours.
 */
export function segmentIdHoles(paths: readonly string[]): SegmentIdHole[] {
  const holes: SegmentIdHole[] = [];
  for (let i = 1; i < paths.length; i++) {
    const beforePath = paths[i - 1] as string;
    const afterPath = paths[i] as string;
    const before = segmentIdOf(beforePath);
    const after = segmentIdOf(afterPath);
    if (before === undefined || after === undefined || after <= before + 1) continue;
    holes.push({ before: { id: before, path: beforePath }, after: { id: after, path: afterPath } });
  }
  return holes;
}

/** The ids one hole lacks: `3` or `2..4`. */
function idRun({ before, after }: SegmentIdHole): string {
  return after.id - before.id === 2 ? `${before.id + 1}` : `${before.id + 1}..${after.id - 1}`;
}

/** How many ids `holes` lack. */
function missingCount(holes: readonly SegmentIdHole[]): number {
  return holes.reduce((sum, { before, after }) => sum + after.id - before.id - 1, 0);
}

/** The ids `holes` lack, hole by hole: `segment 3`, `segments 2..4, 7`. */
export function missingIds(holes: readonly SegmentIdHole[]): string {
  return `${missingCount(holes) === 1 ? "segment" : "segments"} ${holes.map(idRun).join(", ")}`;
}

/** One hole, where it is: `segment 3 is missing between 0000000002.wal and 0000000004.wal`. */
export function holeRunText(hole: SegmentIdHole): string {
  const ids = missingIds([hole]);
  return `${ids} ${ids.startsWith("segments") ? "are" : "is"} missing between ${basename(hole.before.path)} and ${basename(hole.after.path)}`;
}

/** Every hole, where it is: {@link holeRunText} of each, joined by `; `. */
export function segmentIdHolesText(holes: readonly SegmentIdHole[]): string {
  return holes.map(holeRunText).join("; ");
}
