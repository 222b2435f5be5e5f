/**
 * Exit codes of `lora-wal`. 0–2 describe the log (the same for every command); 3 and 4 mean the command could not
 * look at it.
 */
export const ExitCode = {
  /** The log is clean (or `--help` was asked for). */
  OK: 0,
  /** The only damage is a torn tail: the end of the newest segment, which opening the log cuts off. */
  TORN_TAIL: 1,
  /** Corruption, malformed structure, or a file that is not a segment (bad header). Opening the log fails. */
  DAMAGED: 2,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  USAGE: 3,
  /** The path cannot be read: missing, not a directory or file, permission denied, I/O error. */
  IO: 4,
} as const;

/** One of the {@link ExitCode} values (0 clean, 1 torn tail, 2 corruption, 3 usage, 4 unreadable path). */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
