/**
 * Record framing, CRC-32, the {@link PayloadCodec} interface and the `bytes` and `json` payload codecs of the
 * LoraDB write-ahead log format. Pure functions over `Uint8Array`; no I/O.
 *
 * LoraDB's own payload codec (LW1: `loraCodec`, the mutation events and property values) is the subpath
 * `@lora/wal-codec/lora`, so a log of `bytes` or `json` payloads does not load it.
 *
 * @packageDocumentation
 * @module @lora/wal-codec
 */

export { ByteReader } from "./byte-reader.js";
export { ByteWriter } from "./byte-writer.js";
export { bytesCodec } from "./bytes-codec.js";
export { checkPayloadCodec, type PayloadCodecUse, payloadCodecProblem } from "./check-codec.js";
export {
  checkOptionsObject,
  checkPath,
  checkSignal,
  copyOfArray,
  isAbortSignal,
  MAX_ARRAY_ARGUMENT_LENGTH,
  MAX_TIMER_MS,
  readCallerValue,
  type SignalCheck,
  shownError,
  shownValue,
} from "./check-options.js";
export { closestName } from "./closest-name.js";
export { crc32, crc32Range, markerCrc32 } from "./crc32.js";
export { errnoOf } from "./errno-of.js";
export { isWalError, WalError, type WalErrorCode, type WalErrorDetails, type WalErrorOptions } from "./errors.js";
export { firstNames } from "./first-names.js";
export {
  FORMAT_VERSION,
  MAX_RECORD_BYTES,
  MIN_RECORD_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_TRAILER_BYTES,
  type RecordKind,
  RecordKindByte,
} from "./format.js";
export { declareFreshBatches, returnsFreshBatches } from "./fresh-batches.js";
export { type JsonValue, jsonCodec } from "./json-codec.js";
export { readU32, readU64 } from "./little-endian.js";
export { checkOptionNames, optionNames, optionOr } from "./option-names.js";
export type { PayloadCodec } from "./payload-codec.js";
export {
  type CheckpointRecord,
  crcMismatchError,
  DecodeFailure,
  type DecodeResult,
  decodeRecord,
  encodeCommitTxInto,
  encodeRecord,
  encodeRecordInto,
  type MutationBatchRecord,
  type MutationRecord,
  type TxAbortRecord,
  type TxBeginRecord,
  type TxCommitRecord,
  tryDecodeRecord,
  type WalRecord,
} from "./record.js";
export { shellPath } from "./shell-path.js";
export { type AdviceOptions, withAdvice } from "./with-advice.js";
