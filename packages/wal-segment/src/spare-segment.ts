/**
 * The spare segment: the next segment file, created (and, for a durable log, zero-filled) ahead of rotation, off
 * the path of any commit, as PostgreSQL creates its next WAL segment before it is needed. Rotation then stamps the
 * spare's header, renames it to the next segment's name and makes that name durable, instead of creating a file
 * while commits wait.
 *
 * The spare carries a name that no segment listing takes for a segment (`.lora-wal.next-segment.<nonce>`: its
 * extension is not `wal`), so a crash at any point of its life leaves a directory that opens as if it were not
 * there, here and in LoraDB alike. A segment name never points at a file whose header is not durable: the header is
 * written and fdatasynced under the spare's name, and only then renamed. Each spare's name is new (a random nonce):
 * a handle that lost its directory to another (the directory replaced under it) can only ever rename or remove its
 * own spare, never the new owner's. Spares left behind by a crash hold no records and are removed when the directory
 * is next opened for writing ({@link removeSpareSegments}).
 */

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { shownValue, WalError } from "@lora/wal-codec";
import type { WalFile, WalFileSystem } from "./fs/file-system.js";
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES, type SegmentHeader } from "./segment-header.js";
import { SegmentWriter, type SegmentWriterOptions, validateOptions } from "./segment-writer.js";
import { MAX_PREALLOCATE_BYTES, zeroBytes } from "./zero-tail.js";

/** What every spare segment's file name starts with (a nonce follows). A segment listing ignores these names. */
export const SPARE_SEGMENT_PREFIX = ".lora-wal.next-segment.";

/** The name the first spares had, without a nonce (removed like the others). */
const UNSUFFIXED_SPARE_NAME = SPARE_SEGMENT_PREFIX.slice(0, -1);

/** Whether `name` (a directory entry) is a spare segment's. */
export function isSpareSegmentName(name: string): boolean {
  return name.startsWith(SPARE_SEGMENT_PREFIX) || name === UNSUFFIXED_SPARE_NAME;
}

/**
 * Remove every spare segment of `dir` (left by a crash, or by a handle that failed): none holds records. For a
 * handle that just took the directory's lock; not made durable (a spare that comes back after a crash is removed
 * again at the next open). Each is tried: one that cannot be removed (an odd entry of that name) does not keep the
 * others; the first failure is thrown after.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
 */
export async function removeSpareSegments(fs: WalFileSystem, dir: string): Promise<void> {
  let failure: { readonly error: unknown } | undefined;
  for (const name of await fs.readdir(dir)) {
    if (!isSpareSegmentName(name)) continue;
    try {
      await removeIfPresent(fs, join(dir, name));
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure !== undefined) throw failure.error;
}

/** Zero-filling is done in whole 4 KiB pages. */
const PAGE_BYTES = 4096;

/**
 * A segment file made ahead of need. {@link SpareSegment.prepare} creates it; rotation calls
 * {@link SpareSegment.stamp} (beside the old segment's seal), then {@link SpareSegment.becomeSegment}.
 * A spare not used is removed with {@link SpareSegment.discard}.
 */
export class SpareSegment {
  /** The spare's path (`<dir>/.lora-wal.next-segment.<nonce>`). */
  readonly path: string;
  readonly #fs: WalFileSystem;
  readonly #file: WalFile;
  /** The file holds durable zeros up to here (0 for a spare that was not zero-filled). */
  readonly #zeroedEnd: number;
  #header: SegmentHeader | undefined;
  #done = false;

  private constructor(fs: WalFileSystem, path: string, file: WalFile, zeroedEnd: number) {
    this.#fs = fs;
    this.path = path;
    this.#file = file;
    this.#zeroedEnd = zeroedEnd;
  }

  /**
   * Create a spare in `dir` under a new name (created exclusively: nothing is ever replaced): an empty file, or with
   * `zeroFillBytes > 0` one zero-filled past the header by that many bytes (rounded up to whole pages) and
   * fdatasynced, so a durable log writes its first records into the file rather than lengthening it. The name is
   * not made durable: nothing depends on it until rotation renames the file and fsyncs the directory.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (no spare is left behind); `WAL_INVALID_ARGUMENT` for a negative
   *   or fractional `zeroFillBytes`, or one above {@link MAX_PREALLOCATE_BYTES} (nothing is created).
   */
  static async prepare(fs: WalFileSystem, dir: string, zeroFillBytes: number): Promise<SpareSegment> {
    if (!Number.isSafeInteger(zeroFillBytes) || zeroFillBytes < 0 || zeroFillBytes > MAX_PREALLOCATE_BYTES) {
      throw new WalError(
        "WAL_INVALID_ARGUMENT",
        `zeroFillBytes must be an integer from 0 to ${MAX_PREALLOCATE_BYTES}, got ${shownValue(zeroFillBytes)}`,
      );
    }
    const path = join(dir, `${SPARE_SEGMENT_PREFIX}${randomBytes(6).toString("hex")}`);
    const file = await fs.open(path, "createExclusive");
    try {
      const end = zeroFillBytes === 0 ? 0 : Math.ceil((SEGMENT_HEADER_BYTES + zeroFillBytes) / PAGE_BYTES) * PAGE_BYTES;
      if (end > 0) {
        await file.write(zeroBytes(end), 0);
        await file.datasync();
      }
      return new SpareSegment(fs, path, file, end);
    } catch (error) {
      await file.close().catch(() => undefined);
      await removeIfPresent(fs, path).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Write the header of a fresh, unsealed segment based at `baseLsn` into the spare and fdatasync it: after this,
   * the file is a valid empty segment in all but name. Runs beside the old segment's seal.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`; `WAL_CLOSED` once the spare became a segment or was discarded.
   */
  async stamp(baseLsn: number): Promise<void> {
    this.#assertUsable();
    const header: SegmentHeader = { formatVersion: 1, baseLsn, sealed: false, flags: 0 };
    await this.#file.write(encodeSegmentHeader(header), 0);
    await this.#file.datasync();
    this.#header = header;
  }

  /**
   * Rename the stamped spare to `path` (a segment name) and return a writer appending after its header. The new
   * name is not durable until the caller fsyncs the directory; a crash before that leaves the spare, which the next
   * open removes. Past its argument checks the spare is used up, whatever the outcome.
   * @throws {@link @lora/wal-codec!WalError} `WAL_MALFORMED` when `path` exists already (a rename would replace it:
   *   nothing is renamed); `WAL_IO`; `WAL_INVALID_ARGUMENT` when the spare was not stamped, `WAL_INVALID_OPTION` for
   *   a bad writer option, each before anything is closed or renamed (the spare stays usable).
   */
  async becomeSegment(path: string, options: SegmentWriterOptions = {}): Promise<SegmentWriter> {
    this.#assertUsable();
    const header = this.#header;
    if (header === undefined) {
      throw new WalError("WAL_INVALID_ARGUMENT", "a spare segment must be stamped before it becomes a segment", {
        details: { path: this.path },
      });
    }
    // Before the rename, as the writer would only after it: a refused option leaves the spare a spare, still usable.
    const read = validateOptions(options);
    this.#done = true;
    // The spare's own handle is closed and the file opened again by its new name, so every later error and fault
    // names the segment, not the spare.
    await this.#file.close();
    // Creating a segment never replaces a file; a rename would, so it looks first (under the directory's lock nothing
    // else creates segments, so the name cannot appear in between).
    if ((await this.#fs.stat(path)) !== null) {
      await removeIfPresent(this.#fs, this.path).catch(() => undefined);
      throw new WalError("WAL_MALFORMED", `segment ${path} exists already: rotation will not replace it`, {
        details: { path },
      });
    }
    await this.#fs.rename(this.path, path);
    const file = await this.#fs.open(path, "readWrite");
    try {
      return SegmentWriter.overStampedFile(file, header, this.#zeroedEnd, read);
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Close the spare; with `remove`, delete it too (not durably: a spare that comes back after a crash is removed at
   * the next open). A handle that may no longer own its directory (a lost lock) closes without removing: the name
   * may by now be another handle's spare.
   */
  async discard(remove: boolean): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      await this.#file.close();
    } finally {
      if (remove) await removeIfPresent(this.#fs, this.path);
    }
  }

  #assertUsable(): void {
    if (this.#done)
      throw new WalError("WAL_CLOSED", "the spare segment was used or discarded", { details: { path: this.path } });
  }
}

async function removeIfPresent(fs: WalFileSystem, path: string): Promise<void> {
  if ((await fs.stat(path)) !== null) await fs.unlink(path);
}
