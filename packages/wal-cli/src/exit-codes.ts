/**
 * Exit codes of `lora-wal`. 0–2 describe the log (the same for every command); 3 and 4 mean the command could not
 * look at it; 5 means it looked with the wrong payload codec; 6 and 7 are the change feed's (`follow`, `slots`); 8
 * and 9 are the archive's (`archive verify`, `restore`).
 */

import type { WalErrorCode } from "@lora/wal-codec";

export const ExitCode = {
  /**
   * The log is clean (or `--help` was asked for; or `follow` stopped as asked: a bound, SIGINT or SIGTERM; or `restore`
   * restored, also when only the release of the directory's lock failed afterwards, which its summary shows).
   */
  OK: 0,
  /**
   * Opening the log repairs the only damage: a torn tail at the end of the newest segment (cut off), or a newest
   * segment without a header (removed).
   */
  TORN_TAIL: 1,
  /** Corruption, malformed structure, or a file that is not a segment (bad header). Opening the log fails. */
  DAMAGED: 2,
  /**
   * Bad command line: unknown command or option, missing or invalid argument; also a `--codec-module` that is
   * missing, does not load or exports no codec, and a `dump --tx` LSN where no transaction begins.
   */
  USAGE: 3,
  /**
   * The path cannot be read (or, for `restore`, written): missing, not a directory or file, permission denied, I/O
   * error; or, for `restore`, another live handle (a `Wal`, LoraDB, another restore) holds the directory's lock
   * (`WAL_LOCKED`), or took it from under the restore before its first rename (`WAL_LOCK_LOST`).
   */
  IO: 4,
  /**
   * Codec mismatch: the records are intact, but the first mutation record does not decode with the `--codec` or
   * `--codec-module` given (and none before it did). Opening the log with that codec fails with `WAL_CODEC_MISMATCH`
   * and changes no segment; run again with the codec the log was written with. Without either option, `inspect`,
   * `verify`, `stat` and `dump` never exit with this: they read a log the default codec does not decode framing
   * only (`follow`, which prints events, still does).
   */
  CODEC_MISMATCH: 5,
  /**
   * Behind truncation: the log no longer holds the records after the reader's position, so following on would
   * silently skip transactions. `WAL_TRUNCATED` (`follow --after`, or a slot created behind the log), or
   * `WAL_SLOT_INVALIDATED` (the writer invalidated the slot because it held back too much of the log, and deleted
   * what it needed). The consumer has to start again from a snapshot (and a new slot).
   */
  TRUNCATED: 6,
  /**
   * A replication slot problem: no slot of that name (`WAL_SLOT_NOT_FOUND`), one exists already (`WAL_SLOT_EXISTS`),
   * or `follow --slot` found the slot confirmed past what it printed by another process (two followers share it).
   */
  SLOT: 7,
  /**
   * The archive lacks an object a restore needs (`WAL_ARCHIVE_MISSING`): a segment id between the oldest and the
   * newest, the sealed object of a segment that is not the newest, a byte range of the newest segment's pieces, or
   * any segment at all; or it does not reach `--to-lsn` (or back to `--from-lsn`). A restore would give a shorter
   * log than asked for, so it refuses.
   */
  ARCHIVE_MISSING: 8,
  /**
   * An archived object is damaged (`WAL_ARCHIVE_CORRUPT`): its size or CRC-32 is not the one its key names, or its
   * bytes do not read as the segment its key names (header, whole records, rising LSNs). `archive verify` exits
   * with this one when it finds both kinds of problem.
   */
  ARCHIVE_CORRUPT: 9,
} as const;

/**
 * One of the {@link ExitCode} values (0 clean, 1 torn tail, 2 corruption, 3 usage, 4 unreadable path, 5 codec
 * mismatch, 6 behind truncation, 7 slot missing or existing, 8 archive object missing, 9 archive object corrupt).
 */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for a command that failed with a `WalError` of `code`. */
export function exitCodeForError(code: WalErrorCode): ExitCodeValue {
  switch (code) {
    case "WAL_IO":
    case "WAL_LOCKED":
    case "WAL_LOCK_LOST":
      return ExitCode.IO;
    case "WAL_CODEC_MISMATCH":
      return ExitCode.CODEC_MISMATCH;
    case "WAL_TRUNCATED":
    case "WAL_SLOT_INVALIDATED":
      return ExitCode.TRUNCATED;
    case "WAL_SLOT_NOT_FOUND":
    case "WAL_SLOT_EXISTS":
      return ExitCode.SLOT;
    case "WAL_ARCHIVE_MISSING":
      return ExitCode.ARCHIVE_MISSING;
    case "WAL_ARCHIVE_CORRUPT":
      return ExitCode.ARCHIVE_CORRUPT;
    // A caller's mistake the library refused (an empty path, an option out of range): a usage error, not damage.
    case "WAL_INVALID_ARGUMENT":
    case "WAL_INVALID_OPTION":
      return ExitCode.USAGE;
    default:
      return ExitCode.DAMAGED;
  }
}
