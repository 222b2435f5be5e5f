/**
 * The record walk shared by `inspect`, `dump` and `stat`: every segment of a target is read on its own (damage in
 * one segment ends that segment, not the walk, so an operator sees everything that is still readable), and each
 * piece of damage is classified with the rules replay uses (FORMAT §5.3):
 *
 * - **torn tail**: damage in the newest segment that is not a CRC-valid frame and has no CRC-valid record with a
 *   higher LSN after it (a crash mid-write); also a newest segment without a header (a crash while creating it);
 * - **corruption**: anything else (damage in an older segment, damage followed by valid data, a CRC-valid record
 *   the codec cannot decode);
 * - **bad header**: a segment whose header is unreadable.
 *
 * Structure (LSN order, transaction bracketing) is not checked here; `verify` does that through replay.
 */

import { isWalError, type PayloadCodec, type WalError, type WalErrorCode, type WalRecord } from "@lora/wal-codec";
import { SEGMENT_HEADER_BYTES, type SegmentHeader, SegmentReader, type WalFileSystem } from "@lora/wal-segment";
import type { TargetSegment, WalTarget } from "./wal-target.js";

/** Damage found in one segment. */
export interface SegmentDamage {
  readonly kind: "torn-tail" | "corruption" | "bad-header" | "headerless";
  /** Where the bad bytes start (0 for header problems). */
  readonly offset: number;
  readonly code: WalErrorCode;
  readonly message: string;
  /** Bytes from `offset` to the end of the file. */
  readonly bytesAfter: number;
  /** The first CRC-valid record after the damage, when that is what made it corruption. */
  readonly validRecordAfter?: { readonly offset: number; readonly lsn: number };
}

/** What the walk saw in one segment. */
export interface SegmentScan {
  readonly id: number | undefined;
  readonly name: string;
  readonly path: string;
  readonly fileSize: number;
  /** `null` when the header could not be read. */
  readonly header: SegmentHeader | null;
  readonly records: number;
  readonly firstLsn: number | undefined;
  readonly lastLsn: number | undefined;
  /** The end of the last good record. */
  readonly endOffset: number;
  readonly damage: SegmentDamage | null;
}

/** One step of {@link scanTarget}. */
export type ScanEvent<E> =
  | {
      readonly type: "record";
      readonly segment: TargetSegment;
      readonly offset: number;
      readonly byteLength: number;
      readonly record: WalRecord<E>;
    }
  /** Emitted once a segment has been read to its end or its first damage. */
  | { readonly type: "segment"; readonly scan: SegmentScan };

export interface ScanOptions<E> {
  readonly codec: PayloadCodec<E>;
  /** Must be read-only in the CLI (see `createReadOnlyFileSystem`). */
  readonly fs: WalFileSystem;
  /** Index of the first segment to read (earlier ones are skipped entirely). @default 0 */
  readonly startSegment?: number;
}

const ZERO_CHECK_LIMIT = 1 << 20;

/**
 * Walk `target` segment by segment, yielding its records and a summary after each segment. Stop early by
 * breaking out of the loop; files are closed in `finally`.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when a file cannot be read.
 */
export async function* scanTarget<E>(target: WalTarget, options: ScanOptions<E>): AsyncGenerator<ScanEvent<E>> {
  const { codec, fs } = options;
  let lastLsn = 0;
  const segments = target.segments;
  for (let i = options.startSegment ?? 0; i < segments.length; i++) {
    const segment = segments[i] as TargetSegment;
    const isLast = i === segments.length - 1;
    let reader: SegmentReader;
    try {
      reader = await SegmentReader.open(fs, segment.path);
    } catch (error) {
      if (!isWalError(error, "WAL_BAD_HEADER")) throw error;
      yield { type: "segment", scan: await headerFailure(fs, segment, error, isLast && target.kind === "directory") };
      continue;
    }
    try {
      let records = 0;
      let firstLsn: number | undefined;
      let segmentLastLsn: number | undefined;
      let damage: SegmentDamage | null = null;
      for (;;) {
        const step = await reader.next(codec);
        if (step.kind === "end") break;
        if (step.kind === "damaged") {
          const found = step.frameValid ? undefined : await reader.findValidRecordAfter(step.offset, lastLsn);
          const torn = isLast && !step.frameValid && found === undefined;
          damage = {
            kind: torn ? "torn-tail" : "corruption",
            offset: step.offset,
            code: step.error.code,
            message: step.error.message,
            bytesAfter: reader.fileSize - step.offset,
            ...(found === undefined ? {} : { validRecordAfter: found }),
          };
          break;
        }
        records++;
        firstLsn ??= step.record.lsn;
        segmentLastLsn = step.record.lsn;
        lastLsn = Math.max(lastLsn, step.record.lsn);
        yield { type: "record", segment, offset: step.offset, byteLength: step.byteLength, record: step.record };
      }
      yield {
        type: "segment",
        scan: {
          id: segment.id,
          name: segment.name,
          path: segment.path,
          fileSize: reader.fileSize,
          header: reader.header,
          records,
          firstLsn,
          lastLsn: segmentLastLsn,
          endOffset: reader.position,
          damage,
        },
      };
    } finally {
      await reader.close();
    }
  }
}

/** A header that failed: a newest segment that is short or all zeros is a crash during creation, not damage. */
async function headerFailure(
  fs: WalFileSystem,
  segment: TargetSegment,
  error: WalError,
  mayBeHeaderless: boolean,
): Promise<SegmentScan> {
  const stat = await fs.stat(segment.path);
  const fileSize = stat?.size ?? segment.size;
  const headerless =
    mayBeHeaderless && (fileSize < SEGMENT_HEADER_BYTES || (await allZeros(fs, segment.path, fileSize)));
  return {
    id: segment.id,
    name: segment.name,
    path: segment.path,
    fileSize,
    header: null,
    records: 0,
    firstLsn: undefined,
    lastLsn: undefined,
    endOffset: 0,
    damage: {
      kind: headerless ? "headerless" : "bad-header",
      offset: 0,
      code: error.code,
      message: headerless
        ? `newest segment has no header (${fileSize} bytes${fileSize === 0 ? "" : " of zeros or less than a header"}): a crash while it was being created; opening the log recreates it`
        : error.message,
      bytesAfter: fileSize,
    },
  };
}

async function allZeros(fs: WalFileSystem, path: string, size: number): Promise<boolean> {
  if (size > ZERO_CHECK_LIMIT) return false;
  const file = await fs.open(path, "read");
  try {
    const bytes = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = await file.read(bytes, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return bytes.subarray(0, got).every((b) => b === 0);
  } finally {
    await file.close();
  }
}
