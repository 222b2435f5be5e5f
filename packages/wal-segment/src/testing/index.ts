/**
 * SimFS, an in-memory file system that knows what each fsync covered (crash images, fault injection), the
 * file-system conformance suite, a seam wrapper that counts reads and syncs, the proxy it is built on, and a seam with only the required operations.
 *
 * @packageDocumentation
 * @module @lora/wal-segment/testing
 */

export type { SeamCounts } from "./counting-fs.js";
export { countingFileSystem } from "./counting-fs.js";
export type { ConformanceExpect, ConformanceSuiteOptions, FileSystemFixture } from "./file-system-conformance.js";
export { runFileSystemConformance } from "./file-system-conformance.js";
export { requiredOperationsOnly } from "./required-operations-only.js";
export type {
  CrashImage,
  CrashImageOptions,
  SimErrno,
  SimFaultHandle,
  SimFaultSpec,
  SimOp,
  SimOperationEvent,
  SimStats,
} from "./sim-fs.js";
export { SimFS } from "./sim-fs.js";
export { blankFile, boundProperty, interceptOpen, wrapFileSystem } from "./wrapped-fs.js";
