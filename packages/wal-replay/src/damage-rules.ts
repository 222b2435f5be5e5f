/**
 * The damage rules: the one place that decides what damage found in a WAL directory is. Replay (and so
 * `Wal.open`, whose recovery goes through `replayDir`) and every `lora-wal` command classify with these
 * functions, so what a read-only tool reports is what opening the log does.
 *
 * Terms: the *walk* is the segments in id order, oldest first (or the files given to `replaySegments`, in that
 * order); the *newest* segment is the last one of the walk. A *payload-bearing* record is a `mutation` or a
 * `mutationBatch`; markers (`txBegin`, `txCommit`, `txAbort`, `checkpoint`) carry no payload. *Damage* is the first
 * bytes of a segment that are not a record that can be used (a short, torn, flipped, zeroed or unknown record, or a
 * CRC-valid record that still cannot be used). Zeros from a record boundary to the end of an unsealed segment are no
 * damage: they are the end, what a preallocating writer leaves ahead of its records (`SegmentReader` reports `end`).
 *
 * The classes, decided in this order:
 *
 * 1. **Headerless newest segment** ({@link classifyHeaderFailure}): the newest segment's header cannot be read and
 *    the file is shorter than a header (32 bytes), exactly a header long with the header write cut short (the magic
 *    and version bytes each either right or zero), or every byte of it is zero, whatever its length (a crash while
 *    the file was being created, or a preallocated, zero-filled file whose header never landed). It holds no
 *    records. Replay reports it as `headerlessLastSegment`; `Wal.open` removes it and creates the segment again.
 * 2. **Bad header**: any other header that cannot be read: in a segment that is not the newest (even when it is
 *    short or all zeros), or a newest segment whose bytes are not all zeros. `WAL_BAD_HEADER`, thrown in every
 *    recovery mode.
 * 3. **Codec mismatch** ({@link classifyRecordDamage}): a CRC-valid `mutation` or `mutationBatch` record whose
 *    payload the codec rejects, when no payload-bearing record before it in the walk decoded. The bytes are intact;
 *    the log was written with another codec. `WAL_CODEC_MISMATCH`, thrown in every recovery mode, `point-in-time`
 *    included: it is never reported as damage, never cut, and never a reason to move any file aside. The message
 *    names the codec that failed and says to pass the codec the log was written with. `bytesCodec` reads any
 *    single-event payload; its batch decoder rejects a payload that is not its own count-and-lengths framing, so
 *    it can report a mismatch for a batch written with another codec.
 * 4. **Torn tail**: damage in the newest segment, when that segment is not sealed, that is not a CRC-valid frame,
 *    and either reaches into the last {@link @lora/wal-segment!UNSYNCED_WINDOW_BYTES} of the file's data (the damaged record's end, by
 *    its header's account when the header is plausible, else the end of the 13 header bytes it is judged by, lies
 *    there; the data ends at the last non-zero byte, since a preallocating writer zero-fills ahead of its records)
 *    or is followed by no intact marker record of a
 *    higher LSN. A writer never has more than that window written but not fsynced, so a power loss can tear or
 *    lose only bytes in it, in any pattern: later sectors of one write may land while earlier ones do not, and a
 *    torn record's payload may hold bytes that look like records. Such damage always opens as a torn tail. Damage
 *    further back lies in bytes an fsync had covered, and an intact marker after it proves data follows: that is
 *    corruption. The search for that marker is linear in the bytes after the damage (see
 *    `SegmentReader.findIntactMarkerAfter`). This is what a crash mid-write leaves. One exception comes first:
 *    damage that starts before the end of the record the directory's durable mark binds to, when that record reads
 *    back whole with the LSN and CRC the mark gives (`durableBinding`), lay in bytes an fdatasync covered (the
 *    writer wrote the mark after that fsync), so it is corruption wherever it lies. A mark whose record does not
 *    read back so (the log cut or rewritten below it, a missing segment, a torn or absent mark) is ignored.
 *    `tolerate-torn-tail` and
 *    `point-in-time` report it (`Wal.open` copies the cut bytes to `<segment>.<offset>.broken` and cuts them);
 *    `absolute` throws `WAL_TORN_TAIL`.
 * 5. **Corruption**: every other damage: in a segment that is not the newest; in a sealed segment, even the newest
 *    (a sealed segment's records were fsynced before its sealed header was written, so no crash leaves damage in
 *    it); damage before the unsynced window followed by an intact marker; damage below the durable mark's checked
 *    record (rule 4); a CRC-valid record that cannot be used (an unknown
 *    kind, a marker with a payload, an LSN beyond 2^53); and a CRC-valid record whose payload does not decode after
 *    at least one payload-bearing record of the walk decoded (perhaps a newer writer's record). `WAL_CORRUPT`,
 *    thrown by `tolerate-torn-tail` and `absolute`; `point-in-time` reports it and `Wal.open` then cuts the
 *    segment there and moves every later segment to `<name>.broken`.
 *
 * Replay also reports, as corruption, what it finds between segments (a missing segment id, an unsealed segment
 * followed by another); those checks look at the directory listing and the headers, not at damaged bytes, and
 * stay in replay.
 *
 * Guarantees: the functions are read-only (they open files with mode `"read"` only and close every file they
 * open, also on error); they hold a bounded amount of a file in memory at once (64 KiB chunks, or one record when a
 * record is larger, as any reader of the segment must), whatever the file's size; and they answer the same for the
 * same bytes and the same walk. An I/O error is never taken for damage: it rejects with `WAL_IO`.
 *
 * @module
 */

import {
  FORMAT_VERSION,
  isWalError,
  MIN_RECORD_BYTES,
  type PayloadCodec,
  RECORD_HEADER_BYTES,
  RecordKindByte,
  WalError,
  type WalErrorDetails,
} from "@lora/wal-codec";
import {
  isMissingFileError,
  isZeroRange,
  type ReadStep,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SegmentReader,
  UNSYNCED_WINDOW_BYTES,
  type WalFileSystem,
} from "@lora/wal-segment";
import type { DurableBindingCheck } from "./durable-binding.js";

/** Bytes read at once by the look for an earlier decoded payload. */
const CHUNK_BYTES = 64 * 1024;
/** The bytes of a record header its plausibility is judged by: length (4), kind (1), LSN (8). */
const JUDGED_HEADER_BYTES = 13;
const TWO_POW_32 = 0x1_0000_0000;

/** The class of a piece of damage (see the module comment for the rules). */
export type DamageKind = "headerless" | "bad-header" | "codec-mismatch" | "torn-tail" | "corruption";

/** A segment whose header could not be read, classified by {@link classifyHeaderFailure}. */
export type HeaderDamage =
  | {
      /** A newest segment that holds no records: shorter than a header, or all zeros. */
      readonly kind: "headerless";
      readonly fileSize: number;
      /** What reading the header threw (`WAL_BAD_HEADER`). */
      readonly cause: WalError;
    }
  | {
      readonly kind: "bad-header";
      /** The file's size, or `null` when it vanished after the header failed. */
      readonly fileSize: number | null;
      /** The `WAL_BAD_HEADER` error, as replay throws it. */
      readonly error: WalError;
    };

/**
 * Classify a header failure: what `SegmentReader.open` threw for `path`.
 *
 * @param newest whether `path` is the newest segment of the walk (only the newest can be headerless).
 * @returns `undefined` when `error` is not `WAL_BAD_HEADER` (an I/O error, for one: rethrow it).
 * @throws {@link WalError} `WAL_IO` when the file cannot be stat'ed or read.
 */
export async function classifyHeaderFailure(
  fs: WalFileSystem,
  path: string,
  error: unknown,
  newest: boolean,
): Promise<HeaderDamage | undefined> {
  if (!isWalError(error, "WAL_BAD_HEADER")) return undefined;
  if (!newest) return { kind: "bad-header", fileSize: (await fs.stat(path))?.size ?? null, error };
  const stat = await fs.stat(path);
  if (stat === null) return { kind: "bad-header", fileSize: null, error };
  let headerless: boolean;
  try {
    headerless =
      stat.size < SEGMENT_HEADER_BYTES ||
      (stat.size === SEGMENT_HEADER_BYTES && (await isTornHeaderWrite(fs, path))) ||
      (await isAllZeros(fs, path, stat.size));
  } catch (lookError) {
    // Removed between the stat and this read (a restarted writer's recovery removing it): as if the stat missed it.
    if (isMissingFileError(lookError)) return { kind: "bad-header", fileSize: null, error };
    throw lookError;
  }
  return headerless
    ? { kind: "headerless", fileSize: stat.size, cause: error }
    : { kind: "bad-header", fileSize: stat.size, error };
}

/**
 * True when a header-sized file looks like the header write cut short: its last byte never landed (zero), and each
 * byte of the magic and the format version is either what a header holds there or zero. No record can follow, so
 * nothing is lost by taking it for a creation that did not finish. A whole header that fails its CRC (a bit flipped
 * in a header that was durable) or other bytes written over it stay damage.
 */
async function isTornHeaderWrite(fs: WalFileSystem, path: string): Promise<boolean> {
  const file = await fs.open(path, "read");
  try {
    const head = new Uint8Array(SEGMENT_HEADER_BYTES);
    const n = await file.read(head, 0, head.byteLength, 0);
    if (n < head.byteLength || head[SEGMENT_HEADER_BYTES - 1] !== 0) return false;
    const expected = [...SEGMENT_MAGIC, FORMAT_VERSION & 0xff, 0, 0, 0];
    return expected.every((byte, i) => head[i] === 0 || head[i] === byte);
  } finally {
    await file.close();
  }
}

/** True when the first `size` bytes of `path` are all zero, read a bounded chunk at a time. */
async function isAllZeros(fs: WalFileSystem, path: string, size: number): Promise<boolean> {
  const file = await fs.open(path, "read");
  try {
    // A file shorter than it was stat'ed is judged by what is left of it.
    return await isZeroRange(file, 0, size);
  } finally {
    await file.close();
  }
}

/** The valid prefix of a segment the walk has read: records from the header up to `endOffset` decoded. */
export interface WalkedSegment {
  readonly path: string;
  /** Records read in it (0: nothing to look at). */
  readonly records: number;
  /** The end of the last record read (for the damaged segment, where the damage starts). */
  readonly endOffset: number;
}

/** Damage in the records of a segment, classified by {@link classifyRecordDamage}. */
export type RecordDamage =
  | {
      readonly kind: "torn-tail";
      /** Where the bad bytes start: where the segment is cut. */
      readonly offset: number;
      readonly fileSize: number;
      /** Bytes from `offset` to the end of the file. */
      readonly droppedBytes: number;
      /** What the reader found at `offset`. */
      readonly cause: WalError;
      /** The `WAL_TORN_TAIL` error `absolute` mode throws. */
      readonly error: WalError;
    }
  | {
      readonly kind: "codec-mismatch";
      readonly offset: number;
      /** The LSN of the record that did not decode. */
      readonly lsn: number;
      /** The codec's `WAL_DECODE`. */
      readonly cause: WalError;
      /** The `WAL_CODEC_MISMATCH` error every mode throws. */
      readonly error: WalError;
    }
  | {
      readonly kind: "corruption";
      readonly offset: number;
      /** What the reader found at `offset`. */
      readonly cause: WalError;
      /** The `WAL_CORRUPT` error `tolerate-torn-tail` and `absolute` throw (`cause` is the reader's error). */
      readonly error: WalError;
      /** The first CRC-valid record of a higher LSN after the damage, when that is what made it corruption. */
      readonly validRecordAfter: { readonly offset: number; readonly lsn: number } | undefined;
    };

/** What {@link classifyRecordDamage} needs to know about the damage and the walk before it. */
export interface RecordDamageInput<E> {
  readonly fs: WalFileSystem;
  /** The reader that reported the damage, still open (its file is searched for a later valid record). */
  readonly reader: SegmentReader;
  /** The `damaged` step it returned. */
  readonly step: Extract<ReadStep<E>, { kind: "damaged" }>;
  /** Whether the damaged segment is the newest of the walk. */
  readonly newest: boolean;
  /** The segment id its name carries, for the errors' details. */
  readonly segmentId: number | undefined;
  /** The LSN of the last record read before the damage (0 when none): a later valid record must be above it. */
  readonly lastLsn: number;
  /** The codec the walk decodes with. */
  readonly codec: PayloadCodec<E>;
  /**
   * Every segment the walk has read, oldest first, the damaged one last (its `endOffset` at the damage). Looked at
   * only for a CRC-valid payload that does not decode, to tell a codec mismatch from corruption.
   */
  readonly walked: readonly WalkedSegment[];
  /** Remembers what earlier calls found in `walked`; pass one per walk when classifying more than once. */
  readonly evidence?: PayloadEvidence<E>;
  /** The writer's unsynced window (rule 4). @default UNSYNCED_WINDOW_BYTES */
  readonly unsyncedWindowBytes?: number;
  /**
   * The durable mark of the walk's directory, asked (once) when damage could be a torn tail: damage before the end
   * of the record it binds to, when that record reads back whole, lay in bytes an fdatasync covered (rule 4).
   * Without it (files given one by one, no directory) the mark is not looked at.
   */
  readonly durableBinding?: DurableBindingCheck;
}

/**
 * Classify damage a `SegmentReader` reported (rules 3–5 of the module comment). Does not throw for damage: the
 * caller decides from the class and its recovery mode.
 * @throws {@link WalError} `WAL_IO` when a file cannot be read.
 */
export async function classifyRecordDamage<E>(input: RecordDamageInput<E>): Promise<RecordDamage> {
  const { reader, step, newest, segmentId } = input;
  const path = reader.path;
  const offset = step.offset;
  const details = damageDetails(path, segmentId, offset);
  const sealed = reader.header.sealed;

  // A CRC-valid mutation record whose payload the codec rejected (not the other WAL_DECODE, an LSN beyond 2^53).
  const rejected =
    step.frameValid && step.error.code === "WAL_DECODE" ? await readPayloadFrame(input.fs, path, offset) : undefined;
  if (rejected !== undefined) {
    const evidence = input.evidence ?? new PayloadEvidence(input.fs, input.codec);
    if (!(await evidence.decodedIn(input.walked))) {
      const message =
        `WAL codec mismatch in ${path} at offset ${offset}: the ${rejected.kind} record at lsn ${rejected.lsn} ` +
        `does not decode with codec "${input.codec.name}" (${step.error.message}) and no mutation record before ` +
        `it decoded, so the log was written with another codec: open it with the codec it was written with`;
      const error = new WalError("WAL_CODEC_MISMATCH", message, {
        cause: step.error,
        details: { ...details, lsn: rejected.lsn },
      });
      return { kind: "codec-mismatch", offset, lsn: rejected.lsn, cause: step.error, error };
    }
  }

  const unsynced = newest && !sealed && !step.frameValid;
  // Bytes the durable mark shows were fsynced (its record reads back whole after the damage): never a torn write.
  const vouched = unsynced ? await input.durableBinding?.vouchedEnd(segmentId) : undefined;
  const fsynced = vouched !== undefined && offset < vouched.end ? vouched.binding : undefined;
  const mayBeTail = unsynced && fsynced === undefined;
  const window = input.unsyncedWindowBytes ?? UNSYNCED_WINDOW_BYTES;
  const found = mayBeTail ? await evidenceOfLaterRecords(reader, offset, input.lastLsn, window) : undefined;
  if (mayBeTail && found === undefined) {
    const error = new WalError("WAL_TORN_TAIL", `torn tail in ${path} at offset ${offset}`, {
      cause: step.error,
      details,
    });
    return {
      kind: "torn-tail",
      offset,
      fileSize: reader.fileSize,
      droppedBytes: reader.fileSize - offset,
      cause: step.error,
      error,
    };
  }
  const why = !newest
    ? "damage in a segment that is not the newest"
    : sealed
      ? "damage in a sealed segment"
      : step.frameValid
        ? rejected !== undefined
          ? `a CRC-valid record whose payload does not decode with codec "${input.codec.name}", after earlier mutation records decoded with it`
          : "a CRC-valid record that cannot be used"
        : fsynced !== undefined
          ? `damage in bytes an fdatasync covered: the durable mark's record (lsn ${fsynced.recordLsn} at offset ${fsynced.recordOffset} of segment ${fsynced.segmentId}) reads back whole after it`
          : `damage followed by a valid record (lsn ${found?.lsn} at offset ${found?.offset})`;
  const error = new WalError("WAL_CORRUPT", `WAL corruption in ${path} at offset ${offset}: ${why}`, {
    cause: step.error,
    details,
  });
  return { kind: "corruption", offset, cause: step.error, error, validRecordAfter: found };
}

/**
 * Whether damage at `offset` in the newest, unsealed segment is followed by records that show it is not a torn
 * write (rule 4): `undefined` when it may be torn, else the intact marker found after it.
 *
 * The damaged record reaches, by its header's own account when the header is plausible (else through the 13 bytes it
 * is judged by), to some end; if that end lies within the last {@link @lora/wal-segment!UNSYNCED_WINDOW_BYTES} of the file, the damage
 * may be bytes that were written but not yet fsynced (a writer never leaves more than that unsynced, and a write
 * larger than that goes out in synced pieces), whose sectors can land in any order or not at all, so whatever follows
 * proves nothing. Further
 * back every byte had been fsynced, and an intact marker after the damaged record shows that data follows it.
 */
async function evidenceOfLaterRecords(
  reader: SegmentReader,
  offset: number,
  lastLsn: number,
  window: number,
): Promise<{ offset: number; lsn: number } | undefined> {
  // LSNs rise by one within a segment: the damaged record's own LSN follows the last one read (or is the base).
  const expectedLsn = offset === SEGMENT_HEADER_BYTES ? reader.header.baseLsn : lastLsn + 1;
  const claimed = await reader.recordEndAt(offset, expectedLsn);
  // A header that is not plausible reaches at least through the bytes it was judged by: a write larger than the
  // window goes out in pieces fsynced in turn, a piece ends wherever the window does (inside a header too), and a
  // power loss can lose the sector after that sync point while later ones land. The header then keeps its fsynced
  // first bytes and reads zeros after them, and its damage lies in those unsynced bytes.
  const end = claimed ?? offset + JUDGED_HEADER_BYTES;
  // From where the data ends: a preallocating writer's zeros past its records were never written as data.
  if (end > (await reader.dataEnd()) - window) return undefined;
  return await reader.findIntactMarkerAfter(claimed ?? offset + 1, lastLsn);
}

/**
 * Whether a payload-bearing record of a walk decoded: the evidence that a later payload the codec rejects is
 * corruption rather than a codec mismatch. Looks at each walked segment once (a segment passed to
 * {@link PayloadEvidence.decodedIn} must not grow afterwards), stopping at the first payload-bearing record.
 */
export class PayloadEvidence<E> {
  readonly #fs: WalFileSystem;
  readonly #codec: PayloadCodec<E>;
  #checked = 0;
  #found = false;

  constructor(fs: WalFileSystem, codec: PayloadCodec<E>) {
    this.#fs = fs;
    this.#codec = codec;
  }

  /**
   * True when a `mutation` or `mutationBatch` record within the valid prefix of one of `walked` decodes with the
   * codec. `walked` is the walk so far: each call passes the previous call's segments, in the same order, and
   * possibly more.
   * @throws {@link WalError} `WAL_IO`.
   */
  async decodedIn(walked: readonly WalkedSegment[]): Promise<boolean> {
    for (; !this.#found && this.#checked < walked.length; this.#checked++) {
      const segment = walked[this.#checked] as WalkedSegment;
      if (segment.records > 0 && (await this.#decodesAPayload(segment))) this.#found = true;
    }
    return this.#found;
  }

  /** Read `segment`'s records up to its first payload-bearing one: does that one decode? */
  async #decodesAPayload(segment: WalkedSegment): Promise<boolean> {
    let reader: SegmentReader;
    try {
      reader = await SegmentReader.open(this.#fs, segment.path, { chunkBytes: CHUNK_BYTES });
    } catch (error) {
      // A header that no longer reads holds no evidence; an I/O error is not an answer.
      if (isWalError(error, "WAL_BAD_HEADER")) return false;
      throw error;
    }
    try {
      while (reader.position < segment.endOffset) {
        const step = await reader.next(this.#codec);
        if (step.kind !== "record") return false;
        const kind = step.record.kind;
        if (kind === "mutation" || kind === "mutationBatch") return true;
      }
      return false;
    } finally {
      await reader.close();
    }
  }
}

/**
 * The kind and LSN of the record at `offset` when it is a mutation or mutation batch with LSN fields in the safe
 * integer range, read again from the file (the reader keeps only its error); `undefined` otherwise.
 */
async function readPayloadFrame(
  fs: WalFileSystem,
  path: string,
  offset: number,
): Promise<{ readonly kind: "mutation" | "mutationBatch"; readonly lsn: number } | undefined> {
  const file = await fs.open(path, "read");
  try {
    const head = new Uint8Array(RECORD_HEADER_BYTES);
    let got = 0;
    while (got < head.byteLength) {
      const n = await file.read(head, got, head.byteLength - got, offset + got);
      if (n === 0) return undefined;
      got += n;
    }
    const view = new DataView(head.buffer);
    if (view.getUint32(0, true) < MIN_RECORD_BYTES) return undefined;
    const kindByte = view.getUint8(4);
    const lsn = view.getUint32(9, true) * TWO_POW_32 + view.getUint32(5, true);
    const slot = view.getUint32(17, true) * TWO_POW_32 + view.getUint32(13, true);
    if (!Number.isSafeInteger(lsn) || !Number.isSafeInteger(slot)) return undefined;
    if (kindByte === RecordKindByte.mutation) return { kind: "mutation", lsn };
    if (kindByte === RecordKindByte.mutationBatch) return { kind: "mutationBatch", lsn };
    return undefined;
  } finally {
    await file.close();
  }
}

function damageDetails(path: string, id: number | undefined, offset: number): WalErrorDetails {
  return { path, segment: path, offset, ...(id === undefined ? {} : { segmentId: id }) };
}

/**
 * One line for a torn tail, as `lora-wal` prints it: what the reader found, and what opening the log does.
 */
export function describeTornTail(cause: WalError, droppedBytes: number): string {
  return `${cause.message}; opening the log cuts the last ${droppedBytes} bytes`;
}

/** One line for corruption: the `WAL_CORRUPT` message and, when there is one, the reader's error with its code. */
export function describeCorruption(error: WalError): string {
  const cause = error.cause;
  return isWalError(cause) ? `${error.message} (${cause.code}: ${cause.message})` : error.message;
}

/** One line for a headerless newest segment. */
export function describeHeaderless(fileSize: number): string {
  const what =
    fileSize === 0
      ? "empty"
      : fileSize < SEGMENT_HEADER_BYTES
        ? `${fileSize} bytes, shorter than a header`
        : fileSize === SEGMENT_HEADER_BYTES
          ? "a header write cut short"
          : `${fileSize} bytes, all zeros`;
  return `newest segment has no header (${what}): it holds no records; opening the log removes it (and creates it again unless appends resume in the unsealed segment before it)`;
}
