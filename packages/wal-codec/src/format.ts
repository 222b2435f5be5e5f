/**
 * Format constants of the LoraDB `lora-wal` on-disk format, version 1. Everything is little-endian.
 *
 * Record framing (docs/format.md, 'Record framing'):
 *
 * | offset | size | field        | encoding                                                        |
 * | ------ | ---- | ------------ | --------------------------------------------------------------- |
 * | 0      | 4    | length       | u32, total record bytes from `length` through `crc` inclusive    |
 * | 4      | 1    | kind         | u8, {@link RecordKindByte}                                        |
 * | 5      | 8    | lsn          | u64, the record's own LSN                                        |
 * | 13     | 8    | txBeginLsn   | u64, owning begin's LSN; 0 for TxBegin; snapshot LSN for Checkpoint |
 * | 21     | N    | payload      | codec bytes for mutations, empty for markers                     |
 * | 21+N   | 4    | crc          | u32, CRC-32/IEEE over bytes [0, 21+N), length prefix included   |
 */

/** Bytes before the payload: length, kind, lsn, txBeginLsn. */
export const RECORD_HEADER_BYTES = 21;
/** The CRC after the payload. */
export const RECORD_TRAILER_BYTES = 4;
/** The smallest record: a marker with an empty payload. */
export const MIN_RECORD_BYTES = RECORD_HEADER_BYTES + RECORD_TRAILER_BYTES;
/** The largest record, framing included (256 MiB). A length exactly equal to this is allowed. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** The kind byte of each record kind. Numbers are stable; new kinds are only ever added at the end. */
export const RecordKindByte = {
  mutation: 1,
  txBegin: 2,
  txCommit: 3,
  txAbort: 4,
  checkpoint: 5,
  mutationBatch: 6,
} as const;

/** A record kind's name, as in `WalRecord["kind"]`. */
export type RecordKind = keyof typeof RecordKindByte;

/** LoraDB `lora-wal` format version written in every segment header. Independent of npm versions. */
export const FORMAT_VERSION = 1;
