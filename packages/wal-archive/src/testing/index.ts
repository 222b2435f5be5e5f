/**
 * Test helpers of `@lora/wal-archive`: the archive-store conformance suite and an in-memory store with fault
 * injection.
 *
 * @packageDocumentation
 * @module @lora/wal-archive/testing
 */

export {};
