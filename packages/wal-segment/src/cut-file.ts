/**
 * Cutting a file short so that a power loss at any point leaves either the old tail or at most
 * {@link CUT_STEP_BYTES} of it after the cut.
 *
 * A file system cutting a file to a length inside a 4 KiB block zeroes the rest of that block in the page cache, and
 * on ext4 and xfs that block can reach the disk while the new length does not: the old length, zeros from the cut to
 * the block's end, the bytes after that block as they were. Cutting a torn record there zeroes its header and can
 * leave its payload far past the damage, and bytes in a payload that read as an intact marker (a payload may hold
 * any) would then make the damage read as corruption. So a tail with data more than `CUT_STEP_BYTES` past the cut is
 * cut in two steps, the first one fsynced.
 */

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
 * Cut `file` to `offset` bytes (at most its length). When non-zero bytes lie more than {@link CUT_STEP_BYTES} past
 * `offset`, the file is first cut to that many bytes past it and fsynced; zeros there (a preallocating writer's) are
 * no data, and such a tail is cut in one step.
 *
 * After a power loss at any point, the bytes before `offset` are as they were, and past it the file holds either the
 * old tail (at most the bytes from `offset + CUT_STEP_BYTES` to the end of their 4 KiB block zeroed), or no non-zero
 * byte more than `CUT_STEP_BYTES` past `offset`: never zeroed bytes right after `offset` with old data far past
 * them. Once it resolves with `durable`, the file is `offset` bytes long for good.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
 */
export async function cutFile(file: WalFile, offset: number, options: CutFileOptions): Promise<void> {
  const size = await file.size();
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
