/**
 * Telling "the file is gone" apart from every other failure of the seam. Readers beside a live writer meet files
 * that truncation or a restarted writer's recovery removed between a listing and a read, and treat that one failure
 * as a reason to look again, never as damage.
 */

import { errnoOf } from "@lora/wal-codec";

/**
 * Whether `error` is the seam's failure for a path that does not exist: its errno, as
 * {@link @lora/wal-codec!errnoOf} reads it, is `ENOENT`. The seam's contract puts the errno in `details.errno` of a
 * `WAL_IO` error (with the Node error as `cause`); a plain Node error's `code` counts too, for an error that did not
 * pass through that wrapping.
 */
export function isMissingFileError(error: unknown): boolean {
  return errnoOf(error) === "ENOENT";
}
