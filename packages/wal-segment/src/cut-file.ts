/**
 * Cutting a file short so that a power loss at any point leaves either the old tail or at most
 * {@link CUT_STEP_BYTES} of it after the cut.
 *
 * A file system cutting a file to a length inside a block (4 KiB usually; 1 KiB up to 64 KiB or more, with the block
 * size) zeroes the rest of that block in the page cache, and on ext4 and xfs that block can reach the disk while the
 * new length does not: the old length, zeros from the cut to the block's end, the bytes after that block as they
 * were. Cutting a torn record there zeroes its header and can
 * leave its payload far past the damage, and bytes in a payload that read as an intact marker (a payload may hold
 * any) would then make the damage read as corruption. So a tail with data more than `CUT_STEP_BYTES` past the cut is
 * cut in two steps, the first one fsynced.
 */

import { shownValue, WalError } from "@lora/wal-codec";
import type { WalFile } from "./fs/file-system.js";
import { isZeroRange } from "./zero-tail.js";

/**
 * The most bytes of the old tail a power loss during {@link cutFile} can leave after the cut (4 KiB): the smallest
 * unsynced window a segment writer or `Wal.open` accepts, so damage with no more than this after it reads as a torn
 * tail in every window.
 */
export const CUT_STEP_BYTES = 4096;

/** Options of {@link cutFile}. */
export interface CutFileOptions {
  /** fsync the new length before resolving; without it, the caller's next fsync of the file makes the cut durable. */
  readonly durable: boolean;
  /**
   * Where the caller knows the file's non-zero bytes end (every byte from here to the end of the file is zero, e.g.
   * because it just read them), so that none is read to find out. Without it, the bytes from `offset +
   * CUT_STEP_BYTES` to the end are read up to the first non-zero one. A larger value than the truth is safe (it may
   * cost a step the tail did not need); a smaller one is not.
   */
  readonly dataEnd?: number | undefined;
}

/**
 * Cut `file` to `offset` bytes (at most its length: a longer `offset` is refused, the file untouched). When non-zero
 * bytes lie more than {@link CUT_STEP_BYTES} past `offset`, the file is first cut to that many bytes past it and
 * fsynced; zeros there (a preallocating writer's) are no data, and such a tail is cut in one step.
 *
 * After a power loss at any point, the bytes before `offset` are as they were, and past it the file holds either the
 * old tail, or no non-zero byte more than `CUT_STEP_BYTES` past `offset`: never zeroed bytes right after `offset`
 * with old data far past them. The old tail is whole up to `offset + CUT_STEP_BYTES`, whatever the file system's
 * block size; from there the first step's lost cut may leave zeros up to the end of the block that position lies in
 * (up to 4 KiB on the usual 4 KiB blocks, up to 64 KiB on 64 KiB blocks, more on larger ones), the bytes after that
 * block as they were. Once it resolves with `durable`, the file is `offset` bytes long for good.
 * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` when `offset` or `dataEnd` is not a non-negative
 *   safe integer (before the file is looked at: a `NaN` data end would read as "nothing past the cut" and cut in one
 *   step), or `offset` is past the file's end (nothing is cut); `WAL_IO`.
 */
export async function cutFile(file: WalFile, offset: number, options: CutFileOptions): Promise<void> {
  checkLength("offset", offset);
  if (options.dataEnd !== undefined) checkLength("dataEnd", options.dataEnd);
  const size = await file.size();
  if (offset > size) {
    throw new WalError("WAL_INVALID_ARGUMENT", `cut offset ${offset} is past the end of the file (${size} bytes)`, {
      details: { offset },
    });
  }
  const step = offset + CUT_STEP_BYTES;
  if (
    size > step &&
    (options.dataEnd === undefined ? !(await isZeroRange(file, step, size)) : options.dataEnd > step)
  ) {
    await file.truncate(step);
    await file.sync();
  }
  await file.truncate(offset);
  if (options.durable) await file.sync();
}

function checkLength(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new WalError("WAL_INVALID_ARGUMENT", `${name} must be a non-negative safe integer, got ${shownValue(value)}`);
  }
}
