/**
 * The record walk shared by `inspect`, `dump` and `stat`: every segment of a target is read on its own (damage in
 * one segment ends that segment, not the walk, so an operator sees everything that is still readable), and each
 * piece of damage is classified by the damage rules of `@lora/wal-replay` (`classifyHeaderFailure`,
 * `classifyRecordDamage`), the ones replay and `Wal.open` apply, with the same inputs replay gives them:
 *
 * - **headerless**: a newest segment (of a directory) shorter than a header or all zeros; opening the log
 *   removes it;
 * - **bad header**: any other segment whose header is unreadable;
 * - **codec mismatch**: a CRC-valid mutation record the codec rejects with no mutation record decoded before it;
 * - **torn tail**: damage in the newest, unsealed segment that is not a CRC-valid frame and has no CRC-valid record
 *   with a higher LSN after it; opening the log cuts it;
 * - **corruption**: anything else.
 *
 * The first damage of the walk is classified exactly as replay classifies it (replay stops there); damage in later
 * segments is classified by the same rules with the walk so far. Structure (LSN order, transaction bracketing,
 * missing or stale segments) is not checked here; `verify` does that through replay.
 */

import { isWalError, optionOr, type PayloadCodec, type WalErrorCode, type WalRecord } from "@lora/wal-codec";
import {
  classifyHeaderFailure,
  classifyRecordDamage,
  DurableBindingCheck,
  describeCorruption,
  describeHeaderless,
  describeTornTail,
  type HeaderDamage,
  lookAgainAtNewest,
  PayloadEvidence,
  type RecordDamage,
  type WalkedSegment,
} from "@lora/wal-replay";
import { type SegmentHeader, SegmentReader, type WalFileSystem } from "@lora/wal-segment";
import type { TargetSegment, WalTarget } from "./wal-target.js";

/** Damage found in one segment, as the damage rules of `@lora/wal-replay` classify it. */
export interface SegmentDamage {
  readonly kind: "torn-tail" | "corruption" | "codec-mismatch" | "bad-header" | "headerless";
  /** Where the bad bytes start (0 for header problems). */
  readonly offset: number;
  /**
   * The most specific error code: what the reader found (e.g. `WAL_CRC_MISMATCH`, `WAL_TORN_TAIL`), or
   * `WAL_CODEC_MISMATCH`, or `WAL_BAD_HEADER`.
   */
  readonly code: WalErrorCode;
  /** One line, in the words `verify` uses for the same damage. */
  readonly message: string;
  /** Bytes from `offset` to the end of the file. */
  readonly bytesAfter: number;
  /** The first CRC-valid record after the damage, when that is what made it corruption. */
  readonly validRecordAfter?: { readonly offset: number; readonly lsn: number };
  /** For a codec mismatch: the LSN of the record that did not decode. */
  readonly lsn?: number;
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
  /**
   * Index of the first segment whose records are read (earlier ones are not yielded; they are looked at only when
   * damage needs to know whether a mutation record before it decoded). @default 0
   */
  readonly startSegment?: number;
}

/**
 * Walk `target` segment by segment, yielding its records and a summary after each segment. Stop early by
 * breaking out of the loop; files are closed in `finally`.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when a file cannot be read.
 */
export async function* scanTarget<E>(target: WalTarget, options: ScanOptions<E>): AsyncGenerator<ScanEvent<E>> {
  const { codec, fs } = options;
  const segments = target.segments;
  const start = optionOr(options.startSegment, 0);
  // What the damage rules are told about the walk before a damage: skipped segments count in full (looked at only
  // when needed, up to their first mutation record), as replay would have read them.
  const walked: WalkedSegment[] = segments
    .slice(0, start)
    .map((s) => ({ path: s.path, records: Number.POSITIVE_INFINITY, endOffset: s.size }));
  const evidence = new PayloadEvidence(fs, codec);
  // A directory's durable mark, as replay and `Wal.open` look at it (a file given alone has none).
  const durableBinding = target.kind === "directory" ? new DurableBindingCheck(fs, target.path) : undefined;
  // Read before any record is (see DurableBindingCheck.prime): the CLI reads beside a live writer.
  await durableBinding?.prime();
  let lastLsn = 0;
  for (let i = start; i < segments.length; i++) {
    const segment = segments[i] as TargetSegment;
    const newest = i === segments.length - 1;
    let reader: SegmentReader;
    try {
      reader = await SegmentReader.open(fs, segment.path);
    } catch (error) {
      const opened = await openAfterHeaderFailure(fs, segment, error, newest && target.kind === "directory");
      if (opened.kind === "damage") {
        yield { type: "segment", scan: headerFailure(segment, opened.damage) };
        continue;
      }
      reader = opened.reader;
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
          walked.push({ path: segment.path, records, endOffset: step.offset });
          const classified = await classifyRecordDamage({
            fs,
            reader,
            step,
            newest,
            segmentId: segment.id,
            lastLsn,
            codec,
            walked,
            evidence,
            ...(durableBinding === undefined ? {} : { durableBinding }),
          });
          damage = recordDamage(classified, reader.fileSize);
          break;
        }
        records++;
        firstLsn ??= step.record.lsn;
        segmentLastLsn = step.record.lsn;
        lastLsn = Math.max(lastLsn, step.record.lsn);
        yield { type: "record", segment, offset: step.offset, byteLength: step.byteLength, record: step.record };
      }
      if (damage === null) walked.push({ path: segment.path, records, endOffset: reader.position });
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

function recordDamage(d: RecordDamage, fileSize: number): SegmentDamage {
  const base = { offset: d.offset, bytesAfter: fileSize - d.offset };
  switch (d.kind) {
    case "torn-tail":
      return { ...base, kind: "torn-tail", code: d.cause.code, message: describeTornTail(d.cause, d.droppedBytes) };
    case "codec-mismatch":
      return { ...base, kind: "codec-mismatch", code: d.error.code, message: d.error.message, lsn: d.lsn };
    case "corruption":
      return {
        ...base,
        kind: "corruption",
        code: d.cause.code,
        message: describeCorruption(d.error),
        ...(d.validRecordAfter === undefined ? {} : { validRecordAfter: d.validRecordAfter }),
      };
  }
}

function headerFailure(segment: TargetSegment, d: HeaderDamage): SegmentScan {
  const fileSize = d.fileSize ?? segment.size;
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
    damage:
      d.kind === "headerless"
        ? {
            kind: "headerless",
            offset: 0,
            code: d.cause.code,
            message: describeHeaderless(d.fileSize),
            bytesAfter: fileSize,
          }
        : { kind: "bad-header", offset: 0, code: d.error.code, message: d.error.message, bytesAfter: fileSize },
  };
}

/**
 * After the open of `segment` failed with `error`: the header damage to report, or a reader. A single file given on
 * its own is never taken for a headerless newest segment (it is "not a segment"). The newest segment of a
 * directory gets a second look, as replay gives it (`lookAgainAtNewest`): a live writer may have written its header
 * since the failed read (read it as it is now), or its recovery removed the headerless file (headerless, size 0).
 * @throws what is not a header failure (`WAL_IO`: an I/O error is never reported as damage).
 */
async function openAfterHeaderFailure(
  fs: WalFileSystem,
  segment: TargetSegment,
  error: unknown,
  newestOfDir: boolean,
): Promise<{ kind: "opened"; reader: SegmentReader } | { kind: "damage"; damage: HeaderDamage }> {
  if (!newestOfDir) {
    const damage = await classifyHeaderFailure(fs, segment.path, error, false);
    if (damage === undefined) throw error;
    return { kind: "damage", damage };
  }
  try {
    const look = await lookAgainAtNewest(fs, segment.path, error, () => SegmentReader.open(fs, segment.path));
    return look.kind === "opened"
      ? { kind: "opened", reader: look.value }
      : { kind: "damage", damage: { kind: "headerless", fileSize: look.fileSize, cause: look.cause } };
  } catch (again) {
    if (!isWalError(again, "WAL_BAD_HEADER")) throw again;
    return {
      kind: "damage",
      damage: { kind: "bad-header", fileSize: (await fs.stat(segment.path))?.size ?? null, error: again },
    };
  }
}
