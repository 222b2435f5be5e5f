/**
 * Continuous archiving of a write-ahead log to a directory or to S3 (any S3-compatible service), and point-in-time
 * restore from the archive.
 *
 * @packageDocumentation
 * @module @lora/wal-archive
 */

export { isWalError, WalError, type WalErrorCode, type WalErrorDetails } from "@lora/wal-codec";
export { type ArchiveKey, archiveKey, PIECES_PREFIX, parseArchiveKey, SEGMENTS_PREFIX } from "./archive-keys.js";
export type {
  ArchiveCallOptions,
  ArchiveObjectInfo,
  ArchivePutOptions,
  ArchiveStore,
} from "./archive-store.js";
export {
  type ArchivableWal,
  type ArchivedSegmentInfo,
  type Archiver,
  type ArchiverOptions,
  type ArchiverStatus,
  startArchiver,
  type WalLifecycleEvent,
} from "./archiver.js";
export { type FsArchive, type FsArchiveOptions, fsArchive } from "./fs-archive.js";
export { type RestoreOptions, type RestoreProgress, type RestoreResult, restore } from "./restore.js";
export {
  type ArchivedPieceObject,
  type ArchivedSegment,
  type ArchivedSegmentObject,
  type ArchiveProblem,
  type ArchiveVerifyReport,
  listArchive,
  type VerifyArchiveOptions,
  type VerifyArchiveProgress,
  verifyArchive,
} from "./verify-archive.js";
