/**
 * The durable mark: a small file `.lora-wal.durable` in the log directory through which a writer tells readers in
 * other processes how far the log is durable, so a follower can deliver only what a crash cannot take back.
 *
 * Version 2 (40 bytes, what writers write):
 *
 * | offset | size | field           | value                                                                   |
 * | ------ | ---- | --------------- | ----------------------------------------------------------------------- |
 * | 0      | 8    | magic           | `LWDURBL\x02`                                                           |
 * | 8      | 8    | session         | u64, random per writer open: a new value means the writer restarted     |
 * | 16     | 8    | durableLsn      | u64, every record at or below it was covered by an fdatasync            |
 * | 24     | 8    | sessionStartLsn | u64, the first LSN this session writes: a transaction begun below it and |
 * |        |      |                 | not finished can never commit (a session never finishes an earlier one's) |
 * | 32     | 4    | flags           | u32, bit 0 = the writer closed the log cleanly                          |
 * | 36     | 4    | crc             | u32, CRC-32/IEEE over bytes [0, 36)                                     |
 *
 * The binding (36 bytes after the version 2 mark, when the writer knows the bytes it vouches for; 76 bytes in all):
 * the record whose end an fdatasync covered, so a reader can check that the bytes the mark speaks for are still the
 * ones that were made durable.
 *
 * | offset | size | field          | value                                                                  |
 * | ------ | ---- | -------------- | ---------------------------------------------------------------------- |
 * | 40     | 8    | segmentId      | u64, the segment holding the record                                    |
 * | 48     | 8    | recordOffset   | u64, where the record starts in it                                     |
 * | 56     | 8    | recordLsn      | u64, the record's LSN (at or below `durableLsn`)                       |
 * | 64     | 4    | recordBytes    | u32, the record's length: bytes [0, recordOffset + recordBytes) of the |
 * |        |      |                | segment were covered by an fdatasync                                   |
 * | 68     | 4    | recordCrc      | u32, the CRC the record stores                                         |
 * | 72     | 4    | bindingCrc     | u32, CRC-32/IEEE over bytes [0, 72) with bytes [36, 40) (the mark's    |
 * |        |      |                | own CRC) read as zeros: never read with another mark's first bytes     |
 *
 * A reader of version 2 reads the first 40 bytes and ignores the rest; a binding whose CRC fails (torn, or left
 * behind by a writer that wrote only 40 bytes over it) is read as absent, the first 40 bytes still as a mark.
 *
 * Version 1 (32 bytes, magic `LWDURBL\x01`, still read) has no `sessionStartLsn` (read as 0, unknown): session at
 * 8, durableLsn at 16, flags at 24, crc over [0, 28) at 28.
 *
 * The writer rewrites it in place (one `pwrite`, never fsynced) after each fsync that advanced the durable LSN. It
 * is a hint, never a source of truth: it is written only after the fsync it reports, so after any crash it names an
 * LSN that is durable or lower; a torn or missing mark reads as "unknown". LoraDB's engine ignores the file. Recovery
 * believes a binding only when its record reads back whole, at that place, with that LSN and CRC (see
 * `@lora/wal-replay`'s damage rules), and `Wal.open` removes a binding it cannot carry over before anything is
 * appended (docs/recovery.md).
 */

import { join } from "node:path";
import { crc32, crc32Range, shownValue, WalError } from "@lora/wal-codec";
import type { WalFile, WalFileSystem } from "./fs/file-system.js";
import { isMissingFileError } from "./fs/missing-file.js";

/** The mark's file name, in the log directory. */
export const DURABLE_MARK_FILE = ".lora-wal.durable";
/** Its size in bytes (version 2; a version 1 mark is 32), without a binding. */
export const DURABLE_MARK_BYTES = 40;
/** Its size with a binding ({@link DurableBinding}). */
export const DURABLE_MARK_BOUND_BYTES = 76;
const V1_BYTES = 32;
const TWO_POW_32_MINUS_1 = 0xffff_ffff;
/** `LWDURBL` and the version byte. */
const MAGIC = [0x4c, 0x57, 0x44, 0x55, 0x52, 0x42, 0x4c];
const TWO_POW_32 = 0x1_0000_0000;
const CLOSED_FLAG = 1;

/** What a durable mark says. */
export interface DurableMark {
  /** Random per writer open (a safe integer): a change means the writer restarted since the last read. */
  readonly session: number;
  /** Every record at or below this LSN was covered by an fdatasync when the mark was written. */
  readonly durableLsn: number;
  /** The writer closed the log cleanly (it synced everything it wrote). */
  readonly closed: boolean;
  /**
   * The first LSN this writer session writes (0: unknown, a version 1 mark). A transaction begun below it and not
   * finished can never commit.
   */
  readonly sessionStartLsn: number;
  /** The record whose end an fdatasync covered, when the writer knew it (absent otherwise). */
  readonly binding?: DurableBinding;
}

/**
 * A record a durable mark vouches for: bytes [0, `recordOffset + recordBytes`) of segment `segmentId` were covered
 * by an fdatasync, and they end with this record.
 */
export interface DurableBinding {
  readonly segmentId: number;
  /** Where the record starts in the segment. */
  readonly recordOffset: number;
  /** The record's length in bytes. */
  readonly recordBytes: number;
  /** The record's LSN. */
  readonly recordLsn: number;
  /** The CRC the record stores (its last 4 bytes). */
  readonly recordCrc: number;
}

/** Encode a mark (version 2, with its binding when it has one). @throws {@link @lora/wal-codec!WalError} `WAL_ENCODE` for values that are not safe integers. */
export function encodeDurableMark(mark: DurableMark): Uint8Array {
  for (const [name, value] of [
    ["session", mark.session],
    ["durableLsn", mark.durableLsn],
    ["sessionStartLsn", mark.sessionStartLsn],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new WalError(
        "WAL_ENCODE",
        `durable mark ${name} must be a non-negative safe integer, got ${shownValue(value)}`,
      );
    }
  }
  const binding = mark.binding;
  if (binding !== undefined) checkBinding(binding);
  const bytes = new Uint8Array(binding === undefined ? DURABLE_MARK_BYTES : DURABLE_MARK_BOUND_BYTES);
  const view = new DataView(bytes.buffer);
  writeMark(bytes, view, mark.session, mark.durableLsn, mark.sessionStartLsn, mark.closed);
  if (binding !== undefined) writeBinding(bytes, view, binding);
  return bytes;
}

/**
 * Write a version 2 mark of checked values as the first 40 bytes of `bytes`, `view` over the same memory (from its
 * first byte). Fields, not a {@link DurableMark}, and its CRC summed in place, as the binding's: the writer writes a
 * mark at every sync round, without making an object or a view for it.
 */
function writeMark(
  bytes: Uint8Array,
  view: DataView,
  session: number,
  durableLsn: number,
  sessionStartLsn: number,
  closed: boolean,
): void {
  bytes.set(MAGIC, 0);
  bytes[7] = 2;
  putU64(view, 8, session);
  putU64(view, 16, durableLsn);
  putU64(view, 24, sessionStartLsn);
  view.setUint32(32, closed ? CLOSED_FLAG : 0, true);
  view.setUint32(36, crc32Range(bytes, 0, 36, view), true);
}

/** Write a checked `binding` after the mark `writeMark` wrote at the start of `bytes` (76 bytes or more). */
function writeBinding(bytes: Uint8Array, view: DataView, binding: DurableBinding): void {
  putU64(view, 40, binding.segmentId);
  putU64(view, 48, binding.recordOffset);
  putU64(view, 56, binding.recordLsn);
  view.setUint32(64, binding.recordBytes, true);
  view.setUint32(68, binding.recordCrc, true);
  view.setUint32(72, bindingCrc(bytes), true);
}

/** The bytes a binding's CRC is computed over (one mark at a time: the computation never awaits). */
const CRC_SCRATCH = new Uint8Array(72);
const CRC_SCRATCH_VIEW = new DataView(CRC_SCRATCH.buffer);

/**
 * The binding's CRC: over bytes [0, 72) with the mark's own CRC (bytes [36, 40)) read as zeros. A CRC run over a
 * message followed by its own CRC ends in the same state whatever the message, so one over the bytes as they are
 * would not tell one version 2 mark from another, and a binding left behind by a writer that wrote only 40 bytes
 * over it would still check. Computed in JavaScript (a `zlib.crc32` call costs more than these 72 bytes): it is
 * written at every sync round.
 */
function bindingCrc(bytes: Uint8Array): number {
  CRC_SCRATCH.set(bytes.subarray(0, 72));
  CRC_SCRATCH_VIEW.setUint32(36, 0, true);
  return crc32Range(CRC_SCRATCH, 0, 72, CRC_SCRATCH_VIEW);
}

function checkBinding(binding: DurableBinding): void {
  checkField("segmentId", binding.segmentId, Number.MAX_SAFE_INTEGER);
  checkField("recordOffset", binding.recordOffset, Number.MAX_SAFE_INTEGER);
  checkField("recordLsn", binding.recordLsn, Number.MAX_SAFE_INTEGER);
  checkField("recordBytes", binding.recordBytes, TWO_POW_32_MINUS_1);
  checkField("recordCrc", binding.recordCrc, TWO_POW_32_MINUS_1);
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new WalError("WAL_ENCODE", `durable mark binding ${name} is out of range, got ${shownValue(value)}`);
  }
}

/** Decode a mark of either version; `null` for anything that is not a whole, CRC-valid mark (torn, zeroed, short, foreign). */
export function decodeDurableMark(bytes: Uint8Array): DurableMark | null {
  if (bytes.byteLength < V1_BYTES) return null;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return null;
  const version = bytes[7];
  const size = version === 1 ? V1_BYTES : version === 2 ? DURABLE_MARK_BYTES : 0;
  if (size === 0 || bytes.byteLength < size) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  if (view.getUint32(size - 4, true) !== crc32(bytes.subarray(0, size - 4))) return null;
  const session = getU64(view, 8);
  const durableLsn = getU64(view, 16);
  const sessionStartLsn = version === 1 ? 0 : getU64(view, 24);
  if (session === null || durableLsn === null || sessionStartLsn === null) return null;
  const closed = (view.getUint32(size - 8, true) & CLOSED_FLAG) !== 0;
  const binding = version === 2 ? decodeBinding(bytes) : undefined;
  return binding === undefined
    ? { session, durableLsn, closed, sessionStartLsn }
    : { session, durableLsn, closed, sessionStartLsn, binding };
}

/** The binding after a version 2 mark: `undefined` when there is none or it is not whole and CRC-valid. */
function decodeBinding(bytes: Uint8Array): DurableBinding | undefined {
  if (bytes.byteLength < DURABLE_MARK_BOUND_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, DURABLE_MARK_BOUND_BYTES);
  if (view.getUint32(72, true) !== bindingCrc(bytes)) return undefined;
  const segmentId = getU64(view, 40);
  const recordOffset = getU64(view, 48);
  const recordLsn = getU64(view, 56);
  if (segmentId === null || recordOffset === null || recordLsn === null) return undefined;
  return {
    segmentId,
    recordOffset,
    recordLsn,
    recordBytes: view.getUint32(64, true),
    recordCrc: view.getUint32(68, true),
  };
}

/**
 * Read the mark of the log in `dir`: `null` when there is none or it is not whole (a reader then knows nothing about
 * durability from it).
 * @throws {@link @lora/wal-codec!WalError} only what the seam throws for other reasons than a missing file.
 */
export async function readDurableMark(fs: WalFileSystem, dir: string): Promise<DurableMark | null> {
  // A one-time look is the kept-open reader's first read, then its release.
  const reader = new DurableMarkReader(fs, dir);
  try {
    return await reader.read();
  } finally {
    await reader.close();
  }
}

/**
 * The reader's side for a follower that looks at the mark on every wake-up: keeps the file open and reads it with
 * one positional read, synchronous where the seam offers it (a page-cache read of at most 76 bytes instead of a stat, an
 * open, a read and a close through the thread pool). The writer rewrites the file in place, so the open file keeps
 * showing its current content; should the file be replaced (removed and created again), {@link DurableMarkReader.reopen}
 * makes the next read open it afresh, which a caller does on a directory event for the mark's name or now and then.
 * Where there is no mark, reads answer `null` without looking again until `reopen()`: a follower catching up on a log
 * no writer publishes for (LoraDB's) would otherwise pay a stat per batch of transactions.
 */
export class DurableMarkReader {
  readonly #fs: WalFileSystem;
  readonly #path: string;
  readonly #bytes = new Uint8Array(DURABLE_MARK_BOUND_BYTES);
  #file: WalFile | undefined;
  #stale = true;
  #closed = false;

  constructor(fs: WalFileSystem, dir: string) {
    this.#fs = fs;
    this.#path = join(dir, DURABLE_MARK_FILE);
  }

  /**
   * The mark as the file holds it now: `null` when there is none or it is not whole.
   * @throws {@link @lora/wal-codec!WalError} only what the seam throws for other reasons than a missing file.
   */
  async read(): Promise<DurableMark | null> {
    if (this.#closed) return null;
    if (this.#stale) await this.#open();
    const file = this.#file;
    if (file === undefined) return null;
    const bytes = this.#bytes;
    const n =
      file.readSync !== undefined
        ? file.readSync(bytes, 0, DURABLE_MARK_BOUND_BYTES, 0)
        : await file.read(bytes, 0, DURABLE_MARK_BOUND_BYTES, 0);
    return decodeDurableMark(bytes.subarray(0, n));
  }

  /** Open the file again at the next read (it may have been replaced). */
  reopen(): void {
    this.#stale = true;
  }

  /** Release the file. Idempotent; later reads answer `null`. */
  async close(): Promise<void> {
    this.#closed = true;
    const file = this.#file;
    this.#file = undefined;
    await file?.close().catch(() => undefined);
  }

  async #open(): Promise<void> {
    this.#stale = false;
    const old = this.#file;
    this.#file = undefined;
    await old?.close().catch(() => undefined);
    if ((await this.#fs.stat(this.#path)) === null) return; // none: look again after reopen()
    try {
      this.#file = await this.#fs.open(this.#path, "read");
    } catch (error) {
      // Removed between the stat and the open: none yet. Any other failure (EACCES, EIO, EMFILE) is not "no mark".
      if (!isMissingFileError(error)) throw error;
      this.#stale = true;
      return;
    }
    if (this.#closed) {
      await this.#file.close().catch(() => undefined);
      this.#file = undefined;
    }
  }
}

/**
 * The writer's side: keeps the mark file open and rewrites it in place. Writes are synchronous when the seam can
 * (one pwrite of at most 76 bytes to the page cache, a few microseconds) so the mark is current before the commits
 * it covers are acknowledged; a failed write is ignored (the mark is only a hint, and readers fall back to their own
 * fsync).
 */
export class DurableMarkWriter {
  readonly #file: WalFile;
  readonly #session: number;
  readonly #sessionStartLsn: number;
  #last = -1;
  /** The newest binding published (or carried over from the last session): it stays true until a newer one. */
  #binding: DurableBinding | undefined;
  /**
   * Where a mark is encoded for a synchronous write, reused: a typed array over 64 bytes is allocated off V8's heap,
   * which cost more than the rest of a publish (measured ~4 µs against ~1). An asynchronous write gets a copy.
   */
  readonly #out = new Uint8Array(DURABLE_MARK_BOUND_BYTES);
  readonly #outView = new DataView(this.#out.buffer);
  readonly #out40 = this.#out.subarray(0, DURABLE_MARK_BYTES);
  #closed = false;
  /**
   * A seam without `writeSync` writes asynchronously, one write at a time, so an earlier mark never lands over a
   * later one. Only the newest mark waits for the write under way (a mark replaces the one before it), so a slow
   * seam costs at most one write in flight and one waiting, however many marks are published meanwhile.
   */
  #waiting: Uint8Array | undefined;
  /** The loop writing `#waiting` while there is one; the file is closed only after it ends. */
  #writing: Promise<void> | undefined;

  private constructor(file: WalFile, session: number, sessionStartLsn: number, binding: DurableBinding | undefined) {
    this.#file = file;
    this.#session = session;
    this.#sessionStartLsn = sessionStartLsn;
    this.#binding = binding;
  }

  /**
   * Open (or create) the mark of `dir` for a new writer session whose first record will be `sessionStartLsn`.
   * `binding`, a binding recovery checked and left in place (see {@link settleDurableBinding}), is carried over into
   * the session's marks until an fsync gives a newer one.
   * @throws {@link @lora/wal-codec!WalError} `WAL_ENCODE` when `sessionStartLsn` is not a non-negative safe integer,
   *   and what the seam throws.
   */
  static async open(
    fs: WalFileSystem,
    dir: string,
    sessionStartLsn = 0,
    binding?: DurableBinding,
  ): Promise<DurableMarkWriter> {
    if (!Number.isSafeInteger(sessionStartLsn) || sessionStartLsn < 0) {
      throw new WalError(
        "WAL_ENCODE",
        `durable mark sessionStartLsn must be a non-negative safe integer, got ${shownValue(sessionStartLsn)}`,
      );
    }
    const file = await fs.open(join(dir, DURABLE_MARK_FILE), "openOrCreate");
    const session = Math.floor(Math.random() * 2 ** 52) + 1;
    if (binding !== undefined) checkBinding(binding);
    return new DurableMarkWriter(file, session, sessionStartLsn, binding);
  }

  /** This writer's session number. */
  get session(): number {
    return this.#session;
  }

  /**
   * Publish `durableLsn` (ignored unless it is higher than the last one published), with `binding`, the record an
   * fsync covered the end of, when the caller knows it (else the last binding published, still true, is kept).
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` for an LSN that is not a non-negative safe
   *   integer, with nothing changed (the mark keeps accepting valid LSNs).
   */
  publish(durableLsn: number, closed = false, binding?: DurableBinding): void {
    if (!Number.isSafeInteger(durableLsn) || durableLsn < 0) {
      throw new WalError(
        "WAL_INVALID_ARGUMENT",
        `durableLsn must be a non-negative safe integer, got ${shownValue(durableLsn)}`,
      );
    }
    if (this.#closed || (durableLsn <= this.#last && !closed)) return;
    this.#last = Math.max(this.#last, durableLsn);
    if (binding !== undefined) {
      checkBinding(binding);
      this.#binding = binding;
    }
    // The session and the LSNs were checked (the session is made here, the LSNs above and at open).
    const out = this.#out;
    writeMark(out, this.#outView, this.#session, this.#last, this.#sessionStartLsn, closed);
    const kept = this.#binding;
    if (kept !== undefined) writeBinding(out, this.#outView, kept);
    const bytes = kept === undefined ? this.#out40 : out;
    try {
      if (this.#file.writeSync !== undefined) this.#file.writeSync(bytes, 0);
      else this.#writeLater(bytes.slice());
    } catch {
      // A hint only: a follower that cannot read it fsyncs what it delivers itself.
    }
  }

  #writeLater(bytes: Uint8Array): void {
    this.#waiting = bytes;
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    const file = this.#file;
    for (let bytes = this.#waiting; bytes !== undefined; bytes = this.#waiting) {
      this.#waiting = undefined;
      // A hint only, as above; a seam's write that throws instead of rejecting must not end the loop either. Called
      // through a promise, never directly: a write that throws at once would let this loop end before `#writeLater`
      // stores its promise, leaving `#writing` set to a settled loop that no later mark restarts.
      await Promise.resolve(bytes)
        .then((data) => file.write(data, 0))
        .catch(() => undefined);
    }
    this.#writing = undefined;
  }

  /**
   * Close the file without writing a new mark (a writer that failed: the mark keeps its last, still true, value);
   * the newest mark already published lands first.
   */
  async abandon(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writing;
    await this.#file.close().catch(() => undefined);
  }

  /**
   * Publish the final LSN with the closed flag, then close the file. Idempotent.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` for an LSN that is not a non-negative safe
   *   integer, with nothing changed: the file stays open for a `close` with a valid one.
   */
  async close(finalLsn: number): Promise<void> {
    if (this.#closed) return;
    this.publish(finalLsn, true);
    this.#closed = true;
    await this.#writing;
    await this.#file.close().catch(() => undefined);
  }
}

/**
 * Settle the binding of the mark of `dir` for a new writer session and return the one it keeps: the mark's binding
 * when `readsBack` says its record still reads back as described, else `undefined`. Makes sure no version of the
 * mark that a crash could still bring back holds a binding other than the one kept: when the file is longer than a
 * mark without one (it holds, or held, a binding) and that binding is not kept, it is cut to its first 40 bytes (the
 * version 2 mark, unchanged for its readers) and fsynced. The mark is never fsynced otherwise, so an older version
 * of it, binding bytes that have since been cut and written again, could come back after a power loss; `Wal.open`
 * calls this after recovery and before anything is appended. Does nothing when there is no mark.
 * @throws {@link @lora/wal-codec!WalError} what the seam throws for other reasons than a missing file, and what
 *   `readsBack` throws (the file is closed first, unchanged).
 */
export async function settleDurableBinding(
  fs: WalFileSystem,
  dir: string,
  readsBack: (binding: DurableBinding) => Promise<boolean>,
): Promise<DurableBinding | undefined> {
  let file: WalFile;
  try {
    file = await fs.open(join(dir, DURABLE_MARK_FILE), "readWrite");
  } catch (error) {
    if (isMissingFileError(error)) return undefined;
    throw error;
  }
  try {
    // At most 40 bytes: no binding to keep, none to cut.
    if ((await file.size()) <= DURABLE_MARK_BYTES) return undefined;
    const bytes = new Uint8Array(DURABLE_MARK_BOUND_BYTES);
    const n = await file.read(bytes, 0, bytes.byteLength, 0);
    const binding = decodeDurableMark(bytes.subarray(0, n))?.binding;
    if (binding !== undefined && (await readsBack(binding))) return binding;
    await file.truncate(DURABLE_MARK_BYTES);
    await file.sync();
    return undefined;
  } finally {
    await file.close();
  }
}

function putU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % TWO_POW_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_POW_32), true);
}

function getU64(view: DataView, at: number): number | null {
  const high = view.getUint32(at + 4, true);
  if (high >= 0x20_0000) return null;
  return high * TWO_POW_32 + view.getUint32(at, true);
}
