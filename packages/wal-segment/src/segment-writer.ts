/**
 * Appends records to one segment file. Records are encoded into an in-process buffer (`append`, synchronous, no
 * I/O); `write()` hands the buffer to the OS with one positional write; `sync()` makes written bytes durable.
 *
 * The writer keeps two buffers: while one is being written, appends go to the other, so encoding never waits for
 * I/O and the writer allocates nothing per record once its buffers have grown. Writes are serialised: two writes
 * never interleave, and bytes land in append order.
 *
 * After a failed write or sync the writer refuses further writes and syncs with the first error: the file may hold
 * a partial write, and retrying over it would corrupt the log (PostgreSQL's fsyncgate lesson).
 *
 * The writer never has more than {@link UNSYNCED_WINDOW_BYTES} written but not yet fdatasynced (its
 * `maxUnsyncedBytes`): a write that would exceed the window waits for a sync of what came before, a larger one is
 * written in window-sized pieces with a sync between them, and a sync starts in the background once half the
 * window is used. So after a power loss, bytes that may be torn or lost lie within the last window of the file, and
 * recovery can tell a torn write from damage to data that an fsync covered (see `@lora/wal-replay`'s damage rules).
 *
 * With `preallocateBytes`, the writer zero-fills the file ahead of its records (PostgreSQL's way with its WAL
 * segments): a write that reaches past the zero-filled part first extends it by that many bytes, and once half of the
 * zeros ahead are used the next stretch is filled on the thread pool, off the writes' path. So most writes land
 * inside the file and their fdatasync has no file size to commit (on ext4 and XFS a write + fdatasync then costs the
 * device one request less). A write of half the fill size or more is not filled ahead of (it lengthens the file
 * itself: zeros would double its bytes for one request saved per sync). The records end where the zeros begin: a
 * reader takes a zero tail of an unsealed segment for its end. Sealing cuts the zeros off before the sealed header is
 * written, and so does a clean close, and `flush({ trimZeroTail: true })`; the writes made once one of them has been
 * called are not filled ahead of.
 */

import { dirname } from "node:path";
import {
  ByteWriter,
  checkOptionNames,
  checkOptionsObject,
  checkPath,
  encodeCommitTxInto,
  encodeRecordInto,
  MIN_RECORD_BYTES,
  optionNames,
  optionOr,
  type PayloadCodec,
  readCallerValue,
  readU32,
  readU64,
  shownValue,
  WalError,
  type WalRecord,
} from "@lora/wal-codec";
import { CUT_STEP_BYTES, cutFile } from "./cut-file.js";
import type { WalFile, WalFileSystem } from "./fs/file-system.js";
import { checkFileSystemArgument } from "./fs/file-system-option.js";
import { readSizeOf } from "./read-size.js";
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  SEGMENT_HEADER_BYTES,
  type SegmentHeader,
  withSealedFlag,
} from "./segment-header.js";
import { isZeroRange, MAX_PREALLOCATE_BYTES, zeroBytes } from "./zero-tail.js";

/**
 * The most bytes a writer leaves written but not fdatasynced, in every sync mode: recovery treats damage that reaches
 * into the last this-many bytes of the newest segment as a possibly torn write. 1 MiB.
 */
export const UNSYNCED_WINDOW_BYTES = 1 << 20;

/**
 * The last record a writer handed to the OS, as {@link SegmentWriter.lastWrittenRecord} gives it: what a durable mark
 * binds to once an fdatasync covers it.
 */
export interface WrittenRecord {
  /** The segment file. */
  readonly path: string;
  /** Where the record starts; it ends at the writer's {@link SegmentWriter.writtenBytes}. */
  readonly offset: number;
  readonly bytes: number;
  readonly lsn: number;
  /** The CRC it stores (its last 4 bytes). */
  readonly crc: number;
}

/** Options of {@link SegmentWriter.create} and {@link SegmentWriter.openForAppend}. */
export interface SegmentWriterOptions {
  /**
   * The unsynced window: the most bytes left written but not fdatasynced. A larger window than
   * {@link UNSYNCED_WINDOW_BYTES} makes some torn writes look like corruption to recovery; a smaller one costs more
   * fsyncs. At least 4096. @default UNSYNCED_WINDOW_BYTES
   */
  readonly maxUnsyncedBytes?: number;
  /** Initial capacity of each pending buffer (it grows by doubling as needed). @default 8192 */
  readonly bufferBytes?: number;
  /**
   * The two pending buffers to use instead of allocating new ones: those a sealed writer gave up with
   * {@link SegmentWriter.giveUpBuffers}, so that rotation does not allocate (and zero) buffers of the size the last
   * segment's appends grew. Taken over, emptied; `bufferBytes` is then ignored.
   */
  readonly buffers?: readonly [ByteWriter, ByteWriter];
  /**
   * `create` only: fsync the parent directory after creating the file, so the new entry survives power loss.
   * @default true
   */
  readonly syncDirectory?: boolean;
  /**
   * Zero-fill the file this many bytes ahead of the records (0: never). Rounded up to whole 4 KiB pages. At most
   * {@link MAX_PREALLOCATE_BYTES} (1 GiB). @default 0
   */
  readonly preallocateBytes?: number;
}

/** Every option a segment writer reads; any other name is refused (`WAL_INVALID_OPTION`). */
const WRITER_OPTION_NAMES = optionNames<SegmentWriterOptions>()(
  "maxUnsyncedBytes",
  "bufferBytes",
  "buffers",
  "syncDirectory",
  "preallocateBytes",
);

/** Options of {@link SegmentWriter.flush}. */
export interface SegmentFlushOptions {
  /**
   * Also cut the zero-filled part past the records off (when there is one), so that once the flush resolves the file
   * is as long as its records and that length is durable with them: the last flush of a writer closed otherwise than
   * by {@link SegmentWriter.close} (what {@link SegmentWriter.trimZeroTail} after a plain flush leaves). Its write is
   * not zero-filled ahead of (the zeros would only be cut off again), and the cut and the records share one fsync.
   * @default false
   */
  readonly trimZeroTail?: boolean;
}

/** Every option `flush` reads; any other name is refused (`WAL_INVALID_OPTION`). */
const FLUSH_OPTION_NAMES = optionNames<SegmentFlushOptions>()("trimZeroTail");

/** Zero-filling is done in 4 KiB pages: a page the records only partly cover is not written again. */
const PAGE_BYTES = 4096;

/**
 * Appends records to one segment file: `append` encodes into a pending buffer (no I/O), `write` hands it to the OS
 * in one positional write, `sync` fdatasyncs. After a failed write or sync the writer refuses further I/O with that
 * first error (nothing is retried over a possibly half-written buffer).
 */
export class SegmentWriter {
  /** The segment file's path. */
  readonly path: string;
  readonly #file: WalFile;
  #header: SegmentHeader;
  /** The header's bytes as on disk: a seal changes the sealed flag and the CRC in them and keeps the rest. */
  #headerBytes: Uint8Array;
  #written: number;
  /** Bytes covered by a completed fdatasync (everything before the first write counts: callers made it durable). */
  #synced: number;
  readonly #maxUnsynced: number;
  /** How far ahead of the records to zero-fill (0: never). */
  readonly #preallocate: number;
  /** The file holds only zeros (or holes) from the written end up to here. */
  #zeroedEnd: number;
  /**
   * Where bytes that `openForAppend` found past its offset, not all zeros (a torn tail), may still lie up to: the
   * file's length then; 0 when there were none (no byte past the offset, or only zeros). Past the written end and
   * this, the file holds no non-zero byte.
   */
  #oldTailEnd = 0;
  /**
   * A zero-fill past {@link SegmentWriter.#zeroedEnd} started ahead of need, on the thread pool, not awaited by any
   * write: records are never written past `#zeroedEnd` while it runs (its zeros could land over them), and nothing
   * cuts the file until it has landed (its zeros could land past the cut and lengthen the file again).
   */
  #fillAhead: Promise<void> | undefined;
  /**
   * The write of records under way (or the last one) is a bulk write: half the fill size or more, counted over the
   * whole buffer even when the window cuts it in pieces. It is not zero-filled ahead of (see
   * {@link SegmentWriter.#isBulk}).
   */
  #bulkWrite = false;
  /** A sync started because half the window is used, not awaited by anyone. */
  #backgroundSync: Promise<void> | undefined;
  /** The fdatasync under way (settles, never rejects: a failure is in `#failure`), see `#syncWritten`. */
  #syncInFlight: Promise<void> | undefined;
  #pending: ByteWriter;
  #spare: ByteWriter;
  /**
   * The write slot: the write, or the cut, seal, rewrite or zero-tail trim (see {@link SegmentWriter.truncateTo})
   * under way; nothing else writes to the file, cuts it or takes the pending buffer while it is set. The promise
   * those others hold it with never rejects.
   */
  #inFlight: Promise<void> | undefined;
  /**
   * The cuts called and not yet done (waiting, or the one under way), in call order: where each cuts, and how many
   * of the pending bytes were appended before its call (`before`). A write called before the first waiting cut takes
   * no byte past its `before` (bytes appended after a cut's call belong after the cut); a cut drops the pending bytes
   * before its `before` as it starts, and leaves the list before it frees the slot (or is refused), so a write that
   * finds the slot free finds only waiting cuts here, each called after it.
   */
  readonly #cuts: { readonly offset: number; before: number }[] = [];
  /** Where the records end once the write in flight has landed (0 when none is), see `size`. */
  #flightEnd = 0;
  /** The seal under way or done: from its call on nothing is appended or cut (cleared if it fails; see `seal`). */
  #sealing: Promise<void> | undefined;
  #failure: unknown;
  /** Close's writes are done: nothing more is written or synced, not even by a call made before it. */
  #closed = false;
  /**
   * `close()` or `discardAndClose()` has been called: every call made from then on that would append, write, sync, cut,
   * rewrite or seal is refused (see {@link SegmentWriter.close}).
   */
  #closeCalled = false;
  /**
   * Calls of `flush({ trimZeroTail: true })` under way: the writes made meanwhile are followed by the cut of the zero
   * tail, so they are not filled ahead of (see `#lastWrites`).
   */
  #trimmingFlushes = 0;
  #closing: Promise<void> | undefined;
  /** The length of the last record in the pending buffer (0: unknown, after a rollback, or none). */
  #pendingLastBytes = 0;
  /** The last record written: where it ends (0: unknown), its length, LSN and stored CRC. */
  #lastEnd = 0;
  #lastBytes = 0;
  #lastLsn = 0;
  #lastCrc = 0;

  private constructor(
    file: WalFile,
    header: SegmentHeader,
    written: number,
    zeroedEnd: number,
    options: SegmentWriterOptions,
  ) {
    this.path = file.path;
    this.#file = file;
    this.#header = header;
    // What `create` and a spare's stamp wrote; `openForAppend` replaces it with the bytes it read.
    this.#headerBytes = encodeSegmentHeader(header);
    this.#written = written;
    this.#synced = written;
    this.#zeroedEnd = zeroedEnd;
    // `create` and `openForAppend` checked the options before touching the file.
    this.#maxUnsynced = optionOr(options.maxUnsyncedBytes, UNSYNCED_WINDOW_BYTES);
    this.#preallocate = Math.ceil(optionOr(options.preallocateBytes, 0) / PAGE_BYTES) * PAGE_BYTES;
    const bufferBytes = optionOr(options.bufferBytes, 8192);
    // Not optionOr: its default would be built (two buffers) also when rotation hands over the ones it reuses.
    const [pending, spare] =
      options.buffers === undefined ? [new ByteWriter(bufferBytes), new ByteWriter(bufferBytes)] : options.buffers;
    pending.reset();
    spare.reset();
    this.#pending = pending;
    this.#spare = spare;
  }

  /**
   * Create a new segment exclusively (an existing file is never clobbered), write its header, fsync the file, then
   * fsync its directory so the new entry is durable (unless `syncDirectory: false`).
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (including errno `EEXIST`).
   */
  static async create(
    fs: WalFileSystem,
    path: string,
    baseLsn: number,
    given: SegmentWriterOptions = {},
  ): Promise<SegmentWriter> {
    checkFileSystemArgument(fs, "SegmentWriter.create");
    checkPath(path, "the segment path");
    const header: SegmentHeader = { formatVersion: 1, baseLsn, sealed: false, flags: 0 };
    const options = validateOptions(given);
    const bytes = encodeSegmentHeader(header);
    const file = await fs.open(path, "createExclusive");
    try {
      await file.write(bytes, 0);
      await file.sync();
      if (options.syncDirectory !== false) await fs.syncDir(dirname(path));
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
    return new SegmentWriter(file, header, SEGMENT_HEADER_BYTES, SEGMENT_HEADER_BYTES, options);
  }

  /**
   * A writer over `file`, a fresh segment someone else made (a spare segment, see `SpareSegment`): `header` is durable
   * at offset 0, and the file holds durable zeros (or nothing) from the header up to `zeroedEnd`. Takes the file over.
   */
  static overStampedFile(
    file: WalFile,
    header: SegmentHeader,
    zeroedEnd: number,
    given: SegmentWriterOptions = {},
  ): SegmentWriter {
    const options = validateOptions(given);
    return new SegmentWriter(file, header, SEGMENT_HEADER_BYTES, Math.max(SEGMENT_HEADER_BYTES, zeroedEnd), options);
  }

  /**
   * Open an existing, unsealed segment to append at `offset` (the end of its last good record). Nothing is cut:
   * bytes past `offset` are overwritten by later writes, so callers truncate a torn tail first with
   * {@link SegmentWriter.truncateTo}. A zero tail (a preallocated segment's) is kept and written into.
   * @throws {@link @lora/wal-codec!WalError} `WAL_BAD_HEADER` (bad header, offset before the records or past the end),
   *   `WAL_SEGMENT_SEALED`, `WAL_IO`.
   */
  static async openForAppend(
    fs: WalFileSystem,
    path: string,
    offset: number,
    given: SegmentWriterOptions = {},
  ): Promise<SegmentWriter> {
    checkFileSystemArgument(fs, "SegmentWriter.openForAppend");
    checkPath(path, "the segment path");
    if (!Number.isSafeInteger(offset)) {
      throw new WalError("WAL_INVALID_ARGUMENT", `append offset must be an integer, got ${shownValue(offset)}`, {
        details: { path },
      });
    }
    if (offset < SEGMENT_HEADER_BYTES) {
      throw new WalError("WAL_BAD_HEADER", "WAL segment header is malformed: append offset before segment payload", {
        details: { path, offset },
      });
    }
    const options = validateOptions(given);
    const file = await fs.open(path, "readWrite");
    try {
      const raw = new Uint8Array(SEGMENT_HEADER_BYTES);
      const n = await file.read(raw, 0, SEGMENT_HEADER_BYTES, 0);
      const header = decodeSegmentHeader(raw.subarray(0, n), path);
      if (header.sealed) {
        throw new WalError("WAL_SEGMENT_SEALED", "segment is sealed; cannot append", { details: { path } });
      }
      const size = await file.size();
      if (offset > size) {
        throw new WalError("WAL_BAD_HEADER", "WAL segment header is malformed: append offset past end of segment", {
          details: { path, offset },
        });
      }
      // Bytes past `offset` that are not zeros are overwritten by zeros as the fill reaches them.
      const zeroTail = size > offset && (await isZeroRange(file, offset, size));
      const writer = new SegmentWriter(file, header, offset, zeroTail ? size : offset, options);
      writer.#headerBytes = raw;
      if (size > offset && !zeroTail) writer.#oldTailEnd = size;
      return writer;
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  }

  get header(): SegmentHeader {
    return this.#header;
  }

  get baseLsn(): number {
    return this.#header.baseLsn;
  }

  get sealed(): boolean {
    return this.#header.sealed;
  }

  /** Bytes already handed to the OS (the file's logical length). */
  get writtenBytes(): number {
    return this.#written;
  }

  /** Bytes encoded but not yet written. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /**
   * What the segment will hold once the writes and cuts called so far have run and the pending bytes are written:
   * the records written, those a write in flight is writing (counted once, however much of them has landed), and the
   * pending ones. While a cut is waiting or under way, the end the last one called leaves (its offset) plus what was
   * appended after its call: the bytes it cuts or drops are not counted (a cut refused when it runs no longer counts
   * from then on: whether its offset is in range is known only then, since a `rollback` of bytes a write called before
   * it would have taken, or a failed write, changes the end it is checked against). Rotation compares this with the
   * target.
   */
  get size(): number {
    const cuts = this.#cuts;
    if (cuts.length === 0) return Math.max(this.#written, this.#flightEnd) + this.#pending.length;
    // The last cut called drops the pending bytes appended before its call (none are left once it has started).
    const last = cuts[cuts.length - 1] as { readonly offset: number; before: number };
    return last.offset + this.#pending.length - last.before;
  }

  /** The first failure of a write or sync, if any. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * Encode `record` into the pending buffer (no I/O). On an encoding error nothing is appended.
   * @returns the record's byte length.
   * @throws {@link @lora/wal-codec!WalError} `WAL_CLOSED`, `WAL_SEGMENT_SEALED`, `WAL_ENCODE`, `WAL_RECORD_TOO_LARGE`.
   */
  append<E>(record: WalRecord<E>, codec: PayloadCodec<E>): number {
    this.#refuseAfterClose();
    if (this.#sealing !== undefined) {
      throw new WalError("WAL_SEGMENT_SEALED", "segment is sealed; cannot append", { details: { path: this.path } });
    }
    const bytes = encodeRecordInto(record, codec, this.#pending);
    this.#pendingLastBytes = bytes;
    return bytes;
  }

  /**
   * Encode a whole transaction (`TxBegin` at `beginLsn`, one `MutationBatch`, `TxCommit`) into the pending buffer
   * (no I/O), all or nothing: on an encoding error nothing is appended.
   * @returns the byte length of the three records.
   * @throws {@link @lora/wal-codec!WalError} `WAL_CLOSED`, `WAL_SEGMENT_SEALED`, `WAL_ENCODE`, `WAL_RECORD_TOO_LARGE`.
   */
  appendCommitTx<E>(beginLsn: number, events: readonly E[], codec: PayloadCodec<E>): number {
    this.#refuseAfterClose();
    if (this.#sealing !== undefined) {
      throw new WalError("WAL_SEGMENT_SEALED", "segment is sealed; cannot append", { details: { path: this.path } });
    }
    const bytes = encodeCommitTxInto(beginLsn, events, codec, this.#pending);
    this.#pendingLastBytes = MIN_RECORD_BYTES; // the TxCommit marker
    return bytes;
  }

  /** A position in the pending buffer to roll back to (see {@link SegmentWriter.rollback}). */
  mark(): number {
    return this.#pending.length;
  }

  /** A copy of the bytes appended since `mark` that are still pending (not yet handed to the OS). */
  copyPendingSince(mark: number): Uint8Array {
    return this.#pending.copy(mark);
  }

  /**
   * The bytes appended since `mark`, as a view of the pending buffer (no copy): valid only until the next append,
   * write or rollback, so a caller that keeps them must copy them first.
   */
  pendingSince(mark: number): Uint8Array {
    return this.#pending.view(mark);
  }

  /** Drop everything appended since `mark` (used to make a multi-record append all-or-nothing). */
  rollback(mark: number): void {
    if (mark < this.#pending.length) this.#pendingLastBytes = 0;
    this.#pending.truncate(mark);
    // A cut called meanwhile marked bytes no longer pending: what is left was all appended before its call.
    for (const cut of this.#cuts) if (cut.before > mark) cut.before = mark;
  }

  /**
   * The last record written to the file, when it ends at {@link SegmentWriter.writtenBytes} and the writer knows it
   * (it appended it, in this writer's life); `undefined` otherwise.
   */
  get lastWrittenRecord(): WrittenRecord | undefined {
    if (this.#lastEnd === 0 || this.#lastEnd !== this.#written) return undefined;
    return {
      path: this.path,
      offset: this.#lastEnd - this.#lastBytes,
      bytes: this.#lastBytes,
      lsn: this.#lastLsn,
      crc: this.#lastCrc,
    };
  }

  /** `buffer` was written and ends at `#written`; its last record is `lastBytes` long (0: unknown). */
  #noteWritten(buffer: ByteWriter, lastBytes: number): void {
    if (lastBytes < MIN_RECORD_BYTES || lastBytes > buffer.length) {
      this.#lastEnd = 0;
      return;
    }
    const record = buffer.view(buffer.length - lastBytes);
    this.#lastEnd = this.#written;
    this.#lastBytes = lastBytes;
    this.#lastLsn = readU64(record, 5);
    this.#lastCrc = readU32(record, lastBytes - 4);
  }

  /**
   * Write the pending bytes to the file at the current end with one positional write. Resolves once every byte
   * appended before the call is in the OS (unless a cut called before it dropped them, see
   * {@link SegmentWriter.truncateTo}). Concurrent calls are serialised, with cuts, in call order.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`, `WAL_CLOSED`; after a failure every later write rejects with
   *   the same error.
   */
  write(): Promise<void> {
    // Not async itself: the write path makes no more promises than #write does.
    if (this.#closeCalled) return Promise.reject(this.#closedError());
    return this.#write();
  }

  /** {@link SegmentWriter.write}, also for close's own last writes. */
  async #write(): Promise<void> {
    while (this.#inFlight !== undefined) {
      await this.#inFlight;
      // Waiters wake in call order, and the first to find the slot free takes it in this turn, so writes and cuts
      // run as called. A cut still waiting then was called after this write (only when a write had to wait).
      if (this.#inFlight === undefined && this.#cuts.length > 0 && !this.#holdBackForCut()) return;
    }
    this.#assertUsable();
    if (this.#pending.length === 0) return;
    const flight = this.#writePending();
    this.#inFlight = flight;
    try {
      await flight;
    } finally {
      this.#inFlight = undefined;
    }
    this.#syncInBackgroundIfHalfFull();
  }

  /**
   * Take the pending buffer (appends go to the other one meanwhile) and write it at the end; the caller holds the
   * write slot, or takes it with the promise returned. A failure fails the writer.
   */
  #writePending(): Promise<void> {
    const buffer = this.#pending;
    const lastBytes = this.#pendingLastBytes;
    this.#pendingLastBytes = 0;
    this.#pending = this.#spare;
    this.#spare = buffer;
    this.#flightEnd = this.#written + buffer.length;
    return this.#writeWithinWindow(buffer).then(
      () => {
        this.#flightEnd = 0;
        this.#noteWritten(buffer, lastBytes);
        buffer.reset();
      },
      (error: unknown) => {
        this.#flightEnd = 0;
        this.#failure ??= error;
        throw error;
      },
    );
  }

  /**
   * Wait, in call order with the writes and cuts, until the write slot is free, and take it in the turn that finds it
   * free: nothing writes to the file, cuts it or takes the pending buffer until the returned release is called.
   * Rejects, taking nothing, with the failure of a write it waited for.
   */
  async #takeSlot(): Promise<() => void> {
    while (this.#inFlight !== undefined) await this.#inFlight;
    return this.#holdSlot();
  }

  /** Take the write slot, free now, until the returned release is called. */
  #holdSlot(): () => void {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#inFlight = held;
    return () => {
      this.#inFlight = undefined;
      release();
    };
  }

  /**
   * For a write called before the first cut still waiting, about to take the slot: leave the bytes appended after
   * the cut's call pending, for after the cut. Returns false when no byte appended before it is left to write.
   */
  #holdBackForCut(): boolean {
    this.#assertUsable();
    const cuts = this.#cuts;
    const before = Math.min((cuts[0] as { before: number }).before, this.#pending.length);
    if (before === 0) return false;
    const after = this.#pending.length - before;
    if (after > 0) {
      // Into the other buffer (empty: no write is under way), which the write makes the pending one as it takes
      // this one. Where the last record before the mark starts is not known, nor then the last one after it.
      this.#spare.raw(this.#pending.view(before));
      this.#pending.truncate(before);
      this.#pendingLastBytes = 0;
    }
    for (const cut of cuts) cut.before -= before;
    return true;
  }

  /** Write `buffer` at the end in pieces that keep the unsynced bytes within the window, syncing between them. */
  async #writeWithinWindow(buffer: ByteWriter): Promise<void> {
    this.#bulkWrite = this.#isBulk(buffer.length);
    for (let done = 0; done < buffer.length; ) {
      const room = this.#maxUnsynced - (this.#written - this.#synced);
      const background = this.#backgroundSync;
      if (room < buffer.length - done && background !== undefined) {
        // The sync under way makes the room: wait for it rather than cut the write short or start a second sync
        // that the kernel would only run after it (the writer then waited for two).
        await background;
        if (this.#failure !== undefined) throw this.#failure;
        continue;
      }
      if (room <= 0) {
        await this.#syncWritten();
        continue;
      }
      const piece = Math.min(room, buffer.length - done);
      await this.#zeroFillFor(piece);
      await this.#file.write(buffer.view(done, done + piece), this.#written);
      this.#written += piece;
      done += piece;
      this.#fillAheadInBackground();
    }
  }

  /**
   * Before `length` bytes are written at the end: when they reach past the zero-filled part, extend it to
   * `preallocateBytes` past them. A fill that fails fails the write, like any failed write (a full disk reports
   * itself here first); zeros are never records, so what part of it landed is the end of the log to a reader.
   */
  async #zeroFillFor(length: number): Promise<void> {
    if (this.#fillAhead !== undefined && this.#written + length > this.#zeroedEnd) {
      await this.#fillLanded();
      // A fill that failed fails the write that waited for it, not only the ones after it.
      if (this.#failure !== undefined) throw this.#failure;
    }
    const fill = this.#fillRange(length);
    if (fill === undefined) return;
    await this.#file.write(zeroBytes(fill.to - fill.from), fill.from);
    this.#zeroedEnd = fill.to;
  }

  /**
   * {@link SegmentWriter.#zeroFillFor} on the calling thread. Only when no fill runs ahead, or the write stays below
   * its start (see {@link SegmentWriter.canWriteNow}).
   */
  #zeroFillNow(length: number, writeSync: NonNullable<WalFile["writeSync"]>): void {
    const fill = this.#fillRange(length);
    if (fill === undefined) return;
    writeSync.call(this.#file, zeroBytes(fill.to - fill.from), fill.from);
    this.#zeroedEnd = fill.to;
  }

  /**
   * Once the records have used half of the zeros ahead of them, zero-fill `preallocateBytes` more past those zeros
   * on the thread pool, so that a write rarely has to fill on its own path (a synchronous write of the records
   * would otherwise also write the zeros, on the event loop). A failure is kept and fails the next write or sync,
   * as a failed write does.
   */
  #fillAheadInBackground(): void {
    if (this.#preallocate === 0 || this.#fillAhead !== undefined || this.#bulkWrite || this.#lastWrites()) return;
    if (this.#zeroedEnd - this.#written >= this.#preallocate / 2) return;
    if (this.#failure !== undefined || this.#closed) return;
    const from = Math.max(this.#zeroedEnd, this.#written);
    const to = Math.ceil((from + this.#preallocate) / PAGE_BYTES) * PAGE_BYTES;
    this.#fillAhead = this.#file.write(zeroBytes(to - from), from).then(
      () => {
        this.#fillAhead = undefined;
        if (this.#zeroedEnd < to) this.#zeroedEnd = to;
      },
      (error: unknown) => {
        this.#failure ??= error;
        this.#fillAhead = undefined;
      },
    );
  }

  /** Wait for a fill that runs ahead, if any (its failure is kept in `#failure`, not thrown here). */
  async #fillLanded(): Promise<void> {
    while (this.#fillAhead !== undefined) await this.#fillAhead;
  }

  /**
   * A write of records of at least half the fill size is not zero-filled ahead of: it lengthens the file itself, and
   * the fdatasync after it commits one size change for that many bytes, where the zeros would save one device request
   * per sync and double the bytes written (buffered appends spill half a MiB at a time: 1.15 x slower with the fill).
   * Small writes after it fill again as they reach past the zeros.
   */
  #isBulk(length: number): boolean {
    return length >= this.#preallocate / 2;
  }

  /**
   * Whether the writes from here on are followed by a cut of the zero tail: a seal or a close has been called, so
   * nothing is appended after them, or a `flush({ trimZeroTail: true })` is under way; the zeros a fill would write
   * are cut off again (by the seal before its header, by a clean close, by that flush). They are not filled ahead of:
   * the file then ends where they do. (A write made during such a flush by another caller is not filled either: the
   * flush cuts what it would fill, and the writes after the flush fill ahead again.) Unless bytes of a torn tail that
   * `openForAppend` found may still lie past the written end: the fill is what overwrites them with zeros before
   * that cut.
   */
  #lastWrites(): boolean {
    return (
      (this.#sealing !== undefined || this.#closeCalled || this.#trimmingFlushes > 0) &&
      this.#oldTailEnd <= this.#written
    );
  }

  /** The zeros to write before `length` bytes are written at the end, if any: whole pages past them. */
  #fillRange(length: number): { from: number; to: number } | undefined {
    const end = this.#written + length;
    if (this.#preallocate === 0 || end <= this.#zeroedEnd || this.#bulkWrite || this.#lastWrites()) return undefined;
    const from = Math.max(this.#zeroedEnd, end);
    return { from, to: Math.ceil((end + this.#preallocate) / PAGE_BYTES) * PAGE_BYTES };
  }

  /**
   * fdatasync covering every byte written before it started. One at a time: a writeback error is reported once per
   * open file, to the one fdatasync that sees it, so a second one in flight beside a failing one (the background
   * sync's) would succeed and vouch for pages that were dropped (fsyncgate). A failure is recorded before the next
   * sync can start, which then throws it.
   */
  async #syncWritten(): Promise<void> {
    let covered = 0;
    await this.#oneFlush(async () => {
      covered = this.#written;
      await this.#file.datasync();
    });
    if (covered > this.#synced) this.#synced = covered;
  }

  /**
   * Run `flush` (an fdatasync or fsync of the file, with the steps that must not run beside another: a truncation
   * whose length a late sync would count as synced) once no other is in flight, and only on a writer that has not
   * failed. Every flush of the file goes through here (see {@link SegmentWriter.#syncWritten}); its failure is
   * recorded before the next can start.
   */
  async #oneFlush(flush: () => Promise<void>): Promise<void> {
    while (this.#syncInFlight !== undefined) await this.#syncInFlight;
    if (this.#failure !== undefined) throw this.#failure;
    const flight = flush().then(
      () => undefined,
      (error: unknown) => {
        this.#failure ??= error;
      },
    );
    this.#syncInFlight = flight;
    try {
      await flight;
    } finally {
      if (this.#syncInFlight === flight) this.#syncInFlight = undefined;
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Once half the window is written but not synced, start a sync nobody waits for, so a later write rarely has to
   * wait for one. A failure is kept and fails the next write or sync (the handle poisons then).
   */
  #syncInBackgroundIfHalfFull(): void {
    if (this.#backgroundSync !== undefined || this.#written - this.#synced <= this.#maxUnsynced / 2) return;
    if (this.#failure !== undefined || this.#closed) return;
    this.#backgroundSync = this.#syncWritten().then(
      () => {
        this.#backgroundSync = undefined;
      },
      (error: unknown) => {
        this.#failure ??= error;
        this.#backgroundSync = undefined;
      },
    );
  }

  /**
   * The larger capacity of the two pending buffers: what this segment's appends needed at most. The next segment's
   * writer takes the buffers over ({@link SegmentWriter.giveUpBuffers}) or starts at this size (`bufferBytes`), so
   * a run of buffered appends that outpaces the unsynced window does not grow (and copy) its buffer again from 8 KiB
   * in every segment.
   */
  get bufferCapacity(): number {
    return Math.max(this.#pending.capacity, this.#spare.capacity);
  }

  /**
   * Hand this sealed writer's two pending buffers to the next segment's writer (`buffers`), keeping small new ones:
   * nothing can be appended to a sealed segment, so they hold nothing it still needs.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` unless the writer is sealed, with nothing
   *   pending and no write in flight (nothing changes then).
   */
  giveUpBuffers(): [ByteWriter, ByteWriter] {
    if (!this.#header.sealed || this.#pending.length > 0 || this.#inFlight !== undefined) {
      throw new WalError("WAL_INVALID_ARGUMENT", "only a sealed writer with nothing pending gives up its buffers", {
        details: { path: this.path },
      });
    }
    const given: [ByteWriter, ByteWriter] = [this.#pending, this.#spare];
    this.#pending = new ByteWriter(16);
    this.#spare = new ByteWriter(16);
    return given;
  }

  /** Bytes written but not yet covered by a completed fdatasync (at most the window). */
  get unsyncedBytes(): number {
    return this.#written - this.#synced;
  }

  /**
   * Whether {@link SegmentWriter.writeNow} would write (the file offers a synchronous write, no write or cut is under
   * way or waiting).
   */
  get canWriteNow(): boolean {
    const end = this.#written + this.#pending.length;
    return (
      this.#inFlight === undefined &&
      this.#file.writeSync !== undefined &&
      end - this.#synced <= this.#maxUnsynced &&
      (this.#fillAhead === undefined || end <= this.#zeroedEnd)
    );
  }

  /**
   * Whether {@link SegmentWriter.syncNow} is available: the file offers a blocking fdatasync, and no fdatasync, fsync
   * or truncation of the file is in flight (a `sync()`, the background sync, `seal()`, `truncateTo()`, ...).
   */
  get canSyncNow(): boolean {
    // Not beside an asynchronous fdatasync in flight: only one of the two would learn of a writeback error.
    return this.#file.datasyncSync !== undefined && this.#syncInFlight === undefined;
  }

  /**
   * fdatasync on the calling thread, blocking it until every byte written before the call is durable. For sync
   * rounds a handle runs blocking (`blockingSync`, `"auto"` by default): it saves the thread-pool round trip of
   * {@link SegmentWriter.sync} at the price of stalling the event loop for the fsync's duration. Available only while
   * {@link SegmentWriter.canSyncNow} is true: beside an asynchronous fdatasync in flight (the background one, or a
   * flush), a writeback error reaches only one of the two, so this call could return for bytes that failure dropped.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` beside an fdatasync in flight, whatever the file
   *   offers (nothing is synced and the writer stays usable: await {@link SegmentWriter.sync} instead); `WAL_IO` when
   *   the file has no blocking fdatasync, or the fdatasync fails (after a failure every later sync throws the same
   *   error).
   */
  syncNow(): void {
    this.#refuseAfterClose();
    this.#assertUsable();
    if (this.#syncInFlight !== undefined) {
      throw new WalError("WAL_INVALID_ARGUMENT", "syncNow beside an fdatasync in flight: await sync() instead", {
        details: { path: this.path },
      });
    }
    this.#datasyncNow();
  }

  /**
   * Unsupported, and unsafe: {@link SegmentWriter.syncNow} without its in-flight check. It is in every build, but
   * only the testing build of `@lora/wal` calls it, for the planted bug that syncs beside the background fdatasync
   * (the torture harness must catch what that loses). Keyed by a registry symbol so that it is no part of the typed
   * API.
   */
  [Symbol.for("@lora/wal-segment.syncNowBesideInFlight")](): void {
    this.#assertUsable();
    this.#datasyncNow();
  }

  #datasyncNow(): void {
    const datasyncSync = this.#file.datasyncSync;
    if (datasyncSync === undefined) {
      throw new WalError("WAL_IO", "this file system has no blocking fdatasync", { details: { path: this.path } });
    }
    const covered = this.#written;
    try {
      datasyncSync.call(this.#file);
    } catch (error) {
      this.#failure ??= error;
      throw error;
    }
    if (covered > this.#synced) this.#synced = covered;
  }

  /**
   * Write the pending bytes synchronously when the file supports it and no asynchronous write is in flight; returns
   * false (having done nothing) otherwise, and the caller uses {@link SegmentWriter.write}. Saves a thread-pool
   * round trip per commit; a small write to the page cache takes microseconds. Returns false too while a cut is under way
   * or waiting (see {@link SegmentWriter.truncateTo}).
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`; after a failure every later write rejects with the same error.
   */
  writeNow(): boolean {
    this.#refuseAfterClose();
    const writeSync = this.#file.writeSync;
    if (this.#inFlight !== undefined || writeSync === undefined) return false;
    this.#assertUsable();
    if (this.#pending.length === 0) return true;
    const end = this.#written + this.#pending.length;
    // Beyond the unsynced window the asynchronous write must sync first (see the module comment); past the zeros
    // while a fill runs ahead, it must wait for the fill.
    if (end - this.#synced > this.#maxUnsynced) return false;
    if (this.#fillAhead !== undefined && end > this.#zeroedEnd) return false;
    this.#bulkWrite = this.#isBulk(this.#pending.length);
    try {
      this.#zeroFillNow(this.#pending.length, writeSync);
      writeSync.call(this.#file, this.#pending.view(), this.#written);
    } catch (error) {
      this.#failure ??= error;
      throw error;
    }
    this.#written = end;
    this.#noteWritten(this.#pending, this.#pendingLastBytes);
    this.#pendingLastBytes = 0;
    this.#pending.reset();
    this.#syncInBackgroundIfHalfFull();
    this.#fillAheadInBackground();
    return true;
  }

  /**
   * fdatasync the file: every byte written before the call is durable when it resolves. Does not write pending
   * bytes; call {@link SegmentWriter.write} first.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`; after a failure every later sync rejects with the same error.
   */
  async sync(): Promise<void> {
    this.#refuseAfterClose();
    this.#assertUsable();
    try {
      await this.#syncWritten();
    } catch (error) {
      this.#failure ??= error;
      throw error;
    }
  }

  /**
   * Make the bytes already in the file durable even if an earlier process's fsync failed: read them back, write
   * them again in place, and fdatasync. After a failed fsync the kernel may keep the data in its cache while marking
   * it clean (PostgreSQL's fsyncgate), so a plain fsync by a later process would not persist it, and records
   * acknowledged later would sit after a hole. Rewriting identical bytes is safe to interrupt at any point.
   *
   * With `withMetadata`, the closing flush is a full fsync, so a change of the file's size made before the call (a
   * truncation) is durable with the bytes: one flush where a truncation's own fsync and this one would be two.
   * `chunkBytes` (1 MiB by default) is how much is read and written back at a time.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_OPTION` for a `chunkBytes` that is not an integer of at
   *   least 1, before any I/O; `WAL_IO` (also when the file ends before the bytes written, cut by something else:
   *   "unexpected end", `details.offset` where it ends; nothing more is counted synced), `WAL_CLOSED`.
   */
  async rewriteInPlace(options: { readonly withMetadata?: boolean; readonly chunkBytes?: number } = {}): Promise<void> {
    checkOptionsObject(options); // the chunk size was once a positional number: refuse one rather than ignore it
    // Checked before any I/O: 0 or NaN would make an empty buffer that rewrites nothing, yet the call would resolve.
    const chunkBytes = readSizeOf(options.chunkBytes);
    this.#refuseAfterClose();
    // Held throughout: a cut made meanwhile would have bytes read before it written back past its end, and a write
    // landing beside the fdatasync would be counted synced.
    const release = await this.#takeSlot();
    try {
      this.#assertUsable();
      await this.#rewriteHeld(chunkBytes, options.withMetadata === true);
    } finally {
      release();
    }
  }

  async #rewriteHeld(chunkBytes: number, withMetadata: boolean): Promise<void> {
    const chunk = new Uint8Array(Math.min(chunkBytes, Math.max(1, this.#written)));
    try {
      for (let at = 0; at < this.#written; ) {
        const want = Math.min(chunk.byteLength, this.#written - at);
        let got = 0;
        while (got < want) {
          const n = await this.#file.read(chunk, got, want - got, at + got);
          // Cut behind the writer's back: the bytes past here are not on disk, so they must not count as synced.
          if (n === 0) {
            throw new WalError("WAL_IO", `unexpected end of ${this.path} at ${at + got} (wanted ${this.#written})`, {
              details: { path: this.path, offset: at + got },
            });
          }
          got += n;
        }
        await this.#file.write(chunk.subarray(0, got), at);
        at += got;
      }
      await this.#oneFlush(() => (withMetadata ? this.#file.sync() : this.#file.datasync()));
      this.#synced = this.#written;
    } catch (error) {
      this.#failure ??= error;
      throw error;
    }
  }

  /**
   * Write pending bytes, then fdatasync: every byte appended before the call is durable when it resolves (as
   * {@link SegmentWriter.write} then {@link SegmentWriter.sync}).
   *
   * With `{ trimZeroTail: true }`, the last flush before a close that does not go through
   * {@link SegmentWriter.close}: its write is not zero-filled ahead of, then the zero-filled part past the records is
   * cut off (when there is one) and one fsync makes the records and the new length durable (an fdatasync when there
   * was nothing to cut). Once it resolves the file is as long as its records, and a power loss leaves it so. Bytes
   * of a torn tail that `openForAppend` found are still zero-filled over before the cut, as for a seal. The cut takes
   * the write slot in its turn, like {@link SegmentWriter.trimZeroTail}. Appending after it is allowed: later writes
   * fill ahead again.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_OPTION` (options not an object, an unknown name), before
   *   anything is written; `WAL_IO`, `WAL_CLOSED`.
   */
  async flush(options: SegmentFlushOptions = {}): Promise<void> {
    const { trimZeroTail } = checkOptionNames(options, FLUSH_OPTION_NAMES, "SegmentWriter.flush");
    if (trimZeroTail !== true) {
      await this.write();
      await this.sync();
      return;
    }
    this.#refuseAfterClose();
    this.#trimmingFlushes++;
    try {
      await this.write();
      await this.#cutZeroTailInTurn(true);
    } finally {
      this.#trimmingFlushes--;
    }
  }

  /**
   * Seal: write and fsync the records, cut a zero tail off (and fsync, so the sealed header can never be durable
   * over a longer file), then rewrite the header with the sealed flag set and fsync again. Only that flag and the
   * header's CRC change: every other header byte stays as it was read or written (see {@link withSealedFlag}). The records it writes are not
   * zero-filled ahead of (the zeros would be cut off again): when they run past the zeros there is nothing to cut. Idempotent: a call made while
   * one runs shares its outcome; after a failed seal the writer is failed (or closed) and refuses as such. A call
   * made after {@link SegmentWriter.close} is refused with `WAL_CLOSED`, even when a seal called before it is under
   * way or done.
   *
   * It takes its place among the writes and cuts as it is called, and holds the write slot until it is done: it
   * writes every record appended before the call (once the writes and cuts called before it have run), and nothing
   * is written or cut beside it. From the call on (unless it fails), `append` fails with `WAL_SEGMENT_SEALED`, and so does a
   * {@link SegmentWriter.truncateTo} called after it (a sealed segment has no after); a write called after it has
   * nothing to write.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`, `WAL_CLOSED`.
   */
  seal(): Promise<void> {
    // Before sharing a seal under way: a call after close() is refused, whatever was called before it.
    if (this.#closeCalled) return Promise.reject(this.#closedError());
    this.#sealing ??= this.#seal().catch((error: unknown) => {
      // Not sealed: the writer is failed or closed, and refuses as such (a later seal rejects the same way).
      this.#sealing = undefined;
      throw error;
    });
    return this.#sealing;
  }

  async #seal(): Promise<void> {
    const release = await this.#takeSlot();
    try {
      this.#assertUsable();
      const sealedBytes = withSealedFlag(this.#headerBytes, true, this.path);
      try {
        if (this.#pending.length > 0) await this.#writePending();
        await this.#syncWritten();
        await this.#oneFlush(async () => {
          await this.#cutZeroTail(true);
          await this.#file.write(sealedBytes, 0);
          await this.#file.datasync();
        });
      } catch (error) {
        this.#failure ??= error;
        throw error;
      }
      this.#headerBytes = sealedBytes;
      this.#header = decodeSegmentHeader(sealedBytes, this.path);
    } finally {
      release();
    }
  }

  /**
   * Cut the file to `offset` (at or after the header, at or before the written end), drop the pending bytes appended
   * before the call, and fsync. Used to remove a torn tail before appending. Cut as {@link cutFile} cuts: in two
   * steps, the first fsynced, when non-zero bytes lie more than {@link CUT_STEP_BYTES} past `offset`, so a power loss
   * at any point leaves the old tail or at most that many of its bytes after `offset`, never the zeroed start of a
   * torn record with its payload far past it (which recovery would read as corruption); once it resolves the file is
   * `offset` bytes long.
   *
   * The cut takes its place among the writes and cuts in the order they are called, and holds the write slot until
   * it is done:
   * - It starts once every write called before it has written, and its range is checked against the end those writes
   *   (and a cut called before it) leave. What those writes took is cut with the rest; what was appended before the
   *   call and no write called before it took is dropped.
   * - Records appended after the call belong after the cut. Nothing is written while the cut waits or runs: a
   *   {@link SegmentWriter.write} called meanwhile (or `flush`, `seal`, `close`) waits for it, then writes them at the
   *   new end, in append order; {@link SegmentWriter.writeNow} returns false; a write called before the cut takes
   *   none of them. So no record lands past the cut or out of append order, and a record taken by a write that
   *   resolved is removed only by a cut called after that write. `writtenBytes` is the old end until the cut is done.
   * - A call refused for its offset drops nothing and leaves the writer usable; on a failed writer, or one whose
   *   `close()` has been called, it drops nothing and throws the first failure or `WAL_CLOSED`; on a sealed writer, or one whose {@link SegmentWriter.seal}
   *   was called before it, it throws `WAL_SEGMENT_SEALED` at once. A refused call changes nothing on disk.
   * - Likewise {@link SegmentWriter.seal}, {@link SegmentWriter.rewriteInPlace} and
   *   {@link SegmentWriter.trimZeroTail} hold the slot while they run: a cut called meanwhile waits for them.
   * @throws {@link @lora/wal-codec!WalError} `WAL_INVALID_ARGUMENT` (not an integer), `WAL_SEGMENT_SEALED`,
   *   `WAL_BAD_HEADER` (offset out of range), `WAL_CLOSED`, each before anything is dropped; `WAL_IO` (the cut
   *   failed, or a write called before it did: the writer is failed then).
   */
  async truncateTo(offset: number): Promise<void> {
    // Before the range check: NaN passes both comparisons, and would drop the pending bytes, then fail in the seam
    // (a plain RangeError from Node's ftruncate) and leave the writer failed by a caller's mistake.
    if (!Number.isSafeInteger(offset)) {
      throw new WalError("WAL_INVALID_ARGUMENT", `truncation offset must be an integer, got ${shownValue(offset)}`, {
        details: { path: this.path },
      });
    }
    this.#refuseAfterClose();
    // At the call: a seal called before it writes the records appended before the call and then holds the slot, and
    // a sealed segment is never cut (its records were fsynced as the whole segment).
    if (this.#sealing !== undefined) {
      throw new WalError("WAL_SEGMENT_SEALED", "segment is sealed; cannot truncate", { details: { path: this.path } });
    }
    // The bytes appended before the call: less what the writes called before this cut take while it waits (see
    // #holdBackForCut), dropped as it starts.
    const cut = { offset, before: this.#pending.length };
    this.#cuts.push(cut);
    let release: (() => void) | undefined;
    try {
      while (this.#inFlight !== undefined) await this.#inFlight;
      this.#assertUsable();
      if (offset < SEGMENT_HEADER_BYTES || offset > this.#written) {
        throw new WalError("WAL_BAD_HEADER", "WAL segment header is malformed: truncation point out of range", {
          details: { path: this.path, offset },
        });
      }
      // Taken in the turn that found it free: writes called from here on wait for the cut.
      release = this.#holdSlot();
      this.#dropPendingBefore(cut.before);
      if (offset < this.#lastEnd) this.#lastEnd = 0;
      // After any sync in flight: one finishing late would count the bytes cut off as synced. Nothing is written
      // while the cut holds the slot, but a fill ahead started by a write before it may still be on its way: its
      // zeros could land past the cut and lengthen the file again.
      await this.#oneFlush(async () => {
        await this.#fillLanded();
        // No non-zero byte lies past the written end unless a torn tail found by openForAppend may still be there.
        const dataEnd = this.#oldTailEnd > Math.max(this.#written, this.#zeroedEnd) ? undefined : this.#written;
        await cutFile(this.#file, offset, { durable: true, dataEnd });
        // Inside the flush: a sync waiting for it counts from the new end, not the bytes cut off.
        this.#written = offset;
        this.#synced = offset;
        this.#zeroedEnd = offset;
        this.#oldTailEnd = 0;
      });
    } catch (error) {
      // A refusal (before the slot was taken) leaves the writer as it was; a failed cut fails it.
      if (release !== undefined) this.#failure ??= error;
      throw error;
    } finally {
      // Before the slot is freed: a write that then finds it free takes every cut listed for one still waiting.
      this.#cuts.splice(this.#cuts.indexOf(cut), 1);
      release?.();
    }
  }

  /** Drop the first `count` pending bytes (those appended before a cut's call), shifting every cut's `before`. */
  #dropPendingBefore(count: number): void {
    if (count >= this.#pending.length) {
      this.#pending.reset();
      this.#pendingLastBytes = 0;
    } else {
      // The last record appended came after the cut's call and is kept whole.
      this.#pending.discardFront(count);
    }
    for (const cut of this.#cuts) cut.before = Math.max(0, cut.before - count);
  }

  /**
   * Cut the zero-filled part past the records off (when there is one) and fsync the new length, so the file is as
   * long as its records, as an appending writer leaves it: for a clean close that does not go through
   * {@link SegmentWriter.close}. Writes nothing pending; `flush({ trimZeroTail: true })` writes it and cuts in one
   * step (its write is not zero-filled ahead of, and one fsync covers both).
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO`, `WAL_CLOSED`; after a failure every later call throws it.
   */
  async trimZeroTail(): Promise<void> {
    this.#refuseAfterClose();
    await this.#cutZeroTailInTurn(false);
  }

  /**
   * Cut the zero tail off in the write slot's turn, held throughout (a write landing beside the cut, at the end it
   * cuts at, could be cut away after it resolved), and fsync the new length. `coverRecords`: the records written
   * before it are made durable by the same flush (the fsync after the cut covers them; an fdatasync when there was
   * nothing to cut) and counted synced. A power loss before it leaves the records fdatasynced earlier, then torn or
   * lost ones, then zeros or the end.
   */
  async #cutZeroTailInTurn(coverRecords: boolean): Promise<void> {
    const release = await this.#takeSlot();
    try {
      // A refusal at its turn (the writer failed, or closed meanwhile) leaves the writer as it is; a failed cut or
      // flush fails it.
      this.#assertUsable();
      let covered = 0;
      try {
        await this.#oneFlush(async () => {
          covered = this.#written;
          if (await this.#cutZeroTail(false)) await this.#file.sync();
          else if (coverRecords) await this.#file.datasync();
        });
      } catch (error) {
        this.#failure ??= error;
        throw error;
      }
      if (coverRecords && covered > this.#synced) this.#synced = covered;
    } finally {
      release();
    }
  }

  /**
   * Cut the zero-filled part past the records off, when there is one; `durably` fsyncs the new length. Returns whether
   * there was one to cut.
   */
  async #cutZeroTail(durably: boolean): Promise<boolean> {
    await this.#fillLanded();
    if (this.#zeroedEnd <= this.#written) return false;
    await this.#file.truncate(this.#written);
    if (durably) await this.#file.sync();
    this.#zeroedEnd = this.#written;
    return true;
  }

  /**
   * Write what is still buffered (as {@link SegmentWriter.write}), then close the file. Closing does not make the
   * bytes durable: call {@link SegmentWriter.flush} (or `sync`) first when they must survive a power loss.
   * Idempotent; concurrent calls share one close.
   *
   * From the call on, every other call that would append, write, sync, cut, rewrite or seal (`append`,
   * `appendCommitTx`, `write`, `writeNow`, `flush`, `sync`, `syncNow`, `truncateTo`, `rewriteInPlace`, `trimZeroTail`,
   * `seal`) is refused with `WAL_CLOSED` (or the writer's first failure) and changes nothing, even while close's own
   * last write is still under way. A write, cut or seal called before it runs in its turn, before close's last write.
   *
   * A writer that has failed writes nothing more: when bytes were still buffered, the file is closed anyway and the
   * close rejects with the first failure (they were not written). To drop buffered bytes on purpose, use
   * {@link SegmentWriter.discardAndClose}.
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (the final write, an earlier failure, or the close itself).
   */
  close(): Promise<void> {
    this.#closeCalled = true;
    this.#closing ??= this.#close(false);
    return this.#closing;
  }

  /**
   * Drop what is still buffered (never written) and close the file: for a caller that cannot trust the buffer, such
   * as a handle that lost its lock or failed. Bytes already written stay in the file. Idempotent; after a
   * {@link SegmentWriter.close} has begun it shares that close. Calls made after it are refused as after `close`; when
   * it is the first close, a write, cut or seal called before it that is still waiting for its turn is refused with
   * `WAL_CLOSED` too (what it would write is dropped).
   * @throws {@link @lora/wal-codec!WalError} `WAL_IO` (the close itself).
   */
  discardAndClose(): Promise<void> {
    this.#closeCalled = true;
    this.#closing ??= this.#close(true);
    return this.#closing;
  }

  async #close(discard: boolean): Promise<void> {
    let failure: { readonly error: unknown } | undefined;
    if (discard) this.#pending.reset();
    else {
      try {
        // Until nothing is buffered: an append made while a write is under way lands in the other buffer.
        while (this.#pending.length > 0 || this.#inFlight !== undefined) await this.#write();
      } catch (error) {
        failure = { error };
      }
    }
    this.#closed = true;
    while (this.#inFlight !== undefined) await this.#inFlight.catch(() => undefined);
    if (this.#backgroundSync !== undefined) await this.#backgroundSync;
    // Nor close the descriptor under a caller's fdatasync still in flight.
    while (this.#syncInFlight !== undefined) await this.#syncInFlight;
    await this.#fillLanded();
    // A clean close leaves the file as long as its records, as an appending writer would (not made durable: a
    // zero tail that comes back after a power loss is still the end of the log).
    if (!discard && failure === undefined && this.#failure === undefined) {
      try {
        await this.#cutZeroTail(false);
      } catch (error) {
        failure = { error };
      }
    }
    await this.#file.close();
    if (failure !== undefined) throw failure.error;
  }

  #assertUsable(): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw this.#closedError();
  }

  /**
   * Refuse a call made once {@link SegmentWriter.close} or {@link SegmentWriter.discardAndClose} has been called,
   * before it changes anything: with the first failure, if any, else `WAL_CLOSED`.
   */
  #refuseAfterClose(): void {
    if (this.#closeCalled) throw this.#closedError();
  }

  /** The error a call after close is refused with: the first failure, if any (as `#assertUsable`), else `WAL_CLOSED`. */
  #closedError(): unknown {
    return this.#failure ?? new WalError("WAL_CLOSED", "segment writer is closed", { details: { path: this.path } });
  }
}

/**
 * Refuse bad options before a file is created, opened or renamed for them (also for `SpareSegment.becomeSegment`),
 * and return them each read once: the writer uses what this returns, never `given` again.
 */
export function validateOptions(given: SegmentWriterOptions): SegmentWriterOptions {
  const options = checkOptionNames(given, WRITER_OPTION_NAMES, "SegmentWriter");
  const max = optionOr(options.maxUnsyncedBytes, UNSYNCED_WINDOW_BYTES);
  if (!Number.isSafeInteger(max) || max < 4096) {
    throw new WalError("WAL_INVALID_OPTION", `maxUnsyncedBytes must be an integer >= 4096, got ${shownValue(max)}`);
  }
  const ahead = options.preallocateBytes;
  if (ahead !== undefined && (!Number.isSafeInteger(ahead) || ahead < 0 || ahead > MAX_PREALLOCATE_BYTES)) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `preallocateBytes must be an integer from 0 to ${MAX_PREALLOCATE_BYTES}, got ${shownValue(ahead)}`,
    );
  }
  // Checked before a file is created: the buffers' own check would refuse it only after.
  const buffer = options.bufferBytes;
  if (buffer !== undefined && (!Number.isSafeInteger(buffer) || buffer < 0)) {
    throw new WalError("WAL_INVALID_OPTION", `bufferBytes must be an integer >= 0, got ${shownValue(buffer)}`);
  }
  const buffers: unknown = options.buffers;
  if (buffers === undefined) return options;
  // Its length and each element read once, into the pair the writer uses: a proxy's traps may answer differently,
  // or throw, the next time (the writer destructured the array again, by its iterator).
  const pair = readCallerValue(
    () => {
      if (!Array.isArray(buffers) || buffers.length !== 2) return undefined;
      const first: unknown = buffers[0];
      const second: unknown = buffers[1];
      return first instanceof ByteWriter && second instanceof ByteWriter && first !== second
        ? ([first, second] as const)
        : undefined;
    },
    "WAL_INVALID_OPTION",
    "SegmentWriter: reading buffers",
    { option: "buffers" },
  );
  if (pair === undefined) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `buffers must be two distinct ByteWriters (a sealed writer's giveUpBuffers()), got ${shownValue(buffers)}`,
    );
  }
  return { ...options, buffers: pair };
}
