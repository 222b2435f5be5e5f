/**
 * The judgement of a listing's segment-id holes that `dump` and `stat` share, the one `verify` and `Wal.open` make:
 * covered by a checkpoint marker after them (a truncation a crash interrupted, no damage), or lost segments.
 */

import { framingOnlyCodec } from "./framing-codec.js";
import { createReadOnlyFileSystem } from "./read-only-fs.js";
import { type SegmentIdHole, segmentIdHoles } from "./segment-id-holes.js";
import { findTruncationGap, type TruncationGap } from "./truncation-gap.js";
import type { TargetSegment } from "./wal-target.js";

/** What the holes of a listing are: `covered` by `gap`'s checkpoint, or `lost` (corruption, `WAL_CORRUPT`). */
export type SegmentIdHoleJudgement =
  | { readonly kind: "covered"; readonly holes: readonly SegmentIdHole[]; readonly gap: TruncationGap }
  | { readonly kind: "lost"; readonly holes: readonly SegmentIdHole[] };

/**
 * Judge the holes in the ids of `segments` (a listing's, sorted by id); `null` when there is none. Markers need no
 * payload decoded, so they are read framing only whatever codec the caller reads records with, and through a file
 * system of their own (the caller's may count bytes for a progress bar, and this is extra). Segments after the hole
 * that cannot be read make it `lost`, as `findTruncationGap` finds no marker there (the caller's walk says why).
 */
export async function judgeSegmentIdHoles(segments: readonly TargetSegment[]): Promise<SegmentIdHoleJudgement | null> {
  const holes = segmentIdHoles(segments);
  if (holes.length === 0) return null;
  const gap = await findTruncationGap(createReadOnlyFileSystem(), segments, framingOnlyCodec);
  return gap === null ? { kind: "lost", holes } : { kind: "covered", holes, gap };
}
