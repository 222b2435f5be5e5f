/**
 * The fence in a replay: whether the log still holds everything after it (and after `after`), and, when a fence
 * error is thrown, the fence the caller could use instead.
 */

import { WalError, withAdvice } from "@lora/wal-codec";
import { type CoveredHole, holeText } from "./hole-cover.js";
import { segmentHoleError } from "./segment-hole.js";
import { isLoneMissingLsn, truncatedError } from "./segment-locate.js";
import type { TransactionSpans } from "./transaction-spans.js";

/** What the first segment of a walk is checked against (see {@link historyGapError}). */
export interface HistoryGapInput {
  /** The fence (`checkpointLsn`, 0 when none). */
  readonly fence: number;
  /** The resume point `after`, when one was given. */
  readonly after: number | undefined;
  /** The base LSN of the log's oldest segment minus one: the records at or below it are all that can be missing. */
  readonly oldestFence: number;
  /** The directory replayed, or undefined for explicit files. */
  readonly dir: string | undefined;
  /** The first segment's path. */
  readonly path: string;
  /** The covered hole the walk starts after (`oldestFence` is then the base LSN after it minus one), if any. */
  readonly hole?: CoveredHole | undefined;
}

/** What a log that no longer holds the records after the fence or after `after` means for the walk. */
export interface HistoryGap {
  /** The error to throw. */
  readonly error: WalError;
  /**
   * Set when the walk may go on anyway: only this LSN, the one after `after`, is missing (see `isLoneMissingLsn`),
   * and `error` is thrown at the first retained record of a transaction begun at it.
   */
  readonly lostBegin?: number;
}

/**
 * The gap of a log that no longer holds the records after the fence or after `after`: `WAL_TRUNCATED` when the
 * records after the resume point are what is missing (deferred when that is one LSN: see {@link HistoryGap}),
 * `WAL_FENCE_TOO_LOW` otherwise; `undefined` when nothing is. Both name the covered hole the walk starts after, if
 * any: what is missing then lies in the hole, not before the oldest segment.
 */
export function historyGap(input: HistoryGapInput): HistoryGap | undefined {
  const { fence, oldestFence, path, hole } = input;
  const after = input.after ?? 0;
  if (input.after !== undefined && after >= fence && after < oldestFence) {
    // The records after the resume point are what is missing: the change feed's error (a follower's, for a hole).
    const dir = input.dir ?? path;
    const error =
      hole === undefined
        ? truncatedError(dir, after, oldestFence + 1)
        : segmentHoleError({
            dir,
            current: hole.before,
            next: hole.after,
            nextBaseLsn: hole.baseLsn,
            lastLsn: after,
            coveredBy: hole.checkpointLsn,
          });
    return isLoneMissingLsn(after + 1, oldestFence + 1) ? { error, lostBegin: after + 1 } : { error };
  }
  if (Math.max(fence, after) < oldestFence && hole !== undefined) {
    // The fence named is the lowest a replay accepts; above the snapshot when a transaction runs across the hole and
    // past the snapshot, whose reader (the application that checkpointed) then has no fence that opens the log.
    const one =
      hole.usableFence <= hole.checkpointLsn
        ? `(the lowest is ${hole.usableFence})`
        : `(the lowest is ${hole.usableFence}, after the commit of a transaction that began in the hole (the checkpoint's snapshot ${hole.checkpointLsn} lies inside it, so no fence at or below the snapshot opens the log))`;
    const error = new WalError(
      "WAL_FENCE_TOO_LOW",
      `the fence ${fence} is below what the log holds whole: ${holeText(hole)}, so the log is whole from lsn ${oldestFence + 1} on (${path}), and replaying from the fence would silently miss the records in the hole; replay (or open) with a checkpointLsn at or above ${oldestFence} outside a transaction ${one}, or with allowTruncatedHistory to read the log from lsn ${oldestFence + 1}`,
      { details: { path, segment: path, oldestFence } },
    );
    return { error };
  }
  if (Math.max(fence, after) < oldestFence) {
    const error = new WalError(
      "WAL_FENCE_TOO_LOW",
      `the fence ${fence} is below what the log holds: its oldest segment ${path} starts at lsn ${oldestFence + 1}, so the records after the fence up to there are gone (truncated, or never in this log); replaying would silently miss them`,
      { details: { path, segment: path, oldestFence } },
    );
    return { error };
  }
  return undefined;
}

/** The log's transaction boundaries, and the fence its oldest segment implies. */
export interface SpanMap {
  readonly spans: TransactionSpans;
  readonly oldestFence: number;
}

/** Whether `error` is a fence error that {@link withUsableFence} can complete. */
export function isFenceError(error: unknown): error is WalError {
  if (!(error instanceof WalError)) return false;
  return error.code === "WAL_FENCE_IN_TRANSACTION" || error.code === "WAL_FENCE_TOO_LOW";
}

/**
 * A fence error completed with the fence the caller can use, found in `map` (the log's transaction boundaries,
 * mapped by a second, lenient walk).
 */
export function withUsableFence(error: WalError, fence: number, map: SpanMap): WalError {
  const usable =
    error.code === "WAL_FENCE_TOO_LOW"
      ? map.spans.lowestBoundaryAtOrAbove(map.oldestFence)
      : map.spans.highestBoundaryAtOrBelow(fence, map.oldestFence);
  const advice =
    usable === undefined
      ? "no fence at or below it lies outside a transaction in the retained log"
      : error.code === "WAL_FENCE_TOO_LOW"
        ? `the lowest fence it can serve is ${usable}`
        : `the highest fence at or below it outside a transaction is ${usable}`;
  const completed = new WalError(error.code, error.message, {
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    details: {
      ...error.details,
      oldestFence: map.oldestFence,
      ...(usable === undefined ? {} : { usableFence: usable }),
    },
  });
  return withAdvice(completed, advice);
}
