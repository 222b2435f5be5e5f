/**
 * Streams the records of one segment with large buffered reads (never a syscall per record). Knows where the
 * last good record ends, which is where a torn tail would be cut.
 *
 * A zero tail is the end: in an unsealed segment, zeros from a record boundary to the end of the file are what a
 * preallocating writer left ahead of its records (a record never starts with a zero length), not damage. Anything
 * else after the boundary (a non-zero byte anywhere up to the end) keeps it damage, for the damage rules to judge.
 */

import {
  checkOptionNames,
  checkPath,
  crc32,
  crc32Range,
  crcMismatchError,
  decodeRecord,
  MAX_RECORD_BYTES,
  MIN_RECORD_BYTES,
  markerCrc32,
  optionNames,
  optionOr,
  type PayloadCodec,
  shownValue,
  tryDecodeRecord,
  WalError,
  type WalRecord,
} from "@lora/wal-codec";
import type { WalFile, WalFileSystem } from "./fs/file-system.js";
import { checkFileSystemArgument } from "./fs/file-system-option.js";
import { isMissingFileError } from "./fs/missing-file.js";
import { readSizeOf } from "./read-size.js";
import { decodeSegmentHeader, SEGMENT_HEADER_BYTES, type SegmentHeader } from "./segment-header.js";
import { dataEndOf, firstNonZero, isZeroRange } from "./zero-tail.js";

/** Options of {@link SegmentReader.open}. */
export interface SegmentReaderOptions {
  /**
   * Bytes read per syscall at most: an integer of at least 1 (else `WAL_INVALID_OPTION`). The first read takes
   * 256 KiB, or the `readBuffer`'s size when that is larger, and each later one twice the last, never more than this.
   * @default 1 MiB
   */
  readonly chunkBytes?: number;
  /**
   * A buffer to read into instead of allocating one, so that one buffer serves a whole directory walk (pass the
   * previous reader's {@link SegmentReader.readBuffer} to the next). Its contents are overwritten, and it must not
   * be used elsewhere until the reader is closed. A buffer smaller than a read is replaced by a larger one, and so is
   * one under 64 KiB when the reader scans past damage or streams a large record: after the reader is closed, take
   * {@link SegmentReader.readBuffer}, not this one.
   */
  readonly readBuffer?: Uint8Array;
  /**
   * Where to start reading: the offset of a record boundary (the end of a record a previous reader returned, or 32
   * for the first record). A follower resumes here instead of reading the segment again. @default 32
   */
  readonly startOffset?: number;
}

/** Every option `SegmentReader.open` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const READER_OPTION_NAMES = optionNames<SegmentReaderOptions>()("chunkBytes", "readBuffer", "startOffset");

/** One step of {@link SegmentReader.next}. */
export type ReadStep<E> =
  | { readonly kind: "record"; readonly record: WalRecord<E>; readonly offset: number; readonly byteLength: number }
  /** The segment ends exactly at a record boundary. */
  | { readonly kind: "end" }
  /**
   * The bytes at `offset` are not a valid record: `incomplete` when the file ends inside the record, `corrupt` when
   * they fail a check (the error says which). The reader stays at `offset`.
   */
  | {
      readonly kind: "damaged";
      readonly offset: number;
      readonly reason: "incomplete" | "corrupt";
      readonly error: WalError;
      /**
       * True when the bytes form a CRC-valid frame that still could not be used (a payload the codec rejects, a
       * marker with a payload, an unknown kind): such a record was written whole, so it is never a torn tail.
       */
      readonly frameValid: boolean;
    };

/**
 * The least read at a zero tail already seen: a follower at the live end looks for a few new records, and reading a
 * whole chunk of zeros on every wake-up would cost more than the records. The read doubles while the records keep
 * filling it (a burst) and halves back at each look at the zeros.
 */
const TAIL_READ_BYTES = 4096;
/**
 * Once a reader follows its file (it has been refreshed: it reached the end and looks for growth), reads up to this
 * size go through the file's `readSync` where it has one: a follower at the live end reads a few KiB the writer just
 * wrote (in the page cache), and a blocking `pread` of them costs microseconds where a thread-pool round trip costs
 * tens. Every other read stays asynchronous, off the event loop: replay's and recovery's, even a segment's last
 * short chunk, which a cold cache could make a disk read.
 */
const SYNC_READ_MAX = 64 * 1024;
/**
 * How far back before the read position `atPath` compares the file at the path with the one read, on a seam without
 * file identity: a few small transactions, or the end of a large one (its events' bytes, not only the commit marker
 * every history shares).
 */
const AT_PATH_COMPARE_BYTES = 4096;
const KNOWN_KIND_MAX = 6;
/**
 * The first read of a reader that is given no buffer, when the read size is larger: later reads double up to the
 * read size. Memory a process has never touched costs a page fault per 4 KiB on first use (~3 ms per MiB on the VM
 * measured, more than reading and checking the same MiB from the page cache), so a fresh 1 MiB buffer was most of
 * the fixed cost of opening a small log, or a log whose tail is one large torn record streamed through the buffer.
 */
const FIRST_READ_BYTES = 256 * 1024;
/** The least buffer a scan through the file reads into, whatever the read size: fewer, larger reads for a small one. */
const SCRATCH_MIN_BYTES = 64 * 1024;
const RECORD_HEADER_BYTES = 21;
const TWO_POW_32 = 0x1_0000_0000;

/**
 * Reads the records of one segment file in order, a chunk (up to 1 MiB by default, see `chunkBytes`) at a time, and
 * says where and how it is damaged instead of throwing for damage. Read-only: safe on a segment a live writer is appending to.
 */
export class SegmentReader {
  /** The segment file's path. */
  readonly path: string;
  /** The decoded header (validated at open). */
  readonly header: SegmentHeader;
  readonly #file: WalFile;
  #fileSize: number;
  readonly #chunk: number;
  /** The next read's size: from {@link FIRST_READ_BYTES} (or the given buffer's size), doubling up to `#chunk`. */
  #readSize: number;
  #buffer: Uint8Array;
  #bufferStart = SEGMENT_HEADER_BYTES;
  #bufferLength = 0;
  /** `#buffer[0, #bufferLength)`, kept so decoding a record allocates no view. */
  #view: Uint8Array;
  /** A DataView over exactly `#view`'s memory: the record CRC's fast loop reads through it. */
  #dataView: DataView;
  #position = SEGMENT_HEADER_BYTES;
  /**
   * The LSN of the last record read, `undefined` before the first and after a {@link SegmentReader.seek}: what a CRC
   * mismatch's error names as the LSN expected next, as the damaged record's own LSN field is untrusted.
   */
  #lastLsn: number | undefined = undefined;
  #sealed: boolean;
  #closed = false;
  /**
   * `[from, to)` was all zeros when last looked at, `from` a record boundary. A writer adds records only at the
   * boundary where its data ends, so while the bytes at a later boundary are still zero, nothing past it changed:
   * the file's growth is more zeros of the writer's fill.
   */
  #zeroTail: { from: number; to: number } | undefined;
  /** The next read's size past a zero tail seen before (see {@link TAIL_READ_BYTES}). */
  #tailRead = TAIL_READ_BYTES;
  /** Refreshed at least once: a follower's reader, whose small reads are of bytes just written (SYNC_READ_MAX). */
  #following = false;
  /**
   * The 4 bytes before the read position as read (the CRC of the record that ends there) and their offset, kept by
   * `refresh` to tell whether the file still holds what was read (see {@link SegmentReader.refresh}).
   */
  #before: { at: number; bytes: number } | undefined;
  /** The open file's identity once `atPath` asked for it; `null` when the seam reports none. */
  #fileIdentity: string | null | undefined;

  private constructor(
    file: WalFile,
    header: SegmentHeader,
    fileSize: number,
    chunk: number,
    readBuffer: Uint8Array | undefined,
  ) {
    this.path = file.path;
    this.#file = file;
    this.header = header;
    this.#fileSize = fileSize;
    this.#chunk = chunk;
    this.#sealed = header.sealed;
    this.#readSize = Math.min(chunk, Math.max(FIRST_READ_BYTES, readBuffer?.length ?? 0));
    // A given buffer that is too small is grown by the first fill, like any buffer a record outgrows.
    this.#buffer =
      readBuffer ??
      new Uint8Array(Math.min(this.#readSize, Math.max(fileSize - SEGMENT_HEADER_BYTES, MIN_RECORD_BYTES)));
    this.#view = this.#buffer.subarray(0, 0);
    this.#dataView = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, 0);
  }

  /**
   * Open a segment read-only and validate its header. The file's length is measured after the header is read, so
   * a reader that finds the segment sealed (beside a live writer that sealed it meanwhile) reads all its records.
   * @throws {@link @lora/wal-codec!WalError} `WAL_BAD_HEADER` (short, bad magic, bad CRC, bad version), `WAL_IO`;
   *   `WAL_INVALID_OPTION` for a bad `chunkBytes`, `startOffset` (an integer of at least 32) or `readBuffer` (a
   *   `Uint8Array`), and
   *   `WAL_INVALID_ARGUMENT` for an `fs` or a `path` that is not one, before the file is opened.
   */
  static async open(fs: WalFileSystem, path: string, given: SegmentReaderOptions = {}): Promise<SegmentReader> {
    checkFileSystemArgument(fs, "SegmentReader.open");
    checkPath(path, "the segment path");
    const options = checkOptionNames(given, READER_OPTION_NAMES, "SegmentReader.open");
    const chunk = readSizeOf(options.chunkBytes);
    const start = optionOr(options.startOffset, SEGMENT_HEADER_BYTES);
    if (!Number.isSafeInteger(start) || start < SEGMENT_HEADER_BYTES) {
      throw new WalError("WAL_INVALID_OPTION", `startOffset must be an integer >= 32, got ${shownValue(start)}`);
    }
    if (options.readBuffer !== undefined && !(options.readBuffer instanceof Uint8Array)) {
      throw new WalError(
        "WAL_INVALID_OPTION",
        `readBuffer must be a Uint8Array, got ${shownValue(options.readBuffer)}`,
      );
    }
    const file = await fs.open(path, "read");
    try {
      const raw = new Uint8Array(SEGMENT_HEADER_BYTES);
      const n = await file.read(raw, 0, SEGMENT_HEADER_BYTES, 0);
      const header = decodeSegmentHeader(raw.subarray(0, n), path);
      // Measured after the header, as `refresh` does: a writer seals a segment only once its records are written,
      // so a sealed header read first means this size holds them all. Measured before, the size could be from
      // while a record was being written, and that record would read as damage in a sealed segment.
      const fileSize = await file.size();
      const reader = new SegmentReader(file, header, fileSize, chunk, options.readBuffer);
      reader.seek(start);
      return reader;
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  }

  /**
   * The file's length as last seen: when the reader was opened, or at the last {@link SegmentReader.refresh}.
   * Records a live writer appends after that are not read until the next refresh.
   */
  get fileSize(): number {
    return this.#fileSize;
  }

  /**
   * Look at the file again: its current length (records a live writer appended since are read next) and header (a
   * writer may have sealed it since). Bytes already buffered are dropped, so a record that was read half-written
   * is read again whole. Returns the new length, and `rewritten`: true when the last record read no longer ends at
   * the read position as it was read (its last 4 bytes, its CRC, changed), so the file was cut under the reader and
   * written again past that point, as a writer's recovery cuts records that never became durable and the next
   * writer appends there and zero-fills ahead: the file need not have shrunk by the time the reader looks again.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`, `WAL_BAD_HEADER`.
   */
  async refresh(): Promise<{ fileSize: number; sealed: boolean; rewritten: boolean }> {
    const file = this.#file;
    this.#following = true;
    this.#keepBytesBefore();
    const raw = new Uint8Array(SEGMENT_HEADER_BYTES);
    // Synchronously where the file can (see SYNC_READ_MAX): a follower refreshes on every wake-up.
    const n = await readAt(file, raw, SEGMENT_HEADER_BYTES, 0);
    const header = decodeSegmentHeader(raw.subarray(0, n), this.path);
    this.#sealed = header.sealed;
    this.#fileSize = file.sizeSync === undefined ? await file.size() : file.sizeSync();
    // Cut under the reader (a sealed segment loses its zeros; a recovery cuts a torn tail): look again from scratch.
    if (this.#zeroTail !== undefined && this.#fileSize < this.#zeroTail.to) this.#zeroTail = undefined;
    const rewritten = await this.#bytesBeforeChanged(raw);
    if (rewritten) this.#zeroTail = undefined;
    this.seek(this.#position);
    return { fileSize: this.#fileSize, sealed: this.#sealed, rewritten };
  }

  /**
   * Keep the 4 bytes before the read position when they are buffered; forget them when the position moved. Called
   * by `refresh` and wherever buffered bytes are dropped, so a read that ended exactly at a record's end (the next
   * read starting the buffer at the position) still leaves them kept.
   */
  #keepBytesBefore(): void {
    const at = this.#position - 4;
    const i = at - this.#bufferStart;
    if (at >= SEGMENT_HEADER_BYTES && i >= 0 && i + 4 <= this.#bufferLength) {
      this.#before = { at, bytes: this.#dataView.getUint32(i, true) };
    } else if (this.#before?.at !== at) {
      this.#before = undefined;
    }
  }

  /** Whether the 4 bytes kept before the read position are other bytes in the file now (or gone), read into `into`. */
  async #bytesBeforeChanged(into: Uint8Array): Promise<boolean> {
    const before = this.#before;
    if (before === undefined) return false;
    const n = await readAt(this.#file, into, 4, before.at);
    return n < 4 || new DataView(into.buffer, into.byteOffset, 4).getUint32(0, true) !== before.bytes;
  }

  /**
   * What `fs` finds at this reader's path now: `"same"` when the path still names the file this reader has open (not
   * cut below the read position), `"none"` when it names no file, `"other"` otherwise: a writer's `point-in-time`
   * recovery moved this file aside (`.broken`) and created another of the same name, or cut it below the position.
   *
   * Told by the file's identity when the seam reports one both for the path (`FileStat.identity`) and for the open
   * file (`WalFile.identity`), as the Node seam and SimFS do: one `stat` of the path, no open and no read (the open
   * file's identity is asked once and kept). Another file at the path is `"other"` whatever it holds, even the very
   * same bytes. An identity compared equal is this file: it is held open, so no other file can have taken it.
   *
   * A seam without identity falls back to what the files hold: `"same"` when the file there has the same base LSN
   * and holds the same bytes as the file this reader has open over the 4 KiB before the read position (fewer when
   * less was read); `"other"` when its header does not read, its base differs, or it differs in those bytes or is
   * shorter. The bytes before the position are the same in the file a live writer appends to whichever handle reads
   * them, and a new history's file differs in them (or in its base) unless it holds the very same records there. The
   * last record alone would not do: a commit marker is the same bytes in any history that commits at that LSN and
   * place (a new history rotating where the old one did recreates a segment of the same base), so the window reaches
   * back over the events before it. What this cannot tell apart is a new file of the same base holding the very same
   * bytes over that window, or, before any record was read, any new file of the same base. It opens the path once
   * and reads the header and the window through it, and the window through this reader's file.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO` for a failure other than a missing file.
   */
  async atPath(fs: WalFileSystem): Promise<"same" | "other" | "none"> {
    const mine = await this.#identity();
    if (mine !== undefined) {
      const there = await fs.stat(this.path);
      if (there === null) return "none";
      if (there.identity !== undefined) {
        if (there.identity !== mine) return "other";
        // This very file, cut under the reader: what was read is no longer in it, as the bytes would have said.
        return there.size < this.#position ? "other" : "same";
      }
    }
    return await this.#atPathByBytes(fs);
  }

  /**
   * The identity of the file this reader has open, asked once (a file keeps its identity while it is open);
   * `undefined` when the seam reports none.
   */
  async #identity(): Promise<string | undefined> {
    if (this.#fileIdentity === undefined) {
      const file = this.#file;
      this.#fileIdentity = file.identity === undefined ? null : await file.identity();
    }
    return this.#fileIdentity ?? undefined;
  }

  /** {@link SegmentReader.atPath} for a seam without file identity: by the base LSN and the bytes before the position. */
  async #atPathByBytes(fs: WalFileSystem): Promise<"same" | "other" | "none"> {
    let other: WalFile;
    try {
      other = await fs.open(this.path, "read");
    } catch (error) {
      if (isMissingFileError(error)) return "none";
      throw error;
    }
    try {
      const raw = new Uint8Array(SEGMENT_HEADER_BYTES);
      // Synchronously where the file can (see SYNC_READ_MAX): a follower looks at an idle wake-up.
      const n = await readAt(other, raw, SEGMENT_HEADER_BYTES, 0);
      let baseLsn: number;
      try {
        baseLsn = decodeSegmentHeader(raw.subarray(0, n), this.path).baseLsn;
      } catch {
        return "other"; // this reader's file read its header whole, and a seal rewrites it in one sector
      }
      if (baseLsn !== this.header.baseLsn) return "other";
      const length = Math.min(AT_PATH_COMPARE_BYTES, this.#position - SEGMENT_HEADER_BYTES);
      if (length <= 0) return "same"; // nothing read yet: the base is all there is to compare
      const at = this.#position - length;
      const theirs = new Uint8Array(length);
      const ours = new Uint8Array(length);
      if ((await readAt(other, theirs, length, at)) !== length) return "other";
      if ((await readAt(this.#file, ours, length, at)) !== length) return "other";
      for (let i = 0; i < length; i++) if (theirs[i] !== ours[i]) return "other";
      return "same";
    } finally {
      await other.close().catch(() => undefined);
    }
  }

  /** Whether the header said "sealed" when last read (at open or at the last {@link SegmentReader.refresh}). */
  get sealed(): boolean {
    return this.#sealed;
  }

  /**
   * Continue reading at `offset`, which must be a record boundary of this segment (a position this reader or an
   * earlier one reported); buffered bytes are dropped.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT`, the position unchanged, when `offset` is not an
   *   integer at or after the header (32): it could only be read as damage at a place no record starts.
   */
  seek(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < SEGMENT_HEADER_BYTES) {
      throw new WalError("WAL_INVALID_ARGUMENT", `seek offset must be an integer >= 32, got ${shownValue(offset)}`, {
        details: { path: this.path },
      });
    }
    this.#position = offset;
    this.#lastLsn = undefined;
    this.#dropBuffered();
  }

  /**
   * The LSN of the record at the read position, from its header alone (the payload is not decoded, the CRC not
   * checked): `undefined` at the end of the file or when fewer than 13 bytes are left. Lets a bounded reader stop
   * before decoding a record past its upper bound.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
   */
  async peekLsn(): Promise<number | undefined> {
    const buffered = this.peekBufferedLsn();
    if (buffered !== undefined) return buffered;
    const header = new Uint8Array(13);
    const n = await readFully(this.#file, header, 13, this.#position);
    if (n < 13 || this.#position + 13 > this.#fileSize) return undefined;
    const view = new DataView(header.buffer);
    return lsnFieldAt(view, 0);
  }

  /**
   * {@link SegmentReader.peekLsn} from the buffered bytes only, without I/O: `undefined` when fewer than 13 bytes of
   * the next record are buffered.
   */
  peekBufferedLsn(): number | undefined {
    const at = this.#position - this.#bufferStart;
    if (this.#bufferLength - at < 13) return undefined;
    return lsnFieldAt(this.#dataView, at);
  }

  /** Offset of the next record to read: after `next()` reports damage, the start of the bad bytes. */
  get position(): number {
    return this.#position;
  }

  /**
   * The buffer the reader reads into (the `readBuffer` option, or one it allocated, grew, or replaced for a scan).
   * Hand it to the next reader's `readBuffer` once this one is closed.
   */
  get readBuffer(): Uint8Array {
    return this.#buffer;
  }

  /**
   * The read size this reader was opened with. A {@link SegmentReader.readBuffer} larger than this was grown by a
   * record, or replaced by a scan's (which streams through at least 64 KiB).
   */
  get chunkBytes(): number {
    return this.#chunk;
  }

  /**
   * Read the next record.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO` when the file cannot be read (an I/O error is never taken for end of file).
   */
  async next<E>(codec: PayloadCodec<E>): Promise<ReadStep<E>> {
    for (;;) {
      const at = this.#position - this.#bufferStart;
      const view = this.#view;
      // A zero length where a record should start: a zero tail, most likely (a follower at the live end of a
      // preallocated segment comes here on every wake-up), told apart before the decoder builds an error for it.
      if (!this.#sealed && at + 4 <= this.#bufferLength && this.#dataView.getUint32(at, true) === 0) {
        if (await this.#atZeroTail()) return { kind: "end" };
      }
      const result = decodeRecord(view, at, codec);
      if (result.kind === "record") {
        const offset = this.#position;
        this.#position += result.byteLength;
        this.#lastLsn = result.record.lsn;
        return { kind: "record", record: result.record, offset, byteLength: result.byteLength };
      }
      // A corrupt record whose length is zero was looked at above (four bytes are buffered for any "corrupt").
      if (result.kind === "corrupt") {
        return {
          kind: "damaged",
          offset: this.#position,
          reason: "corrupt",
          error: withPlace(this.#withExpectedLsn(result.error, view, at), this.path, this.#position),
          frameValid: isFrameValid(result.error.code, view, at),
        };
      }
      const left = this.#fileSize - this.#position;
      if (left === 0) return { kind: "end" };
      if (result.needed > left) {
        if (await this.#atZeroTail()) return { kind: "end" };
        return {
          kind: "damaged",
          offset: this.#position,
          reason: "incomplete",
          error: new WalError("WAL_TORN_TAIL", `record truncated: expected ${result.needed} bytes, got ${left}`, {
            details: { path: this.path, segment: this.path, offset: this.#position },
          }),
          frameValid: false,
        };
      }
      // Only a record that would grow the buffer past the read size is streamed first: below that, the fill reads
      // into memory the reader keeps using anyway.
      if (result.needed > this.#buffer.length && result.needed > this.#chunk) {
        const mismatch = await this.#streamedCrcMismatch(result.needed);
        if (mismatch !== undefined) {
          return { kind: "damaged", offset: this.#position, reason: "corrupt", error: mismatch, frameValid: false };
        }
      }
      await this.#fill(result.needed);
    }
  }

  /**
   * For a record at the read position that is larger than the buffer (its header's `length`, all of it in the
   * file): its CRC checked by streaming it through the buffer (at least {@link SCRATCH_MIN_BYTES} of it) before the
   * buffer grows to hold it. The error {@link decodeRecord} would give when the CRC does not match, else
   * `undefined`: also when the kind byte is unknown (decoding reports that first), or when the header read again
   * no longer claims `length` (the file changed: the fill that follows reads it as it is now). Memory never touched
   * before can cost more than reading the same bytes from the page cache (ten times more on a VM measured), so a
   * torn record that claims many MiB is told apart at the cost of reading it; a valid one is read twice, the second
   * time into the grown buffer. The buffered bytes are dropped (the next fill reads them again).
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
   */
  async #streamedCrcMismatch(length: number): Promise<WalError | undefined> {
    // A `needed` below a record's least size asks for the length prefix itself (a read size under 4 bytes).
    if (length < MIN_RECORD_BYTES) return undefined;
    const bytes = this.#scratch(length - 4);
    const start = this.#position;
    const crcAt = start + length - 4;
    let crc = 0;
    let lsn = 0;
    for (let at = start; at < crcAt; ) {
      const n = await readFully(this.#file, bytes, Math.min(bytes.length, crcAt - at), at);
      if (n === 0) return undefined; // Shorter than measured: the fill that follows finds out how.
      if (at === start) {
        if (n < RECORD_HEADER_BYTES) return undefined;
        const view = new DataView(bytes.buffer, bytes.byteOffset, n);
        const kind = bytes[4] as number;
        if (view.getUint32(0, true) !== length || kind === 0 || kind > KNOWN_KIND_MAX) return undefined;
        lsn = lsnFieldAt(view, 0);
      }
      crc = crc32(bytes.subarray(0, n), crc);
      at += n;
    }
    const trailer = new Uint8Array(4);
    if ((await readFully(this.#file, trailer, 4, crcAt)) < 4) return undefined;
    const stored = new DataView(trailer.buffer).getUint32(0, true);
    if (stored === crc) return undefined;
    return withPlace(crcMismatchError(lsn, stored, crc, 0, this.#expectedLsn()), this.path, start);
  }

  /**
   * The LSN the record at the read position should have: the one after the last record read, or the segment's
   * base LSN at its first record; `undefined` after a seek elsewhere, where the reader does not know. (LSNs may
   * skip: a writer's failed append leaves a gap, so this is what is expected, not what was written.)
   */
  #expectedLsn(): number | undefined {
    if (this.#lastLsn !== undefined) return this.#lastLsn + 1;
    return this.#position === SEGMENT_HEADER_BYTES ? this.header.baseLsn : undefined;
  }

  /**
   * A CRC mismatch `decodeRecord` found at `at` in `view`, named by the LSN expected there rather than by the
   * record's own LSN field, which the mismatch leaves untrusted (see `crcMismatchError`); any other error as it is.
   */
  #withExpectedLsn(error: WalError, view: Uint8Array, at: number): WalError {
    const expected = this.#expectedLsn();
    if (error.code !== "WAL_CRC_MISMATCH" || expected === undefined) return error;
    const dv = this.#dataView;
    const crcAt = at + dv.getUint32(at, true) - 4;
    const fixed = crcMismatchError(
      lsnFieldAt(dv, at),
      dv.getUint32(crcAt, true),
      crc32Range(view, at, crcAt),
      0,
      expected,
    );
    return new WalError(fixed.code, fixed.message, { details: { ...error.details, lsn: expected } });
  }

  /**
   * The reader's buffer as scratch for a scan of `want` bytes through the file, its buffered bytes dropped. One read
   * takes at most the read size or {@link SCRATCH_MIN_BYTES}, whichever is larger (a buffer grown by a large record
   * is not read whole for a scan that may end in its first bytes). A buffer smaller than
   * {@link SCRATCH_MIN_BYTES} (one handed down from a small segment) is replaced by one of that read size, or of
   * `want` when that is less (but never less than {@link SCRATCH_MIN_BYTES}): a small buffer would cost a read per
   * few bytes.
   */
  #scratch(want: number): Uint8Array {
    const size = Math.max(this.#chunk, SCRATCH_MIN_BYTES);
    if (this.#buffer.length < SCRATCH_MIN_BYTES) {
      this.#buffer = new Uint8Array(Math.min(size, Math.max(want, SCRATCH_MIN_BYTES)));
    }
    this.#dropBuffered();
    return this.#buffer.subarray(0, Math.min(size, this.#buffer.length));
  }

  /** Forget the buffered bytes (the buffer is about to be used as scratch); the next fill reads from the position. */
  #dropBuffered(): void {
    this.#keepBytesBefore();
    this.#bufferStart = this.#position;
    this.#bufferLength = 0;
    this.#view = this.#buffer.subarray(0, 0);
    this.#dataView = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, 0);
  }

  /**
   * The next record when it is already buffered, without a promise or any I/O; `undefined` when the next step needs
   * a read or is not a record (then call {@link SegmentReader.next}, which re-examines the same bytes). The same as
   * {@link SegmentReader.nextBufferedRecord} with the step object around the record.
   */
  nextBuffered<E>(codec: PayloadCodec<E>): ReadStep<E> | undefined {
    const offset = this.#position;
    const record = this.nextBufferedRecord(codec);
    if (record === undefined) return undefined;
    return { kind: "record", record, offset, byteLength: this.#position - offset };
  }

  /**
   * {@link SegmentReader.nextBuffered} without the step object: the next record when it is whole in the buffer and
   * valid, advancing {@link SegmentReader.position} past it; otherwise `undefined` with nothing changed. Anything
   * that is not a buffered valid record (a record straddling the end of the buffer, the end of the segment, damage
   * of any kind) is left to {@link SegmentReader.next}, which re-examines the same bytes and classifies them, so this
   * fast path never changes what a reader reports.
   */
  nextBufferedRecord<E>(codec: PayloadCodec<E>): WalRecord<E> | undefined {
    const at = this.#position - this.#bufferStart;
    const record = tryDecodeRecord(this.#view, at, codec, this.#dataView);
    if (typeof record === "number") return undefined;
    this.#position += this.#dataView.getUint32(at, true);
    this.#lastLsn = record.lsn;
    return record;
  }

  /**
   * True when the read position starts a zero tail: the segment is unsealed and every byte from the position to the
   * end of the file is zero. The buffered bytes are checked in memory, the rest of the file a chunk at a time (only
   * its growth, when the tail was seen before from an earlier boundary).
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
   */
  async #atZeroTail(): Promise<boolean> {
    if (this.#sealed) return false;
    const at = this.#position - this.#bufferStart;
    const buffered = Math.max(0, this.#bufferLength - at);
    const bufferEnd = this.#position + buffered;
    const seen = this.#zeroTail;
    const within = seen !== undefined && seen.from <= this.#position && this.#position < seen.to;
    // Within a tail seen before, a record's length prefix is all that can have changed (see `#zeroTail`); a
    // follower at the live end pays for those bytes only, not for the whole buffer on every wake-up. It cannot see
    // zeros written over records past the prefix: that is recovery's to find, which looks at a tail once, whole.
    const look = within ? Math.min(buffered, 8) : buffered;
    if (firstNonZero(this.#buffer.subarray(at, at + look), look) >= 0) return false;
    // The file's growth past a tail seen before is the writer's zero-fill (its records start at the prefix): not
    // read again either. A reader that must rule damage out (replay, recovery) sees a tail once, whole.
    if (!within && bufferEnd < this.#fileSize && !(await isZeroRange(this.#file, bufferEnd, this.#fileSize))) {
      return false;
    }
    this.#zeroTail = { from: this.#position, to: this.#fileSize };
    this.#tailRead = Math.max(TAIL_READ_BYTES, this.#tailRead >>> 1);
    return true;
  }

  /** Move unread bytes to the front and read until at least `needed` unread bytes are buffered (or EOF). */
  async #fill(needed: number): Promise<void> {
    // The bytes before the position leave the buffer here: keep the last record's CRC for `refresh` first.
    this.#keepBytesBefore();
    const unread = this.#bufferLength - (this.#position - this.#bufferStart);
    const atTail = this.#zeroTail !== undefined && this.#zeroTail.from <= this.#position;
    const want = Math.max(needed, Math.min(atTail ? this.#tailRead : this.#readSize, this.#fileSize - this.#position));
    if (atTail) this.#tailRead = Math.min(this.#chunk, this.#tailRead * 2);
    else this.#readSize = Math.min(this.#chunk, this.#readSize * 2);
    if (want > this.#buffer.length) {
      const grown = new Uint8Array(want);
      grown.set(this.#buffer.subarray(this.#bufferLength - unread, this.#bufferLength));
      this.#buffer = grown;
    } else {
      this.#buffer.copyWithin(0, this.#bufferLength - unread, this.#bufferLength);
    }
    this.#bufferStart = this.#position;
    this.#bufferLength = unread;
    try {
      while (this.#bufferLength < needed) {
        const fileOffset = this.#bufferStart + this.#bufferLength;
        // At most `want` buffered: past a zero tail the rest of the buffer would be filled with the writer's zeros,
        // copied on every wake-up of a follower at the live end (up to the whole preallocated stretch).
        const room = Math.min(want - this.#bufferLength, this.#fileSize - fileOffset);
        if (room <= 0) return;
        const readSync = this.#following && room <= SYNC_READ_MAX ? this.#file.readSync : undefined;
        const n =
          readSync === undefined
            ? await this.#file.read(this.#buffer, this.#bufferLength, room, fileOffset)
            : readSync.call(this.#file, this.#buffer, this.#bufferLength, room, fileOffset);
        if (n === 0) {
          // Shorter than when last measured: a seal cut a zero tail off (or a recovery cut a torn tail). The file
          // ends here until the next refresh says otherwise.
          this.#fileSize = fileOffset;
          return;
        }
        this.#bufferLength += n;
      }
    } finally {
      this.#view = this.#buffer.subarray(0, this.#bufferLength);
      this.#dataView = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, this.#bufferLength);
    }
  }

  /**
   * Where the file's data ends: past its last non-zero byte (the file's length when it has no zero tail). The
   * unsynced window of the damage rules is measured back from here, since a preallocating writer's zeros past its
   * records were never data.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
   */
  async dataEnd(): Promise<number> {
    return await dataEndOf(this.#file, this.#fileSize);
  }

  /**
   * Where the record at `offset` ends by its header's own account, when the header is plausible: a length between
   * the smallest and the largest record, a known kind, and the LSN `expectedLsn` (LSNs rise by one within a
   * segment). `undefined` when it is not (the header itself is damaged). Reads one header; the end may lie beyond
   * the file (a record torn short).
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
   */
  async recordEndAt(offset: number, expectedLsn: number): Promise<number | undefined> {
    const header = new Uint8Array(RECORD_HEADER_BYTES);
    const n = await readFully(this.#file, header, header.byteLength, offset);
    if (n < 13) return undefined;
    const view = new DataView(header.buffer);
    const length = view.getUint32(0, true);
    const kind = view.getUint8(4);
    const lsn = lsnFieldAt(view, 0);
    if (length < MIN_RECORD_BYTES || length > MAX_RECORD_BYTES || kind === 0 || kind > KNOWN_KIND_MAX) return undefined;
    return lsn === expectedLsn ? offset + length : undefined;
  }

  /**
   * The first intact marker record (a 25-byte `txBegin`, `txCommit`, `txAbort` or `checkpoint` whose CRC checks
   * out) with an LSN above `minLsn` at or after `offset`: evidence that records follow damage. Only markers are
   * looked for because they have a fixed size: each candidate costs one 21-byte CRC, so the search is linear in
   * the bytes after `offset` with a small constant whatever they hold (every transaction ends with a marker, so
   * records that follow damage include one). Reads through the reader's own buffer, a buffer's length at a time
   * (256 KiB for a reader that found damage before its reads grew; never more than the read size, at least 64 KiB:
   * a smaller buffer is replaced, see {@link SegmentReader.chunkBytes}), dropping the buffered bytes: the next read
   * takes them from the file again.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
   */
  async findIntactMarkerAfter(offset: number, minLsn: number): Promise<{ offset: number; lsn: number } | undefined> {
    const end = this.#fileSize;
    // The reader's buffer, rather than a new one: it has usually been read into already, and memory touched for the
    // first time can cost more than the scan.
    const bytes = this.#scratch(end - offset);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Windows overlap by a marker's length less one byte, so a marker across a window's end is seen whole in the next.
    const window = bytes.length - (MIN_RECORD_BYTES - 1);
    // LSNs rise by one per record within a segment and a record takes at least 25 bytes, so a marker `n` bytes
    // past `offset` carries at most this LSN plus n / 25 (the damaged record itself counted): a cheap filter that
    // keeps hostile candidates from costing a CRC each.
    const lsnBase = Math.max(minLsn, this.header.baseLsn - 1) + 2;
    for (let start = offset; start + MIN_RECORD_BYTES <= end; start += window) {
      const n = await readFully(this.#file, bytes, Math.min(bytes.length, end - start), start);
      const last = Math.min(window, n - MIN_RECORD_BYTES + 1);
      // The highest LSN a marker in this window may carry, as the high word an LSN field may have: one compare
      // rejects the LSN of most marker-shaped bytes (and any beyond 2^53) before the LSN is assembled.
      const maxHigh = Math.min(
        0x1f_ffff,
        Math.floor((lsnBase + (start + last - offset) / MIN_RECORD_BYTES) / TWO_POW_32),
      );
      const found = scanForMarker(bytes, view, last, {
        maxHigh,
        minLsn,
        lsnBase,
        distance: start - offset,
      });
      if (found >= 0) return { offset: start + found, lsn: lsnFieldAt(view, found) };
    }
    return undefined;
  }

  /**
   * Look for a CRC-valid record with an LSN above `minLsn` anywhere after `offset` (exclusive). Payloads are not
   * decoded: a valid frame is evidence enough that data follows.
   * @deprecated Its cost can be quadratic in the bytes after `offset` (each plausible header is checked over its
   *   whole claimed length); recovery uses {@link SegmentReader.findIntactMarkerAfter}, which is linear.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`.
   */
  async findValidRecordAfter(offset: number, minLsn: number): Promise<{ offset: number; lsn: number } | undefined> {
    const end = this.#fileSize;
    const window = Math.max(this.#chunk, 1 << 16);
    const bytes = new Uint8Array(Math.min(window + MIN_RECORD_BYTES, Math.max(0, end - offset)));
    for (let start = offset + 1; start + MIN_RECORD_BYTES <= end; start += window) {
      const length = Math.min(bytes.length, end - start);
      const n = await readFully(this.#file, bytes, length, start);
      const view = new DataView(bytes.buffer, 0, n);
      const last = Math.min(window, n - MIN_RECORD_BYTES + 1);
      for (let i = 0; i < last; i++) {
        const recordLength = view.getUint32(i, true);
        if (recordLength < MIN_RECORD_BYTES || recordLength > end - (start + i)) continue;
        const kind = view.getUint8(i + 4);
        if (kind === 0 || kind > KNOWN_KIND_MAX) continue;
        const lsn = lsnFieldAt(view, i);
        if (!(lsn > minLsn)) continue;
        const record =
          i + recordLength <= n
            ? bytes.subarray(i, i + recordLength)
            : await readExact(this.#file, recordLength, start + i);
        if (record.byteLength < recordLength) continue;
        const stored = new DataView(record.buffer, record.byteOffset, recordLength).getUint32(recordLength - 4, true);
        if (crc32(record.subarray(0, recordLength - 4)) === stored) return { offset: start + i, lsn };
      }
    }
    return undefined;
  }

  /** Close the file. Idempotent. @throws {@link @lora/wal-codec!WalError} `WAL_IO`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#file.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Errors raised after the CRC check mean the frame itself was intact; an unknown kind is checked here. */
function isFrameValid(code: string, bytes: Uint8Array, at: number): boolean {
  if (code === "WAL_DECODE" || code === "WAL_MARKER_PAYLOAD") return true;
  if (code !== "WAL_UNKNOWN_KIND") return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, bytes.byteLength - at);
  const length = view.getUint32(0, true);
  return view.getUint32(length - 4, true) === crc32(bytes.subarray(at, at + length - 4));
}

/**
 * `length` bytes at `position` into `into` (fewer only at the end of the file), synchronously where the file can. A
 * short synchronous read is continued like an asynchronous one: at the end of the file that costs one more read,
 * which returns 0, and only there (a header cut short, the bytes before a position cut away), where the caller
 * finds damage or a cut anyway.
 */
async function readAt(file: WalFile, into: Uint8Array, length: number, position: number): Promise<number> {
  if (file.readSync === undefined) return await readFully(file, into, length, position);
  let got = 0;
  while (got < length) {
    const n = file.readSync(into, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

async function readFully(file: WalFile, into: Uint8Array, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const n = await file.read(into, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

async function readExact(file: WalFile, length: number, position: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  const n = await readFully(file, bytes, length, position);
  return bytes.subarray(0, n);
}

/**
 * Where the search for the next 25 after a byte that cannot start a marker goes native: the scan checks the 7 bytes
 * after it itself, then hands the search to `indexOf` (native, but ~15 ns a call) from the 8th. Random bytes, with a
 * 25 every ~256, are skipped at several GB/s; bytes dense with candidates stay in the plain loop. Measured on the dev
 * VM: 8 is as fast as 16 – 48 on marker-dense bytes and the fastest on random ones.
 */
const MARKER_LOOKAHEAD = 8;

/** Which LSNs a marker found by {@link scanForMarker} may carry. */
interface MarkerLsnBounds {
  /** No LSN whose high word is above this fits (a cheap first check). */
  readonly maxHigh: number;
  /** The LSN must be above this. */
  readonly minLsn: number;
  /** At `distance` + i bytes past the damage, the LSN must be at most `lsnBase` + (distance + i) / 25. */
  readonly lsnBase: number;
  /** How far past the damage `bytes[0]` lies. */
  readonly distance: number;
}

/**
 * The first offset below `last` where `bytes` hold an intact marker frame (length 25 as a little-endian u32, a
 * marker kind, an LSN within `bounds`, a matching CRC: the costly check, last); -1 when there is none. Needs
 * `last <= bytes.byteLength - 24` (a candidate's 25 bytes are all in `bytes`) and `view` over exactly `bytes`.
 */
function scanForMarker(bytes: Uint8Array, view: DataView, last: number, bounds: MarkerLsnBounds): number {
  const { maxHigh, minLsn, lsnBase, distance } = bounds;
  // Imported bindings are looked up (and checked for initialization) at each use: a local keeps them out of the loop.
  const length = MIN_RECORD_BYTES;
  for (let i = 0; i < last; i++) {
    if (bytes[i] !== length) {
      // Find the next 25: a few bytes here, then natively.
      const stop = Math.min(i + MARKER_LOOKAHEAD, last);
      let next = i + 1;
      while (next < stop && bytes[next] !== length) next++;
      if (next === stop) {
        if (stop === last) return -1;
        // `indexOf` searches the whole buffer: what lies past `last` is the next window's (or, past the bytes read,
        // an earlier window's), never a result here.
        next = bytes.indexOf(length, stop);
        if (next < 0 || next >= last) return -1;
      }
      i = next;
    }
    if (bytes[i + 1] !== 0 || bytes[i + 2] !== 0 || bytes[i + 3] !== 0) continue;
    const at = i;
    // The three zeros after this 25 cannot start a marker: the loop goes on at the byte after them (the kind byte,
    // which may be a 25 that does).
    i += 3;
    const kind = bytes[at + 4] as number;
    if (kind < 2 || kind > 5) continue;
    const high = view.getUint32(at + 9, true);
    if (high > maxHigh) continue;
    const lsn = high * TWO_POW_32 + view.getUint32(at + 5, true);
    if (!(lsn > minLsn) || lsn > lsnBase + Math.floor((distance + at) / length)) continue;
    if (markerCrc32(view, at) === view.getUint32(at + length - 4, true)) return at;
  }
  return -1;
}

/** The LSN field (u64 at +5) of the record header at `at`; the caller rules out values beyond 2^53 where it must. */
function lsnFieldAt(view: DataView, at: number): number {
  return view.getUint32(at + 9, true) * TWO_POW_32 + view.getUint32(at + 5, true);
}

/** The decoder knows offsets within the buffer; callers want the file and the offset within it. */
function withPlace(error: WalError, path: string, offset: number): WalError {
  return new WalError(error.code, error.message, {
    cause: error.cause,
    details: { ...error.details, path, segment: path, offset },
  });
}
