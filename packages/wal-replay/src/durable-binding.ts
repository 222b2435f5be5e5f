/**
 * The durable mark's binding, checked against the log: the one piece of evidence that bytes in the last unsynced
 * window had been fsynced (damage-rules.ts, rule 4). The mark (`.lora-wal.durable`) is a hint a writer rewrites
 * after its fsyncs, never fsynced itself, and another writer (LoraDB's engine) or a cut may have changed the log
 * below it since; so it is believed only when the record it names reads back whole, where it says, with the LSN and
 * CRC it says. That record's bytes and every byte before it in its segment were then covered by an fdatasync.
 */

import { crc32, MAX_RECORD_BYTES, MIN_RECORD_BYTES, readU32, readU64 } from "@lora/wal-codec";
import {
  type DurableBinding,
  isMissingFileError,
  readDurableMark,
  SEGMENT_HEADER_BYTES,
  segmentPath,
  type WalFileSystem,
} from "@lora/wal-segment";

/** Bytes read at once while the bound record's CRC is checked. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The binding of the mark of `dir` when its record reads back whole as the mark describes it, else `undefined` (no
 * mark, no binding, a segment missing or shorter, other bytes there).
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when a file cannot be read (never taken for "no binding").
 */
export async function checkedDurableBinding(fs: WalFileSystem, dir: string): Promise<DurableBinding | undefined> {
  return await verifiedBinding(fs, dir, (await readDurableMark(fs, dir))?.binding);
}

/**
 * Whether the record `binding` (of the mark of `dir`) names reads back whole as it describes it: false for a segment
 * missing or shorter, or other bytes there. What `settleDurableBinding` (`@lora/wal-segment`) is given to decide
 * which binding a new writer session keeps.
 * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when a file cannot be read (never taken for "does not read back").
 */
export async function durableBindingReadsBack(
  fs: WalFileSystem,
  dir: string,
  binding: DurableBinding,
): Promise<boolean> {
  return await recordReadsBack(fs, segmentPath(dir, binding.segmentId), binding);
}

/** `binding` (of the mark of `dir`) when its record reads back whole as it describes it, else `undefined`. */
async function verifiedBinding(
  fs: WalFileSystem,
  dir: string,
  binding: DurableBinding | undefined,
): Promise<DurableBinding | undefined> {
  if (binding === undefined) return undefined;
  return (await durableBindingReadsBack(fs, dir, binding)) ? binding : undefined;
}

/** Whether the record at `binding.recordOffset` of `path` has the binding's length, LSN and CRC, and checks out. */
async function recordReadsBack(fs: WalFileSystem, path: string, binding: DurableBinding): Promise<boolean> {
  const { recordOffset: offset, recordBytes: bytes } = binding;
  if (bytes < MIN_RECORD_BYTES || bytes > MAX_RECORD_BYTES || offset < SEGMENT_HEADER_BYTES) return false;
  let file: Awaited<ReturnType<WalFileSystem["open"]>>;
  try {
    file = await fs.open(path, "read");
  } catch (error) {
    if (isMissingFileError(error)) return false;
    throw error;
  }
  try {
    if ((await file.size()) < offset + bytes) return false;
    const chunk = new Uint8Array(Math.min(CHUNK_BYTES, bytes));
    // The stored CRC first: a record that is not the one named fails here, before its bytes are summed.
    if ((await file.read(chunk, 0, 4, offset + bytes - 4)) < 4 || readU32(chunk, 0) !== binding.recordCrc) return false;
    let crc = 0;
    for (let at = 0; at < bytes - 4; ) {
      const want = Math.min(chunk.byteLength, bytes - 4 - at);
      const n = await file.read(chunk, 0, want, offset + at);
      if (n < want) return false;
      if (at === 0 && !headerMatches(chunk, binding)) return false;
      crc = crc32(chunk.subarray(0, n), crc);
      at += n;
    }
    return crc === binding.recordCrc;
  } finally {
    await file.close();
  }
}

/** The record's first bytes: its length and LSN fields say what the binding says. */
function headerMatches(head: Uint8Array, binding: DurableBinding): boolean {
  // The first read holds at least the 21 bytes before a payload (a record is at least 25 bytes), 13 are looked at.
  return readU32(head, 0) === binding.recordBytes && readU64(head, 5) === binding.recordLsn;
}

/**
 * How far the checked binding of a walk's directory vouches for each segment, asked lazily (only damage that could
 * be a torn tail asks) and checked at most once per walk.
 *
 * A walk beside a live writer must read the mark before it reads the segments ({@link DurableBindingCheck.prime}):
 * a mark read after them may vouch for a record the writer wrote and fsynced after the walk read those bytes, which
 * the walk saw as damage (zeros in its buffer, the record after it), and would call that healthy write corruption.
 * A mark read first only vouches for bytes fsynced before the walk read them.
 */
export class DurableBindingCheck {
  readonly #fs: WalFileSystem;
  readonly #dir: string;
  /** The mark's binding as read (not yet checked against the log). */
  #read: Promise<DurableBinding | undefined> | undefined;
  #checked: Promise<DurableBinding | undefined> | undefined;

  constructor(fs: WalFileSystem, dir: string) {
    this.#fs = fs;
    this.#dir = dir;
  }

  /**
   * Read the mark now, before the walk reads a segment: the binding the walk then believes is one whose record was
   * fsynced before the walk read anything. Its record is checked only when damage asks. Never rejects: a mark that
   * cannot be read fails only the damage that asks for it ({@link DurableBindingCheck.vouchedEnd}, never taken for "no
   * binding"), so a walk that meets no damage (a healthy log, a LoraDB directory) does not depend on the hint.
   */
  async prime(): Promise<void> {
    this.#read ??= this.#readBinding();
    await this.#read.catch(() => undefined);
  }

  async #readBinding(): Promise<DurableBinding | undefined> {
    return (await readDurableMark(this.#fs, this.#dir))?.binding;
  }

  async #check(): Promise<DurableBinding | undefined> {
    this.#read ??= this.#readBinding();
    return await verifiedBinding(this.#fs, this.#dir, await this.#read);
  }

  /**
   * The end of the bytes of segment `segmentId` an fdatasync covered, by the checked binding (with it): the bound
   * record's end in its own segment, the whole of an earlier one; `undefined` where it says nothing (a later
   * segment, no binding).
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
   */
  async vouchedEnd(
    segmentId: number | undefined,
  ): Promise<{ readonly end: number; readonly binding: DurableBinding } | undefined> {
    if (segmentId === undefined) return undefined;
    this.#checked ??= this.#check();
    const binding = await this.#checked;
    if (binding === undefined || segmentId > binding.segmentId) return undefined;
    const end = segmentId < binding.segmentId ? Number.POSITIVE_INFINITY : binding.recordOffset + binding.recordBytes;
    return { end, binding };
  }
}
