/**
 * Telling "the file is gone" apart from every other failure of the seam. Readers beside a live writer meet files
 * that truncation or a restarted writer's recovery removed between a listing and a read, and treat that one failure
 * as a reason to look again, never as damage.
 */

/**
 * Whether `error` is the seam's failure for a path that does not exist. The seam's contract puts the errno in
 * `details.errno` of a `WAL_IO` error (with the Node error as `cause`); `cause.code` and a plain `code` count too,
 * for an error that did not pass through that wrapping.
 */
export function isMissingFileError(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown }; details?: { errno?: unknown } } | null | undefined;
  return e?.details?.errno === "ENOENT" || e?.cause?.code === "ENOENT" || e?.code === "ENOENT";
}
