/**
 * The exit code of each failure `restore` documents: a lock another process took from under the restore
 * (`WAL_LOCK_LOST`, found before its first rename, what it wrote undone) is the same case as a lock another handle
 * holds (`WAL_LOCKED`), exit 4, not the log damage of exit 2. (From a review: `WAL_LOCK_LOST` fell through to exit 2,
 * which `lora-wal restore --help` does not list.)
 */

import { expect, it } from "vitest";
import { ExitCode, exitCodeForError } from "./exit-codes.js";

it.each([
  ["WAL_IO", ExitCode.IO],
  ["WAL_LOCKED", ExitCode.IO],
  ["WAL_LOCK_LOST", ExitCode.IO],
  ["WAL_INVALID_OPTION", ExitCode.USAGE],
  ["WAL_ARCHIVE_MISSING", ExitCode.ARCHIVE_MISSING],
  ["WAL_ARCHIVE_CORRUPT", ExitCode.ARCHIVE_CORRUPT],
] as const)("a restore failing with %s exits %i", (code, exit) => {
  expect(exitCodeForError(code)).toBe(exit);
});
