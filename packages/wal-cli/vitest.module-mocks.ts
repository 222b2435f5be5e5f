/**
 * The test files that replace a module with `vi.mock`. They need a fresh module graph each, so they run in their own
 * project (vitest.mocks.config.ts); every other file of this package runs without one (vitest.config.ts).
 */
export const MODULE_MOCK_TESTS = [
  "test/follow-no-segments-note.test.ts",
  "test/hole-look-truncated.test.ts",
  "test/lock-line.test.ts",
  "test/restore-lock-release-fails.test.ts",
  "src/scan/wal-target.listing-budget.test.ts",
  "src/scan/wal-target.stale-listing.test.ts",
  "src/scan/wal-target.truncated-meanwhile.test.ts",
];
