/**
 * Telling "the file is gone" apart from every other failure: readers beside a live writer meet files that
 * truncation or a restarted writer's recovery removed between a listing and a read, and treat that one failure as
 * a reason to look again, never as damage.
 */

/** True for the error of opening or reading a file that does not exist (through the Node seam or SimFS). */
export function isMissingFile(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code === "ENOENT" || (error as { code?: string } | undefined)?.code === "ENOENT";
}
