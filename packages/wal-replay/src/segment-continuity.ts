/**
 * How a segment must follow the one before it in a replay: the next id, and a sealed predecessor. A break is
 * corruption placed at the end of the earlier segment.
 */

import { basename } from "node:path";
import { WalError } from "@lora/wal-codec";
import { parseSegmentId } from "@lora/wal-segment";
import type { CorruptionInfo, SegmentSummary } from "./replay-types.js";

/** The id a segment file's name carries, or `undefined` when the name is not a segment's. */
export function segmentIdOf(path: string): number | undefined {
  try {
    return parseSegmentId(basename(path));
  } catch {
    return undefined;
  }
}

/**
 * Rotation creates each segment with the next id, and truncation removes only segments whose records are all at
 * or below the fence. So an id missing in the middle is either what a crash during truncation leaves (an older
 * unlink undone while a newer one held: harmless when everything before `baseLsn` is at or below the fence) or a
 * lost segment whose records would otherwise vanish silently.
 */
export function missingBetween(
  previous: SegmentSummary,
  path: string,
  id: number | undefined,
  baseLsn: number,
  fence: number,
): CorruptionInfo | undefined {
  if (previous.id === undefined || id === undefined || id === previous.id + 1) return undefined;
  if (baseLsn - 1 <= fence) return undefined;
  const what =
    id - previous.id === 2
      ? `segment ${previous.id + 1} is missing`
      : `segments ${previous.id + 1}..${id - 1} are missing`;
  return corruptionAtEnd(previous, `${what} between ${previous.path} and ${path}`);
}

/**
 * Rotation seals (and fsyncs) a segment before it creates the next one, in LoraDB too: an unsealed segment with a
 * newer one after it is a stale or lost version (an old copy restored).
 */
export function staleBefore(previous: SegmentSummary, path: string): CorruptionInfo {
  return corruptionAtEnd(previous, `${previous.path} is not sealed, but ${path} follows it (a stale or lost version)`);
}

/** The details of a torn-tail or corruption error: where, in which segment. */
function damageDetails(path: string, id: number | undefined, offset: number) {
  return { path, segment: path, offset, ...(id === undefined ? {} : { segmentId: id }) };
}

/** Corruption placed at the end of `segment`, so `point-in-time` keeps that segment and moves the rest aside. */
function corruptionAtEnd(segment: SegmentSummary, why: string): CorruptionInfo {
  const error = new WalError("WAL_CORRUPT", `WAL corruption: ${why}`, {
    details: damageDetails(segment.path, segment.id, segment.endOffset),
  });
  return {
    segmentPath: segment.path,
    segmentId: segment.id,
    offset: segment.endOffset,
    error,
    validRecordAfter: undefined,
  };
}
