/**
 * The retention decision of log truncation with replication slots, as a pure function: which segments may be
 * deleted, and which slots must be invalidated first because they hold back too much of the log.
 */

import { shownValue, WalError } from "@lora/wal-codec";
import type { SlotState } from "./replication-slots.js";
import { isRestartFor } from "./resume-token.js";

/** One segment of the log, as truncation sees it. */
export interface RetentionSegment {
  readonly id: number;
  readonly path: string;
  /** The LSN of the segment's first record (the segment's header). */
  readonly baseLsn: number;
  /** The segment file's size. */
  readonly bytes: number;
}

/** What {@link planRetention} decides from. */
export interface RetentionInput {
  /** The segments in increasing id order, with non-decreasing base LSNs; the last one is the active segment. */
  readonly segments: readonly RetentionSegment[];
  /** The truncation fence (a checkpoint's snapshot LSN): records at or below it are not needed for recovery. */
  readonly fenceLsn: number;
  /** Segments with an id at or above this one are always kept (the active segment and the one before it). */
  readonly keepFromId: number;
  /** The replication slots; invalidated ones are ignored. */
  readonly slots: readonly SlotState[];
  /** The most bytes of segments one slot may keep from deletion; `Infinity` for no limit. */
  readonly maxSlotRetainedBytes: number;
}

/** A slot the plan invalidates: it must be invalidated before the segments are deleted. */
export interface RetentionInvalidation {
  readonly slot: string;
  /** The first LSN the log still holds once the plan's segments are deleted (the first kept segment's base). */
  readonly oldestRetainedLsn: number;
  /** The bytes of the segments the fence alone would delete but this slot needs: what it would have held back. */
  readonly retainedBytes: number;
  /** A sentence for the invalidation marker and for messages. */
  readonly reason: string;
}

/** What {@link planRetention} decided. */
export interface RetentionPlan {
  /** The segments to delete: a prefix of the input's segments (possibly empty), oldest first. */
  readonly drop: RetentionSegment[];
  /** The slots to invalidate before deleting, in input order. */
  readonly invalidate: RetentionInvalidation[];
  /**
   * The valid slots (in input order) that keep at least one segment the fence alone would delete, because it holds
   * records at or above their `restartLsn`.
   */
  readonly heldBackBy: string[];
}

/**
 * Decide which segments truncation may delete given the fence and the replication slots.
 *
 * @remarks
 * Guarantees:
 * - A segment is deleted only when every record in it is at or below the effective fence: the next segment's base
 *   LSN minus one is at most `min(fenceLsn, restartLsn - 1 of every slot that stays valid)`. A valid slot thus never
 *   loses a record at or above its `restartLsn` (which is at most `confirmedLsn + 1`).
 * - The last segment and every segment with an id at or above `keepFromId` are kept, and `drop` is a prefix of
 *   `segments`: a kept segment is never followed by a deleted one, so the log never gets a hole.
 * - Without valid slots, `drop` is exactly what the fence alone allows (what `truncateUpTo(fenceLsn)` deletes).
 * - A valid slot whose needs keep more than `maxSlotRetainedBytes` bytes of the segments the fence alone would
 *   delete is listed in `invalidate` and does not hold anything back; every slot that stays valid keeps at most
 *   that many bytes, and so do all of them together. Since holding back is monotone in `restartLsn`, the plan
 *   always deletes at least one segment an invalidated slot needs.
 *
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` when the input is inconsistent (ids not increasing, base LSNs
 *   decreasing, negative sizes or LSNs, duplicate slot names, a negative or NaN limit).
 */
export function planRetention(input: RetentionInput): RetentionPlan {
  assertInput(input);
  const { segments, fenceLsn, keepFromId, slots, maxSlotRetainedBytes } = input;
  // before[i] = the bytes of segments[0..i): the bytes of a dropped prefix are differences of these.
  const before = [0];
  for (const segment of segments) before.push((before.at(-1) as number) + segment.bytes);
  const fenceCount = droppablePrefix(segments, keepFromId, fenceLsn);

  const survivors: SlotState[] = [];
  const overLimit: { slot: SlotState; retainedBytes: number }[] = [];
  const heldBackBy: string[] = [];
  for (const slot of slots) {
    if (slot.invalidated !== null) continue;
    const count = droppablePrefix(segments, keepFromId, Math.min(fenceLsn, slot.restartLsn - 1));
    const retainedBytes = (before[fenceCount] as number) - (before[count] as number);
    if (retainedBytes > maxSlotRetainedBytes) {
      overLimit.push({ slot, retainedBytes });
      continue;
    }
    survivors.push(slot);
    if (count < fenceCount) heldBackBy.push(slot.name);
  }

  let effectiveFence = fenceLsn;
  for (const slot of survivors) effectiveFence = Math.min(effectiveFence, slot.restartLsn - 1);
  const dropCount = droppablePrefix(segments, keepFromId, effectiveFence);
  const drop = segments.slice(0, dropCount);

  // overLimit is only non-empty when the fence drops something, so the last segment (never dropped) is there.
  const firstKept = segments[dropCount];
  const invalidate = overLimit.map(({ slot, retainedBytes }): RetentionInvalidation => {
    const oldestRetainedLsn = (firstKept as RetentionSegment).baseLsn;
    return {
      slot: slot.name,
      oldestRetainedLsn,
      retainedBytes,
      reason:
        `slot ${shownValue(slot.name)} at LSN ${slot.confirmedLsn}` +
        (slot.restartLsn <= slot.confirmedLsn ? ` (restarting at ${slot.restartLsn})` : "") +
        ` would hold back ${retainedBytes} bytes of log ` +
        `(the limit is ${maxSlotRetainedBytes}); the log now starts at LSN ${oldestRetainedLsn}`,
    };
  });
  return { drop, invalidate, heldBackBy };
}

/**
 * How many segments from the start may go with everything at or below `fence` unneeded: the longest prefix of
 * segments, none of them the last or at/above `keepFromId`, whose records (up to the next segment's base minus
 * one) are all at or below `fence`.
 */
function droppablePrefix(segments: readonly RetentionSegment[], keepFromId: number, fence: number): number {
  let count = 0;
  for (; count < segments.length - 1; count++) {
    const segment = segments[count] as RetentionSegment;
    const next = segments[count + 1] as RetentionSegment;
    if (segment.id >= keepFromId || next.baseLsn - 1 > fence) break;
  }
  return count;
}

function assertInput(input: RetentionInput): void {
  if (typeof input !== "object" || input === null) invalid("planRetention needs an input object");
  const { segments, fenceLsn, keepFromId, slots, maxSlotRetainedBytes } = input;
  if (!Array.isArray(segments)) invalid("segments must be an array");
  if (!Array.isArray(slots)) invalid("slots must be an array");
  assertNonNegative("fenceLsn", fenceLsn);
  if (!Number.isSafeInteger(keepFromId)) invalid(`keepFromId must be a safe integer, got ${show(keepFromId)}`);
  if (typeof maxSlotRetainedBytes !== "number" || !(maxSlotRetainedBytes >= 0)) {
    invalid(`maxSlotRetainedBytes must be a non-negative number or Infinity, got ${show(maxSlotRetainedBytes)}`);
  }
  let previous: RetentionSegment | undefined;
  for (const segment of segments) {
    if (!Number.isSafeInteger(segment.id)) invalid(`segment id must be a safe integer, got ${show(segment.id)}`);
    assertNonNegative(`baseLsn of segment ${segment.id}`, segment.baseLsn);
    assertNonNegative(`bytes of segment ${segment.id}`, segment.bytes);
    if (previous !== undefined && segment.id <= previous.id) {
      invalid(`segments must be in increasing id order: ${segment.id} follows ${previous.id}`);
    }
    if (previous !== undefined && segment.baseLsn < previous.baseLsn) {
      invalid(`segment ${segment.id} starts at LSN ${segment.baseLsn}, below segment ${previous.id}'s base`);
    }
    previous = segment;
  }
  const names = new Set<string>();
  for (const slot of slots) {
    if (names.has(slot.name)) invalid(`slot ${shownValue(slot.name)} is listed twice`);
    names.add(slot.name);
    assertNonNegative(`confirmedLsn of slot ${shownValue(slot.name)}`, slot.confirmedLsn);
    assertNonNegative(`restartLsn of slot ${shownValue(slot.name)}`, slot.restartLsn);
    if (!isRestartFor(slot.confirmedLsn, slot.restartLsn)) {
      invalid(
        `restartLsn of slot ${shownValue(slot.name)} must lie between 1 and confirmedLsn + 1, got ${slot.restartLsn}`,
      );
    }
  }
}

function assertNonNegative(what: string, n: unknown): void {
  if (!Number.isSafeInteger(n) || (n as number) < 0)
    invalid(`${what} must be a non-negative safe integer, got ${show(n)}`);
}

function show(value: unknown): string {
  return typeof value === "number" ? String(value) : typeof value;
}

function invalid(message: string): never {
  throw new WalError("WAL_INVALID_ARGUMENT", message);
}
