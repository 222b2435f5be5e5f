/**
 * The words for what can be done about damage that `Wal.open` refuses, shared by `@lora/wal` (which adds them to its
 * refusals) and `lora-wal` (which prints them under a verdict), so that the library and the tool give one advice.
 */

/**
 * For corruption: what a `point-in-time` open does with it. Refused in the default modes, such a log opens in
 * `point-in-time` up to the damage, and what follows is moved aside into `.broken` files, kept, not deleted.
 */
export const POINT_IN_TIME_REMEDY =
  'to open the log with what precedes it (the rest is moved to .broken files), open it with recovery: "point-in-time"';

/**
 * For damage no recovery mode opens (a bad segment header, malformed structure) or records a `point-in-time` open
 * would leave out: a log restored from its archive, into a new directory.
 */
export const RESTORE_REMEDY =
  "restore the log from its archive, if it has one, into a new directory (lora-wal restore <archive> <new dir>)";
