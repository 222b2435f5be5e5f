/**
 * Test helpers of `@lora/wal-archive`: the archive-store conformance suite and an in-memory store with fault
 * injection.
 *
 * @packageDocumentation
 * @module @lora/wal-archive/testing
 */

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
