/**
 * The retention decision of log truncation with replication slots, as a pure function: which segments may be
 * deleted, and which slots must be invalidated first because they hold back too much of the log.
 */

import {
  checkOptionNames,
  copyOfArray,
  isWalError,
  MAX_ARRAY_ARGUMENT_LENGTH,
  optionNames,
  readCallerValue,
  shownValue,
  WalError,
} from "@lora/wal-codec";
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
  /**
   * The replication slots; invalidated ones are ignored. `invalidated` must be there, `null` for a valid slot: one
   * without it is refused, not taken as invalidated (its segments would be deleted).
   */
  readonly slots: readonly SlotState[];
  /** The most bytes of segments one slot may keep from deletion; `Infinity` for no limit. */
  readonly maxSlotRetainedBytes: number;
}

/** Every property {@link planRetention} reads of its input; any other name is refused (`WAL_INVALID_ARGUMENT`). */
const RETENTION_INPUT_NAMES = optionNames<RetentionInput>()(
  "segments",
  "fenceLsn",
  "keepFromId",
  "slots",
  "maxSlotRetainedBytes",
);

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
  /**
   * The segments to delete: the input's first segments (possibly none), oldest first, as read (copies of their `id`,
   * `path`, `baseLsn` and `bytes`: what the plan was made from is what the caller deletes).
   */
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
 * Each value of the input (each property, each array's length and element, each segment's and slot's field) is read
 * once, and the plan is made from what was read; a slot's `createdAtMs` is not read. `segments` and `slots` are
 * arrays of at most `MAX_ARRAY_ARGUMENT_LENGTH` (2^24) objects.
 *
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` when the input is not one or is inconsistent (not an object, a
 *   property it does not know, refused before any is read as every entry point refuses an unknown option:
 *   `details.option` names it, `details.knownOptions` the five, and the message the one likely meant;
 *   `segments` or `slots` not an array of objects or longer than the bound, ids not increasing, base LSNs
 *   decreasing, a path that is not a non-empty string without NUL bytes, sizes, ids, LSNs or `keepFromId` that are
 *   not non-negative safe integers, a slot name that is not a string, duplicate slot names, an `invalidated` that is
 *   neither `null` nor an object, a negative or NaN limit), and when a value throws when read (the throw as the
 *   `cause`), before anything is planned.
 */
export function planRetention(input: RetentionInput): RetentionPlan {
  const { segments, fenceLsn, keepFromId, slots, maxSlotRetainedBytes } = readInput(input);
  // before[i] = the bytes of segments[0..i): the bytes of a dropped prefix are differences of these.
  const before = [0];
  for (const segment of segments) before.push((before.at(-1) as number) + segment.bytes);
  const fenceCount = droppablePrefix(segments, keepFromId, fenceLsn);

  const survivors: SlotRead[] = [];
  const overLimit: { slot: SlotRead; retainedBytes: number }[] = [];
  const heldBackBy: string[] = [];
  for (const slot of slots) {
    if (slot.invalidated) continue;
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

/** A slot as {@link planRetention} read it: the fields it decides from, each read once. */
interface SlotRead {
  readonly name: string;
  readonly confirmedLsn: number;
  readonly restartLsn: number;
  readonly invalidated: boolean;
}

/** The input as read, each value once: the plan is made from (and returns) these, never the caller's objects. */
interface InputRead {
  readonly segments: readonly RetentionSegment[];
  readonly fenceLsn: number;
  readonly keepFromId: number;
  readonly slots: readonly SlotRead[];
  readonly maxSlotRetainedBytes: number;
}

/**
 * Read and check the input: each of its properties, each array's length and elements, and each field of a segment
 * or a slot read once, in that order, so a getter or a proxy that answers differently (or throws) the next time
 * cannot have the plan check one value and use another. What throws when read is refused with its throw as the cause.
 */
function readInput(input: unknown): InputRead {
  if (typeof input !== "object" || input === null) invalid("planRetention needs an input object");
  const field = (from: object, name: string, what: string): unknown =>
    readCallerValue(
      () => (from as Record<string, unknown>)[name],
      "WAL_INVALID_ARGUMENT",
      `planRetention: reading ${what}`,
    );
  // Each property read once, by the check of its names; what it read is what is planned from.
  const { fenceLsn, keepFromId, maxSlotRetainedBytes, ...lists } = inputProperties(input);
  const segmentList = listOf(lists.segments, "segments");
  const slotList = listOf(lists.slots, "slots");
  assertNonNegative("fenceLsn", fenceLsn);
  assertNonNegative("keepFromId", keepFromId);
  if (typeof maxSlotRetainedBytes !== "number" || !(maxSlotRetainedBytes >= 0)) {
    invalid(`maxSlotRetainedBytes must be a non-negative number or Infinity, got ${show(maxSlotRetainedBytes)}`);
  }
  const segments: RetentionSegment[] = [];
  let previous: RetentionSegment | undefined;
  for (const [i, given] of segmentList.entries()) {
    const id = field(given, "id", `segments[${i}].id`);
    const path = field(given, "path", `segments[${i}].path`);
    const baseLsn = field(given, "baseLsn", `segments[${i}].baseLsn`);
    const bytes = field(given, "bytes", `segments[${i}].bytes`);
    assertNonNegative("segment id", id);
    if (typeof path !== "string" || path === "" || path.includes("\0")) {
      invalid(`path of segment ${id} must be a non-empty string without NUL bytes, got ${shownValue(path)}`);
    }
    assertNonNegative(`baseLsn of segment ${id}`, baseLsn);
    assertNonNegative(`bytes of segment ${id}`, bytes);
    const segment: RetentionSegment = { id, path, baseLsn, bytes };
    if (previous !== undefined && segment.id <= previous.id) {
      invalid(`segments must be in increasing id order: ${segment.id} follows ${previous.id}`);
    }
    if (previous !== undefined && segment.baseLsn < previous.baseLsn) {
      invalid(`segment ${segment.id} starts at LSN ${segment.baseLsn}, below segment ${previous.id}'s base`);
    }
    segments.push(segment);
    previous = segment;
  }
  const names = new Set<string>();
  const slots: SlotRead[] = [];
  for (const [i, given] of slotList.entries()) {
    const name = field(given, "name", `slots[${i}].name`);
    const confirmedLsn = field(given, "confirmedLsn", `slots[${i}].confirmedLsn`);
    const restartLsn = field(given, "restartLsn", `slots[${i}].restartLsn`);
    const invalidated = field(given, "invalidated", `slots[${i}].invalidated`);
    if (typeof name !== "string") invalid(`the name of slots[${i}] must be a string, got ${shownValue(name)}`);
    if (names.has(name)) invalid(`slot ${shownValue(name)} is listed twice`);
    names.add(name);
    assertNonNegative(`confirmedLsn of slot ${shownValue(name)}`, confirmedLsn);
    assertNonNegative(`restartLsn of slot ${shownValue(name)}`, restartLsn);
    if (!isRestartFor(confirmedLsn, restartLsn)) {
      invalid(`restartLsn of slot ${shownValue(name)} must lie between 1 and confirmedLsn + 1, got ${restartLsn}`);
    }
    // Anything but null or an invalidation is a mistake: read as "invalidated", a slot without the field would be
    // ignored, and the segments it needs deleted.
    if (typeof invalidated !== "object") {
      invalid(
        `invalidated of slot ${shownValue(name)} must be null or an invalidation, got ${shownValue(invalidated)}`,
      );
    }
    slots.push({ name, confirmedLsn, restartLsn, invalidated: invalidated !== null });
  }
  return { segments, fenceLsn, keepFromId, slots, maxSlotRetainedBytes };
}

/**
 * The input's properties, each read once, after refusing a name it does not know as every entry point refuses an
 * unknown option (`checkOptionNames`: a misspelled `keepFromId` would otherwise be ignored, and the plan made
 * without it). The input is an argument, and every mistake in it is `WAL_INVALID_ARGUMENT`: so is this one, and a
 * property that throws when read.
 */
function inputProperties(input: object): Partial<Record<keyof RetentionInput, unknown>> {
  try {
    return checkOptionNames(input, RETENTION_INPUT_NAMES, "planRetention") as Partial<
      Record<keyof RetentionInput, unknown>
    >;
  } catch (error) {
    if (!isWalError(error, "WAL_INVALID_OPTION")) throw error;
    throw new WalError("WAL_INVALID_ARGUMENT", error.message, { cause: error.cause, details: error.details });
  }
}

/** `value` copied as a list of objects (see `copyOfArray`: at most `MAX_ARRAY_ARGUMENT_LENGTH` of them). */
function listOf(value: unknown, what: "segments" | "slots"): object[] {
  const copy = readCallerValue(
    () => copyOfArray(value, (element): element is object => typeof element === "object" && element !== null),
    "WAL_INVALID_ARGUMENT",
    `planRetention: reading ${what}`,
  );
  if (copy === undefined) {
    invalid(
      `${what} must be an array of objects, at most ${MAX_ARRAY_ARGUMENT_LENGTH} of them, got ${shownValue(value)}`,
    );
  }
  return copy;
}

function assertNonNegative(what: string, n: unknown): asserts n is number {
  if (!Number.isSafeInteger(n) || (n as number) < 0)
    invalid(`${what} must be a non-negative safe integer, got ${show(n)}`);
}

function show(value: unknown): string {
  return typeof value === "number" ? String(value) : typeof value;
}

function invalid(message: string): never {
  throw new WalError("WAL_INVALID_ARGUMENT", message);
}
