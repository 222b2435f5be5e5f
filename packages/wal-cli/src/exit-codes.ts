/**
 * Exit codes of `lora-wal`. 0–2 describe the log (the same for every command); 3 and 4 mean the command could not
 * look at it; 5 means it looked with the wrong payload codec.
 */
export const ExitCode = {
  /** The log is clean (or `--help` was asked for). */
  OK: 0,
  /**
   * Opening the log repairs the only damage: a torn tail at the end of the newest segment (cut off), or a newest
   * segment without a header (removed and recreated).
   */
  TORN_TAIL: 1,
  /** Corruption, malformed structure, or a file that is not a segment (bad header). Opening the log fails. */
  DAMAGED: 2,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  USAGE: 3,
  /** The path cannot be read: missing, not a directory or file, permission denied, I/O error. */
  IO: 4,
  /**
   * Codec mismatch: the records are intact, but the first mutation record does not decode with `--codec` (and none
   * before it did). Opening the log with that codec fails with `WAL_CODEC_MISMATCH` and changes no segment; run again
   * with the codec the log was written with.
   */
  CODEC_MISMATCH: 5,
} as const;

/**
 * One of the {@link ExitCode} values (0 clean, 1 torn tail, 2 corruption, 3 usage, 4 unreadable path, 5 codec
 * mismatch).
 */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
