export { ByteReader } from "./byte-reader.js";
export { ByteWriter } from "./byte-writer.js";
export { bytesCodec } from "./bytes-codec.js";
export { crc32 } from "./crc32.js";
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
export type { PayloadCodec } from "./payload-codec.js";
export {
  type CheckpointRecord,
  type DecodeResult,
  decodeRecord,
  encodeRecord,
  encodeRecordInto,
  type MutationBatchRecord,
  type MutationRecord,
  type TxAbortRecord,
  type TxBeginRecord,
  type TxCommitRecord,
  type WalRecord,
} from "./record.js";
