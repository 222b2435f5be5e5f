/**
 * SimFS, an in-memory file system that knows what each fsync covered (crash images, fault injection), and the
 * file-system conformance suite.
 *
 * @packageDocumentation
 * @module @lora/wal-segment/testing
 */

export type { ConformanceExpect, ConformanceSuiteOptions, FileSystemFixture } from "./file-system-conformance.js";
export { runFileSystemConformance } from "./file-system-conformance.js";
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
