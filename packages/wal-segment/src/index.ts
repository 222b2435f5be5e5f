/**
 * Segment files (header, naming, writer, reader, seal) and the file-system seam the log does its I/O through.
 *
 * @packageDocumentation
 * @module @lora/wal-segment
 */

export { CUT_STEP_BYTES, type CutFileOptions, cutFile } from "./cut-file.js";
export {
  DURABLE_MARK_BOUND_BYTES,
  DURABLE_MARK_BYTES,
  DURABLE_MARK_FILE,
  type DurableBinding,
  type DurableMark,
  DurableMarkReader,
  DurableMarkWriter,
  decodeDurableMark,
  encodeDurableMark,
  readDurableMark,
  settleDurableBinding,
} from "./durable-mark.js";
export type { FileStat, OpenMode, WalFile, WalFileSystem } from "./fs/file-system.js";
export { checkFileSystemArgument, fileSystemOption } from "./fs/file-system-option.js";
export { isMissingFileError } from "./fs/missing-file.js";
export { mkdirDurably } from "./fs/mkdir-durably.js";
export { createNodeFileSystem } from "./fs/node-file-system.js";
export { removeEmptyDirDurably } from "./fs/remove-dir-durably.js";
export { DEFAULT_READ_BYTES, readSizeOf } from "./read-size.js";
export {
  decodeSegmentHeader,
  encodeSegmentHeader,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  type SegmentHeader,
  withSealedFlag,
} from "./segment-header.js";
export {
  type ListSegmentsOptions,
  LOCK_FILE_NAME,
  listSegments,
  parseRestoringSegmentId,
  parseSegmentId,
  RESTORING_SUFFIX,
  type SegmentEntry,
  segmentFileName,
  segmentPath,
  unfinishedRestoreError,
} from "./segment-name.js";
export { type ReadStep, SegmentReader, type SegmentReaderOptions } from "./segment-reader.js";
export {
  type SegmentFlushOptions,
  SegmentWriter,
  type SegmentWriterOptions,
  UNSYNCED_WINDOW_BYTES,
  type WrittenRecord,
} from "./segment-writer.js";
export { isSpareSegmentName, removeSpareSegments, SPARE_SEGMENT_PREFIX, SpareSegment } from "./spare-segment.js";
export { dataEndOf, isZeroRange, lastNonZero, MAX_PREALLOCATE_BYTES } from "./zero-tail.js";
