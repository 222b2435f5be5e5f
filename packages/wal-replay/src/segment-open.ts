/**
 * Opening the next segment of a replay's walk, and the checks it must pass before its records are read: a
 * headerless newest segment, how it follows the previous one, whether the log still holds what the fence and `after`
 * need, and whether anything in it can be at or below `upto`.
 */

import type { WalError } from "@lora/wal-codec";
import { SegmentReader, type SegmentReaderOptions, type WalFileSystem } from "@lora/wal-segment";
import type { CoveredHole } from "./hole-cover.js";
import { lookAgainAtNewest } from "./newest-segment-look.js";
import type { ReplayFindings } from "./replay-damage.js";
import { historyGap } from "./replay-fence.js";
import type { RecoveryMode, SegmentSummary } from "./replay-types.js";
import { missingBetween, staleBefore } from "./segment-continuity.js";

/** What opening a segment needs to know. */
export interface SegmentOpenInput {
  readonly fs: WalFileSystem;
  readonly path: string;
  /** The id its name carries. */
  readonly id: number | undefined;
  /** Whether it is the last planned segment (the newest). */
  readonly isLast: boolean;
  /** The summary of the segment walked before it, if any. */
  readonly previous: SegmentSummary | undefined;
  readonly readerOptions: SegmentReaderOptions;
  /** Where a headerless newest segment or a reported gap or stale segment is recorded. */
  readonly found: ReplayFindings;
  readonly mode: RecoveryMode;
  /** The fence (`checkpointLsn`, 0 when none). */
  readonly fence: number;
  readonly allowTruncatedHistory: boolean | undefined;
  /** `after`, when given. */
  readonly after: number | undefined;
  /** What the plan says besides the paths (see `ReplayPlan`). */
  readonly oldestBaseLsn: number | undefined;
  /** The covered hole the plan starts after, if any (see `ReplayPlan`). */
  readonly hole: CoveredHole | undefined;
  readonly dir: string | undefined;
  /** `upto`, or Infinity. */
  readonly upto: number;
  /**
   * Told when the walk goes on with one LSN missing after `after` (see `HistoryGap.lostBegin`): `error` is to be
   * thrown at the first record of a transaction begun at `lostBegin`.
   */
  readonly onLostBegin: (lostBegin: number, error: WalError) => void;
}

/**
 * Open the segment and check how it follows the previous one: its reader, or `undefined` when the sweep ends
 * without it (a headerless newest segment, a reported gap or stale segment, or a segment wholly above `upto`).
 * @throws the open's error when the segment is not a headerless newest one, a gap or stale segment's corruption
 *   unless the mode is `point-in-time`, and the fence errors of {@link historyGap}.
 */
export async function openSegment(input: SegmentOpenInput): Promise<SegmentReader | undefined> {
  const { path, id, previous } = input;
  let reader: SegmentReader;
  try {
    reader = await SegmentReader.open(input.fs, path, input.readerOptions);
  } catch (error) {
    if (!input.isLast) throw error;
    const again = await openNewestAgain(input, error);
    if (again === undefined) return missingBeforeHeaderless(input);
    reader = again;
  }
  const between =
    previous === undefined
      ? undefined
      : (missingBetween(previous, path, id, reader.header.baseLsn, input.fence) ??
        (previous.sealed ? undefined : staleBefore(previous, path)));
  if (between !== undefined) {
    await reader.close();
    input.found.corruption = between;
    if (input.mode !== "point-in-time") throw between.error;
    return undefined;
  }
  if (previous === undefined && !input.allowTruncatedHistory) {
    const gap = historyGap({
      fence: input.fence,
      after: input.after,
      oldestFence: (input.oldestBaseLsn ?? reader.header.baseLsn) - 1,
      dir: input.dir,
      path,
      hole: input.hole,
    });
    if (gap?.lostBegin !== undefined) input.onLostBegin(gap.lostBegin, gap.error);
    else if (gap !== undefined) {
      await reader.close();
      throw gap.error;
    }
  }
  if (reader.header.baseLsn > input.upto) {
    // Every record of this segment and the ones after it lies above the bound.
    await reader.close();
    return undefined;
  }
  return reader;
}

/**
 * A headerless newest segment was being created by a rotation, so the segment before it existed: an id missing in
 * between is a lost segment (truncation keeps the segment before the active one), never what a crash leaves. With
 * no base LSN to compare with the fence, it is corruption at the end of the previous segment, as a gap between two
 * readable segments is; in `point-in-time` the headerless segment is then moved aside with the rest, not removed.
 * @throws the gap's corruption unless the mode is `point-in-time`.
 */
function missingBeforeHeaderless(input: SegmentOpenInput): undefined {
  const { previous } = input;
  const gap =
    previous === undefined
      ? undefined
      : missingBetween(previous, input.path, input.id, Number.POSITIVE_INFINITY, input.fence);
  if (gap === undefined) return undefined;
  input.found.headerless = null;
  input.found.corruption = gap;
  if (input.mode !== "point-in-time") throw gap.error;
  return undefined;
}

/**
 * After the open of the newest segment failed with `error`: `undefined` when it holds no records (recorded as
 * headerless in `found`), or a reader when a live writer's header landed between the failed read and the second
 * look (see {@link lookAgainAtNewest}: a file gone by then is headerless, size 0).
 * @throws `error` when it is not a header failure; the second failure when the header still does not read.
 */
async function openNewestAgain(input: SegmentOpenInput, error: unknown): Promise<SegmentReader | undefined> {
  const { path, id } = input;
  const look = await lookAgainAtNewest(input.fs, path, error, () =>
    SegmentReader.open(input.fs, path, input.readerOptions),
  );
  if (look.kind === "opened") return look.value;
  input.found.headerless = { path, id, fileSize: look.fileSize };
  return undefined;
}
