/**
 * Record framing: one record = `length u32 | kind u8 | lsn u64 | txBeginLsn u64 | payload | crc32 u32`, where the
 * length counts the whole record and the CRC-32/IEEE covers every byte before it, the length included (so a torn
 * or flipped length is detected too). See `format.ts` for the table.
 */

import { BEGIN_RECORD, ByteWriter, FINISH_RECORD } from "./byte-writer.js";
import { bytesCodec, bytesDecodeBatchAt, bytesDecodeEventAt } from "./bytes-codec.js";
import { shownError, shownValue } from "./check-options.js";
import { crc32Range } from "./crc32.js";
import { isWalError, WalError, type WalErrorCode } from "./errors.js";
import {
  MAX_RECORD_BYTES,
  MIN_RECORD_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_TRAILER_BYTES,
  type RecordKind,
  RecordKindByte,
} from "./format.js";
import { readU32, readU64 } from "./little-endian.js";
import type { PayloadCodec } from "./payload-codec.js";

/** A single-event mutation (kind 1). */
export interface MutationRecord<E> {
  readonly kind: "mutation";
  readonly lsn: number;
  readonly txBeginLsn: number;
  readonly event: E;
}

/** Several events in one record (kind 6): what `commitTx` writes. */
export interface MutationBatchRecord<E> {
  readonly kind: "mutationBatch";
  readonly lsn: number;
  readonly txBeginLsn: number;
  readonly events: readonly E[];
}

/** Opens a transaction (kind 2). Its `txBeginLsn` slot is written as 0. */
export interface TxBeginRecord {
  readonly kind: "txBegin";
  readonly lsn: number;
}

/** Commits the transaction begun at `txBeginLsn` (kind 3). */
export interface TxCommitRecord {
  readonly kind: "txCommit";
  readonly lsn: number;
  readonly txBeginLsn: number;
}

/** Aborts the transaction begun at `txBeginLsn` (kind 4). */
export interface TxAbortRecord {
  readonly kind: "txAbort";
  readonly lsn: number;
  readonly txBeginLsn: number;
}

/** Says a snapshot covering everything up to `snapshotLsn` exists (kind 5; stored in the txBeginLsn slot). */
export interface CheckpointRecord {
  readonly kind: "checkpoint";
  readonly lsn: number;
  readonly snapshotLsn: number;
}

/** One decoded record, told apart by `kind`: a mutation (or batch) carries events, the others are markers. */
export type WalRecord<E> =
  | MutationRecord<E>
  | MutationBatchRecord<E>
  | TxBeginRecord
  | TxCommitRecord
  | TxAbortRecord
  | CheckpointRecord;

/** The outcome of {@link decodeRecord}. "Need more bytes" is a result, not an error. */
export type DecodeResult<E> =
  | { readonly kind: "record"; readonly record: WalRecord<E>; readonly byteLength: number }
  /** More bytes are needed; `needed` is the total the record wants from `offset` (4 while the length is unread). */
  | { readonly kind: "incomplete"; readonly needed: number }
  | { readonly kind: "corrupt"; readonly error: WalError };

const KIND_BY_BYTE: readonly (RecordKind | undefined)[] = (() => {
  const table: (RecordKind | undefined)[] = [];
  for (const [name, byte] of Object.entries(RecordKindByte)) table[byte] = name as RecordKind;
  return table;
})();

const MARKER_NAMES: Partial<Record<RecordKind, string>> = {
  txBegin: "TxBegin",
  txCommit: "TxCommit",
  txAbort: "TxAbort",
  checkpoint: "Checkpoint",
};

function assertLsn(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new WalError("WAL_ENCODE", `${what} must be a non-negative safe integer, got ${shownValue(value)}`);
  }
}

function slotOf<E>(record: WalRecord<E>): number {
  switch (record.kind) {
    case "txBegin":
      return 0;
    case "checkpoint":
      return record.snapshotLsn;
    default:
      return record.txBeginLsn;
  }
}

/**
 * Append one framed record to `out` without allocating per record (the writer's hot path). On any failure
 * nothing is left in `out`: the buffer is cut back to where it was.
 *
 * @returns the record's length in bytes.
 * @throws {@link WalError} `WAL_ENCODE` (bad LSN, empty batch, event the codec rejects),
 *   `WAL_RECORD_TOO_LARGE` (more than {@link MAX_RECORD_BYTES} with framing).
 */
export function encodeRecordInto<E>(record: WalRecord<E>, codec: PayloadCodec<E>, out: ByteWriter): number {
  // Own string keys only: an object key would be converted with its toString (a TypeError for a null-prototype
  // object), and "toString" or "constructor" would find Object.prototype's and frame a record of kind 0.
  const kind: unknown = record.kind;
  const kindByte =
    typeof kind === "string" && Object.hasOwn(RecordKindByte, kind) ? RecordKindByte[kind as RecordKind] : undefined;
  if (kindByte === undefined) throw new WalError("WAL_ENCODE", `unknown record kind ${shownValue(kind)}`);
  assertLsn(record.lsn, "lsn");
  const slot = slotOf(record);
  assertLsn(slot, record.kind === "checkpoint" ? "snapshotLsn" : "txBeginLsn");
  const start = out.length;
  try {
    beginFrame(out, kindByte, record.lsn, slot);
    if (record.kind === "mutation") {
      codec.encodeEvent(record.event, out);
    } else if (record.kind === "mutationBatch") {
      if (record.events.length === 0) {
        throw new WalError("WAL_ENCODE", "mutation batch must contain at least one event");
      }
      codec.encodeBatch(record.events, out);
    }
    return endFrame(out, start);
  } catch (error) {
    throw rolledBack(out, start, error);
  }
}

/**
 * Append a whole transaction as `commitTx` writes it — `TxBegin` at `beginLsn`, one `MutationBatch` at
 * `beginLsn + 1`, `TxCommit` at `beginLsn + 2` — in one call. The bytes are identical to three
 * {@link encodeRecordInto} calls; this saves building three record objects and re-checking their fields. All or
 * nothing: on any failure `out` is cut back to where it was.
 *
 * @returns the byte length of the three records.
 * @throws {@link WalError} as {@link encodeRecordInto} (`WAL_ENCODE` for an empty `events`).
 */
export function encodeCommitTxInto<E>(
  beginLsn: number,
  events: readonly E[],
  codec: PayloadCodec<E>,
  out: ByteWriter,
): number {
  assertLsn(beginLsn, "lsn");
  assertLsn(beginLsn + 2, "lsn");
  if (events.length === 0) throw new WalError("WAL_ENCODE", "mutation batch must contain at least one event");
  const start = out.length;
  try {
    endFrame(out, beginFrame(out, KIND_TX_BEGIN, beginLsn, 0));
    const batch = beginFrame(out, KIND_MUTATION_BATCH, beginLsn + 1, beginLsn);
    codec.encodeBatch(events, out);
    endFrame(out, batch);
    endFrame(out, beginFrame(out, KIND_TX_COMMIT, beginLsn + 2, beginLsn));
    return out.length - start;
  } catch (error) {
    throw rolledBack(out, start, error);
  }
}

const KIND_TX_BEGIN = RecordKindByte.txBegin;
const KIND_MUTATION_BATCH = RecordKindByte.mutationBatch;
const KIND_TX_COMMIT = RecordKindByte.txCommit;

/**
 * Reserve a record's header (length back-patched by {@link endFrame}); returns where the record starts. Callers have
 * checked `lsn` and `slot` (`assertLsn`): the writer's framing method skips its per-field checks.
 */
function beginFrame(out: ByteWriter, kindByte: number, lsn: number, slot: number): number {
  return out[BEGIN_RECORD](kindByte, lsn, slot);
}

/** Patch the length of the record begun at `start` and append its CRC; returns the record's length. */
function endFrame(out: ByteWriter, start: number): number {
  const total = out.length - start + RECORD_TRAILER_BYTES;
  if (total > MAX_RECORD_BYTES) {
    throw new WalError("WAL_RECORD_TOO_LARGE", `record length ${total} exceeds maximum ${MAX_RECORD_BYTES}`);
  }
  out[FINISH_RECORD](start);
  return total;
}

/**
 * Cut `out` back to `start` and give the error to throw: `WAL_ENCODE` and `WAL_RECORD_TOO_LARGE` as they are, and
 * anything else as `WAL_ENCODE` with it as `cause`. A codec's own `WalError` with another code (`WAL_IO`, say) is
 * not passed on: an encoding failure writes nothing, and a caller must not read it as a failed write or a poisoned
 * or closed handle.
 */
function rolledBack(out: ByteWriter, start: number, error: unknown): WalError {
  out.truncate(start);
  if (isWalError(error, "WAL_ENCODE") || isWalError(error, "WAL_RECORD_TOO_LARGE")) return error;
  const what = isWalError(error) ? `${error.code}: ${error.message}` : shownError(error);
  return new WalError("WAL_ENCODE", `record could not be encoded: ${what}`, { cause: error });
}

/**
 * Encode one record into a new byte array.
 * @throws {@link WalError} as {@link encodeRecordInto}.
 */
export function encodeRecord<E>(record: WalRecord<E>, codec: PayloadCodec<E>): Uint8Array {
  const out = new ByteWriter(256);
  encodeRecordInto(record, codec, out);
  return out.copy();
}

function corrupt(code: WalErrorCode, message: string, offset: number, lsn?: number, cause?: unknown) {
  const details = lsn === undefined ? { offset } : { offset, lsn };
  return { kind: "corrupt", error: new WalError(code, message, { details, cause }) } as const;
}

/**
 * The `WAL_CRC_MISMATCH` error {@link decodeRecord} gives for a record at `offset` (within the bytes it was given)
 * whose header says `lsn` and whose stored CRC `stored` differs from `actual`, the CRC of the bytes before it. For
 * a reader that checks a large record's CRC while streaming it, so that it reports exactly what decoding the whole
 * record would have.
 *
 * `expectedLsn`: the LSN a reader that knows what came before expects there (the one after the previous record's,
 * or the segment's base LSN for its first record). The CRC covers the header, so a mismatch leaves the stored LSN
 * untrusted: a bit flipped in it reads as a far-off LSN. When it differs from `lsn`, the error names `expectedLsn`
 * (also as `details.lsn`) and the stored one as untrusted.
 */
export function crcMismatchError(
  lsn: number,
  stored: number,
  actual: number,
  offset: number,
  expectedLsn?: number,
): WalError {
  const crcs = `expected ${hex8(stored)}, got ${hex8(actual)}`;
  if (expectedLsn !== undefined && expectedLsn !== lsn) {
    return new WalError(
      "WAL_CRC_MISMATCH",
      `WAL record CRC mismatch at lsn ${expectedLsn} (the LSN expected there, unless LSNs were skipped; the record's own lsn field reads ${lsn}, untrusted as its CRC does not match): ${crcs}`,
      { details: { offset, lsn: expectedLsn } },
    );
  }
  const details = Number.isSafeInteger(lsn) ? { offset, lsn } : { offset };
  return new WalError("WAL_CRC_MISMATCH", `WAL record CRC mismatch at lsn ${lsn}: ${crcs}`, { details });
}

function hex8(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/**
 * Decode the record starting at `offset` in `bytes`. Total: any input gives a record, `incomplete`, or a coded
 * corrupt result, never an exception. The framing allocates nothing beyond the result (a length larger than the
 * available bytes answers `incomplete` before anything is read); what the decoded events take is the codec's to
 * bound (`loraCodec`: at most 16 bytes of heap per payload byte, 24 for property-type list terms; `bytesCodec`: a copy of the payload; `jsonCodec`:
 * whatever `JSON.parse` builds).
 *
 * Check order follows LoraDB's decoder: length bounds, availability, kind byte, CRC, LSN range, payload. Decoded
 * payload values never alias `bytes` as long as the codec keeps {@link PayloadCodec}'s rule (the built-in ones do).
 */
export function decodeRecord<E>(bytes: Uint8Array, offset: number, codec: PayloadCodec<E>): DecodeResult<E> {
  const result = decodeChecked(bytes, offset, codec, undefined);
  if (typeof result === "number") return explainFailure(result, bytes, offset);
  if (result instanceof PayloadRejected) {
    const { error } = result;
    const message = shownError(error);
    const lsn = readU64(bytes, offset + 5);
    return corrupt("WAL_DECODE", `WAL record could not be decoded: ${message}`, offset, lsn, error);
  }
  return { kind: "record", record: result, byteLength: readU32(bytes, offset) };
}

/**
 * The corrupt (or incomplete) result of {@link decodeRecord} for a failure {@link decodeChecked} found: the fields
 * the messages name are read again here, off the hot path.
 */
function explainFailure<E>(failure: DecodeFailure, bytes: Uint8Array, offset: number): DecodeResult<E> {
  const available = bytes.length - offset;
  if (failure === DecodeFailure.incomplete) {
    return { kind: "incomplete", needed: available < 4 ? 4 : readU32(bytes, offset) };
  }
  const length = readU32(bytes, offset);
  const kindByte = bytes[offset + 4] as number;
  const lsn = readU64(bytes, offset + 5);
  const safeLsn = Number.isSafeInteger(lsn) ? lsn : undefined;
  switch (failure) {
    case DecodeFailure.badLength:
      return corrupt("WAL_BAD_LENGTH", `record length ${length} smaller than fixed framing`, offset);
    case DecodeFailure.tooLarge:
      return corrupt("WAL_RECORD_TOO_LARGE", `record length ${length} exceeds maximum ${MAX_RECORD_BYTES}`, offset);
    case DecodeFailure.unknownKind:
      return corrupt("WAL_UNKNOWN_KIND", `unknown WAL record kind: ${kindByte}`, offset, safeLsn);
    case DecodeFailure.crcMismatch: {
      const crcAt = offset + length - RECORD_TRAILER_BYTES;
      return {
        kind: "corrupt",
        error: crcMismatchError(lsn, readU32(bytes, crcAt), crc32Range(bytes, offset, crcAt), offset),
      };
    }
    case DecodeFailure.unsafeLsn:
      return corrupt("WAL_DECODE", `record LSN fields exceed the safe integer range (lsn ${lsn})`, offset);
    default: {
      const kind = KIND_BY_BYTE[kindByte] as RecordKind;
      return corrupt("WAL_MARKER_PAYLOAD", `${MARKER_NAMES[kind]} has unexpected payload`, offset, lsn);
    }
  }
}

// A `subarray` per payload costs about as much as decoding a small event, so `bytesCodec` itself (not a copy of it,
// which may override a method) is decoded in place.
function decodeEventIn<E>(codec: PayloadCodec<E>, bytes: Uint8Array, start: number, end: number): E {
  if ((codec as unknown) === bytesCodec) return bytesDecodeEventAt(bytes, start, end) as E;
  return codec.decodeEvent(bytes.subarray(start, end));
}

function decodeBatchIn<E>(codec: PayloadCodec<E>, bytes: Uint8Array, start: number, end: number): E[] {
  if ((codec as unknown) === bytesCodec) return bytesDecodeBatchAt(bytes, start, end) as E[];
  return codec.decodeBatch(bytes.subarray(start, end));
}

/**
 * Why {@link tryDecodeRecord} gave no record. Each failure is exactly one outcome of {@link decodeRecord} on the
 * same input: `incomplete` is its `incomplete`; every other value is a `corrupt` result with the code named here.
 */
export const DecodeFailure = {
  /** More bytes are needed (`decodeRecord`: `incomplete`). */
  incomplete: 0,
  /** `WAL_BAD_LENGTH`. */
  badLength: 1,
  /** `WAL_RECORD_TOO_LARGE`. */
  tooLarge: 2,
  /** `WAL_UNKNOWN_KIND`. */
  unknownKind: 3,
  /** `WAL_CRC_MISMATCH`. */
  crcMismatch: 4,
  /** `WAL_DECODE`: an LSN field beyond the safe integer range. */
  unsafeLsn: 5,
  /** `WAL_MARKER_PAYLOAD`. */
  markerPayload: 6,
  /** `WAL_DECODE`: the codec rejected the payload. */
  payload: 7,
} as const;

/** One of the {@link DecodeFailure} values. */
export type DecodeFailure = (typeof DecodeFailure)[keyof typeof DecodeFailure];

/**
 * The record starting at `offset` in `bytes`, or why there is none: {@link decodeRecord}'s checks (the two share
 * one check sequence) and the same verdict on every input, but the result is the record itself (its length is the
 * u32 at `offset`) or a {@link DecodeFailure} number. A valid record allocates nothing but itself and its events: no
 * result wrapper, no payload view with `bytesCodec`; failures build no messages. Never throws.
 * Meant for hot loops that handle any failure by calling {@link decodeRecord} on the same bytes for the details.
 *
 * @param view optional DataView over exactly the memory of `bytes` (same buffer, offset and length): lets the CRC
 *   of records up to a few hundred bytes use the faster sliced loop.
 */
export function tryDecodeRecord<E>(
  bytes: Uint8Array,
  offset: number,
  codec: PayloadCodec<E>,
  view?: DataView,
): WalRecord<E> | DecodeFailure {
  const result = decodeChecked(bytes, offset, codec, view);
  return result instanceof PayloadRejected ? DecodeFailure.payload : result;
}

/** The error a codec threw for a payload, kept for {@link decodeRecord}'s message and cause. */
class PayloadRejected {
  constructor(readonly error: unknown) {}
}

/**
 * The one check sequence behind {@link decodeRecord} and {@link tryDecodeRecord}: the record, the failure, or the
 * codec's error when the payload was the only thing wrong. Allocates nothing on failure but that error's box.
 */
function decodeChecked<E>(
  bytes: Uint8Array,
  offset: number,
  codec: PayloadCodec<E>,
  view: DataView | undefined,
): WalRecord<E> | DecodeFailure | PayloadRejected {
  const available = bytes.length - offset;
  if (available < 4) return DecodeFailure.incomplete;
  // Fields are read straight from `bytes` (no DataView per record: it was the decoder's main allocation).
  const length = readU32(bytes, offset);
  if (length < MIN_RECORD_BYTES) return DecodeFailure.badLength;
  if (length > MAX_RECORD_BYTES) return DecodeFailure.tooLarge;
  if (available < length) return DecodeFailure.incomplete;
  const kindByte = bytes[offset + 4] as number;
  if (KIND_BY_BYTE[kindByte] === undefined) return DecodeFailure.unknownKind;
  const crcAt = offset + length - RECORD_TRAILER_BYTES;
  if (readU32(bytes, crcAt) !== crc32Range(bytes, offset, crcAt, view)) return DecodeFailure.crcMismatch;
  const lsn = readU64(bytes, offset + 5);
  const slot = readU64(bytes, offset + 13);
  if (!Number.isSafeInteger(lsn) || !Number.isSafeInteger(slot)) return DecodeFailure.unsafeLsn;
  const start = offset + RECORD_HEADER_BYTES;
  switch (kindByte) {
    case KIND_MUTATION_BATCH:
    case KIND_MUTATION: {
      try {
        return kindByte === KIND_MUTATION_BATCH
          ? { kind: "mutationBatch", lsn, txBeginLsn: slot, events: decodeBatchIn(codec, bytes, start, crcAt) }
          : { kind: "mutation", lsn, txBeginLsn: slot, event: decodeEventIn(codec, bytes, start, crcAt) };
      } catch (error) {
        return new PayloadRejected(error);
      }
    }
    default:
      if (crcAt !== start) return DecodeFailure.markerPayload;
      switch (kindByte) {
        case KIND_TX_BEGIN:
          return { kind: "txBegin", lsn };
        case KIND_TX_COMMIT:
          return { kind: "txCommit", lsn, txBeginLsn: slot };
        case KIND_TX_ABORT:
          return { kind: "txAbort", lsn, txBeginLsn: slot };
        default:
          return { kind: "checkpoint", lsn, snapshotLsn: slot };
      }
  }
}

const KIND_MUTATION = RecordKindByte.mutation;
const KIND_TX_ABORT = RecordKindByte.txAbort;
