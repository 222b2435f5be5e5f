/**
 * The fence in a replay: whether the log still holds everything after it (and after `after`), and, when a fence
 * error is thrown, the fence the caller could use instead.
 */

import { WalError, withAdvice } from "@lora/wal-codec";
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
 * `WAL_FENCE_TOO_LOW` otherwise; `undefined` when nothing is.
 */
export function historyGap(input: HistoryGapInput): HistoryGap | undefined {
  const { fence, oldestFence, path } = input;
  const after = input.after ?? 0;
  if (input.after !== undefined && after >= fence && after < oldestFence) {
    // The records after the resume point are what is missing: the change feed's error.
    const error = truncatedError(input.dir ?? path, after, oldestFence + 1);
    return isLoneMissingLsn(after + 1, oldestFence + 1) ? { error, lostBegin: after + 1 } : { error };
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
