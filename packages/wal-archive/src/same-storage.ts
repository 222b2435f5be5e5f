/**
 * Whether an archiver's own `fs` option reaches the files its handle writes. Given a seam of its own (a wrapper
 * over the handle's, as fault-injection tests give), an archiver reading another store of files at the handle's
 * path (another SimFS, Node's disk under a handle opened over a seam) would archive whatever log that one holds and
 * write its slot there, while the handle's log was never archived nor held back from truncation.
 */

import { WalError } from "@lora/wal-codec";
import { listSegments, type WalFileSystem } from "@lora/wal-segment";

/**
 * Check that the handle's directory holds a segment through the handle's seam and that its newest segment is the
 * same file through `fs`: present there too, with the same identity when both seams report one. A seam that reports
 * no identity is told apart only by a missing file, and so are two SimFS instances (their identities count from the
 * same start). Nothing is written.
 * @throws {@link WalError} `WAL_INVALID_OPTION` when `fs` reaches other files; `WAL_IO` from either seam.
 */
export async function checkSameStorage(fs: WalFileSystem, handleFs: WalFileSystem, dir: string): Promise<void> {
  const newest = (await listSegments(handleFs, dir)).at(-1);
  if (newest === undefined) {
    // A handle always has its active segment: its directory is not where the seam looks (or was removed under it).
    throw new WalError(
      "WAL_INVALID_OPTION",
      `startArchiver: ${dir} holds no log segment through the handle's seam${fs === handleFs ? "" : " (wal.fs())"}: the archiver would wait for the handle's commits forever; check that the handle's dir() and fs() name its log`,
      { details: { path: dir } },
    );
  }
  if (fs === handleFs) return;
  // Through the archiver's seam first: a segment is never created again at a path once removed, so one the handle's
  // seam still has afterwards existed all along.
  const through = await fs.stat(newest.path);
  const actual = await handleFs.stat(newest.path);
  if (actual === null) return; // truncated meanwhile: nothing to compare
  const refuse = (what: string) =>
    new WalError(
      "WAL_INVALID_OPTION",
      `startArchiver: the fs option does not reach the files the handle writes: ${newest.path} ${what}; leave fs out to archive through the handle's own seam (wal.fs()), or give a wrapper over it`,
      { details: { path: newest.path } },
    );
  if (through === null) throw refuse("exists through the handle's seam but not through fs");
  if (through.identity !== undefined && actual.identity !== undefined && through.identity !== actual.identity) {
    throw refuse(`is another file through fs (identity ${through.identity}, the handle's is ${actual.identity})`);
  }
}
