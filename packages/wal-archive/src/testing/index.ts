/**
 * Test helpers of `@lora/wal-archive`: the archive-store conformance suite, an in-memory store with fault
 * injection, and a clock seam for archivers (`withArchiverClock`, `ManualClock`) that a test advances by count.
 *
 * @packageDocumentation
 * @module @lora/wal-archive/testing
 */

export type { ArchiverClock } from "../archiver-clock.js";
export {
  type ArchiveOp,
  type MemoryArchive,
  type MemoryArchiveCall,
  type MemoryArchiveOptions,
  type MemoryFaultHandle,
  type MemoryFaultKind,
  type MemoryFaultSpec,
  memoryArchive,
} from "../memory-archive.js";
export {
  type ArchiveConformanceExpect,
  type ArchiveStoreConformanceOptions,
  type ArchiveStoreFixture,
  runArchiveStoreConformance,
} from "./archive-store-conformance.js";
export { ManualClock } from "./manual-clock.js";
export { withArchiverClock } from "./with-archiver-clock.js";
