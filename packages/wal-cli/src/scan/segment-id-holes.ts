/**
 * What `dump` and `stat` say of segment ids missing between the oldest and the newest segment of a listing, judged
 * by `judgeSegmentIdHoles` of `@lora/wal-replay` as `verify` and `Wal.open` judge them: no damage below a checkpoint
 * marker that covers them (a truncation a crash interrupted), lost segments otherwise.
 */

import { basename } from "node:path";
import {
  judgeSegmentIdHoles,
  missingIds,
  type SegmentIdHole,
  type SegmentIdHoleJudgement,
  segmentIdHolesText,
} from "@lora/wal-replay";
import { createReadOnlyFileSystem } from "./read-only-fs.js";
import type { WalTarget } from "./wal-target.js";

/**
 * The judgement of the segment-id holes of a listing (`judgeSegmentIdHoles`); `undefined` for a single file and for
 * a listing whose ids follow each other. Markers need no payload decoded, so they are read framing only whatever
 * codec the command reads records with, and through a read-only file system of their own (the command's may count
 * bytes for a progress bar, and this is extra).
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` as `judgeSegmentIdHoles` throws it, such as for a segment after
 *   a hole removed since the listing.
 */
export async function judgeListingHoles(target: WalTarget): Promise<SegmentIdHoleJudgement | undefined> {
  if (target.kind !== "directory") return undefined;
  return judgeSegmentIdHoles(
    createReadOnlyFileSystem(),
    target.segments.map((s) => s.path),
  );
}

/**
 * What holes a checkpoint marker after them covers are: verify's `history` line, said of what the command printed
 * before the segment after the last hole (`before`: `"the rows"` for dump, `"the records counted"` for stat), which
 * lies below that checkpoint, and the fence a reader opens the log with.
 */
export function coveredHoleNote(judged: Extract<SegmentIdHoleJudgement, { kind: "covered" }>, before: string): string {
  return `${missingIds(judged.holes)} missing below the checkpoint at LSN ${judged.checkpointLsn} (a truncation a crash interrupted; the next truncation removes the rest): ${before} before ${basename(judged.after.path)} lie below that checkpoint, and a reader opens the log with a checkpointLsn of at least ${judged.baseLsn - 1} (lora-wal verify names the lowest that works)`;
}

/**
 * What `holes` (at least one) are when no checkpoint marker after the last covers it: lost segments, corruption as
 * `verify` and `Wal.open` judge it.
 */
export function lostSegmentsText(holes: readonly SegmentIdHole[]): string {
  return `${segmentIdHolesText(holes)}, and no checkpoint marker after the hole covers it: the records it held are lost (lora-wal verify reports the same corruption)`;
}
