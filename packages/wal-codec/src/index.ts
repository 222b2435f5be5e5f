/**
 * Record framing, CRC-32 and payload codecs (`bytes`, `json`, LoraDB's LW1) of the LoraDB write-ahead log
 * format. Pure functions over `Uint8Array`; no I/O.
 *
 * @packageDocumentation
 * @module @lora/wal-codec
 */

export { ByteReader } from "./byte-reader.js";
export { ByteWriter } from "./byte-writer.js";
export { bytesCodec } from "./bytes-codec.js";
export { crc32, crc32Range } from "./crc32.js";
export { isWalError, WalError, type WalErrorCode, type WalErrorDetails, type WalErrorOptions } from "./errors.js";
export {
  FORMAT_VERSION,
  MAX_RECORD_BYTES,
  MIN_RECORD_BYTES,
  RECORD_HEADER_BYTES,
  RECORD_TRAILER_BYTES,
  type RecordKind,
  RecordKindByte,
} from "./format.js";
export { type JsonValue, jsonCodec } from "./json-codec.js";
export {
  type ConstraintRequest,
  compareUtf8,
  createPropertyMap,
  DECODE_HEAP_BYTES_PER_INPUT_BYTE,
  decodeConstraintRequest,
  decodeIndexRequest,
  decodeLw1Batch,
  decodeLw1Event,
  encodeLw1Batch,
  encodeLw1Event,
  type F64,
  type IndexConfigMap,
  type IndexConfigValue,
  type IndexEntity,
  type IndexKind,
  type IndexRequest,
  LoraBinary,
  LoraDate,
  LoraDateTime,
  LoraDuration,
  LoraFloat,
  LoraLocalDateTime,
  LoraLocalTime,
  LoraPoint,
  LoraTime,
  LoraVector,
  LW1_MAGIC,
  loraCodec,
  MAX_NESTING_DEPTH,
  MUTATION_EVENT_TYPES,
  type MutationEvent,
  type MutationEventOf,
  type MutationEventType,
  type PropertyMap,
  type PropertyTypeTerm,
  type PropertyValue,
  type ScalarType,
  type SimpleConstraintKind,
  type VectorCoordType,
  type VectorValues,
  writeConstraintRequest,
  writeIndexRequest,
} from "./lora/index.js";
export type { PayloadCodec } from "./payload-codec.js";
export {
  type CheckpointRecord,
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
