/**
 * The one error class of the `@lora/wal-*` packages.
 *
 * Branch on `code`: codes are the contract and never change meaning; messages may change in any release.
 * Every layer re-exports {@link WalError} and {@link isWalError}, so a consumer needs one import whatever layer it
 * uses. A wrong argument to a method is a `WAL_INVALID_ARGUMENT` (`WAL_INVALID_OPTION` for an option), never a
 * plain `TypeError` or `RangeError`, and a refused call writes nothing.
 */

const BRAND = Symbol.for("@lora/wal.error");

/** Stable error codes. Each package README lists the codes it can produce and when. */
export type WalErrorCode =
  /** A record's length field is below the 25-byte minimum framing. */
  | "WAL_BAD_LENGTH"
  /** A record (or a record about to be written) is larger than {@link MAX_RECORD_BYTES}. */
  | "WAL_RECORD_TOO_LARGE"
  /** A record's CRC-32 does not match its bytes. */
  | "WAL_CRC_MISMATCH"
  /** A record's kind byte is not one of the six known kinds. */
  | "WAL_UNKNOWN_KIND"
  /** A marker record (begin, commit, abort, checkpoint) carries a payload. */
  | "WAL_MARKER_PAYLOAD"
  /** A CRC-valid record whose payload the codec cannot decode (possibly written by a newer writer). */
  | "WAL_DECODE"
  /** An event or record cannot be encoded (lone surrogate, out-of-range integer, empty batch, ...). */
  | "WAL_ENCODE"
  /** A segment header is short, has a bad magic, a bad CRC or an unsupported version. */
  | "WAL_BAD_HEADER"
  /** An append was attempted on a sealed segment. */
  | "WAL_SEGMENT_SEALED"
  /** Damage that is not a provable torn tail: never truncated by default. */
  | "WAL_CORRUPT"
  /** Damage at the end of the newest segment with nothing valid after it. */
  | "WAL_TORN_TAIL"
  /** The log's structure breaks a rule (LSN order, missing begin, bad segment base, regressing checkpoint). */
  | "WAL_MALFORMED"
  /** The directory lock is held by another handle, in this process or another. */
  | "WAL_LOCKED"
  /** A write or fsync failed earlier; the handle refuses further work. `cause` is the first failure. */
  | "WAL_POISONED"
  /** The handle was closed. */
  | "WAL_CLOSED"
  /** An option passed to a factory is invalid. */
  | "WAL_INVALID_OPTION"
  /**
   * An argument of a method call is out of range or of the wrong type, or the call is one the object's present state
   * does not allow (a segment writer's `syncNow` beside an fdatasync in flight); nothing was written.
   */
  | "WAL_INVALID_ARGUMENT"
  /**
   * `append`, `appendBatch`, `commit` or `abort` named a transaction that is not open in this handle (never begun,
   * already committed or aborted, or a `commitTx`'s). Nothing was written.
   */
  | "WAL_TX_NOT_OPEN"
  /**
   * A checkpoint snapshot LSN or truncation fence that replay would reject or that would lose history: below a
   * marker already in the log or the fence the handle was opened with, below what the log still holds (the oldest
   * segment's base LSN minus one, with `details.oldestRetainedLsn`), beyond what is written, or inside a
   * transaction. Nothing was written; `details.usableFence` names the highest fence that would be accepted.
   */
  | "WAL_BAD_CHECKPOINT"
  /**
   * Open or replay with a fence below what the oldest segment can supply (older records were truncated): replaying
   * would silently miss history. `details.usableFence` is the lowest fence the log can serve.
   */
  | "WAL_FENCE_TOO_LOW"
  /**
   * Open or replay with a fence inside a transaction (its begin at or below the fence, later records above it).
   * `details.usableFence` names the highest fence below it that is not inside a transaction, when there is one.
   */
  | "WAL_FENCE_IN_TRANSACTION"
  /** The log's records are CRC-valid but none decodes with the given payload codec: open it with its own codec. */
  | "WAL_CODEC_MISMATCH"
  /** The directory lock file was removed or replaced while this handle held it; the handle stops writing. */
  | "WAL_LOCK_LOST"
  /**
   * Recovery must keep bytes it cuts (acknowledged data, in `point-in-time`) and the disk has no room for the copy;
   * `details.neededBytes` says how much it needs. Nothing was changed.
   */
  | "WAL_NO_SPACE"
  /**
   * A reader or follower needs records that truncation has removed (it fell behind `truncateUpTo`): resuming would
   * silently skip transactions. `details.oldestRetainedLsn` is the first LSN the log still holds.
   */
  | "WAL_TRUNCATED"
  /** A replication slot with that name already exists. */
  | "WAL_SLOT_EXISTS"
  /** No replication slot has that name. */
  | "WAL_SLOT_NOT_FOUND"
  /**
   * The replication slot was invalidated: it held back more of the log than the writer's `maxSlotRetainedBytes`, and
   * the segments it needed were removed. Its consumer must start again from a new base (a snapshot).
   */
  | "WAL_SLOT_INVALIDATED"
  /**
   * A replication slot is past the position its consumer wrote: another consumer moved it (a follower opened with the
   * same slot name, `advanceSlot` by hand, or a slot created again further on), so it no longer keeps from truncation
   * what its own consumer still needs. A slot has one consumer: give each its own. `details.slot` names it and
   * `details.lsn` is the confirmed LSN found. Reported by the archiver of `@lora/wal-archive` (`status().slotProblem`).
   */
  | "WAL_SLOT_MOVED"
  /**
   * A restore found the archive incomplete: an object a segment needs is missing (a segment id or a range of the
   * active segment's bytes), so the log would silently be shorter. `details.object` names what is missing.
   */
  | "WAL_ARCHIVE_MISSING"
  /**
   * An archived object does not match what was archived: its bytes fail the CRC-32 or the size recorded in its key,
   * or it is not a segment. `details.object` names it.
   */
  | "WAL_ARCHIVE_CORRUPT"
  /**
   * The archive store keeps failing (after retries with backoff): archiving is behind and the recovery point
   * objective is not met until it recovers. `cause` is the store's last error.
   */
  | "WAL_ARCHIVE_UNAVAILABLE"
  /**
   * The archive store holds another history of this log (e.g. it was archived before a point-in-time restore, or
   * the prefix belongs to another log): archiving into it would mix the two. `details.object` names the first
   * object that disagrees; archive the log under a new prefix or directory.
   */
  | "WAL_ARCHIVE_DIVERGED"
  /** An operating-system I/O error; `cause` is the Node error with its errno code. */
  | "WAL_IO";

/** Where an error happened, as far as it is known. */
export interface WalErrorDetails {
  readonly path?: string;
  readonly segment?: string;
  readonly segmentId?: number;
  readonly offset?: number;
  readonly lsn?: number;
  readonly syscall?: string;
  readonly errno?: string;
  /** For fence and checkpoint errors: the fence the caller can use instead (absent when there is none). */
  readonly usableFence?: number;
  /** For fence errors: the LSN the retained log starts after (the oldest segment's base LSN minus one). */
  readonly oldestFence?: number;
  /** For `WAL_NO_SPACE`: the free space the operation needs, in bytes. */
  readonly neededBytes?: number;
  /**
   * For `WAL_TRUNCATED`, and `WAL_BAD_CHECKPOINT` for a snapshot below what the log still holds: the first LSN the
   * log still holds (the oldest segment's base LSN).
   */
  readonly oldestRetainedLsn?: number;
  /** For slot errors: the slot's name. */
  readonly slot?: string;
  /** For archive errors: the object's key in the store. */
  readonly object?: string;
  /** For `WAL_INVALID_OPTION` naming an unknown option (`WAL_INVALID_ARGUMENT` from `planRetention`): that name. */
  readonly option?: string;
  /**
   * For `WAL_INVALID_OPTION` naming an unknown option (`WAL_INVALID_ARGUMENT` from `planRetention`): the names the call
   * knows.
   */
  readonly knownOptions?: readonly string[];
  /** For `WAL_POISONED` from `close()`: the highest LSN an fsync covered. */
  readonly syncedLsn?: number;
  /** For `WAL_POISONED` from `close()`: the newest commit acknowledged as written (`group` and `none` mode). */
  readonly writtenLsn?: number;
}

/** Options of the {@link WalError} constructor. */
export interface WalErrorOptions {
  /** The underlying error (the Node error for `WAL_IO`). */
  readonly cause?: unknown;
  /** Where it happened. @default {} */
  readonly details?: WalErrorDetails;
}

/** Every error thrown or reported on purpose by `@lora/wal-*`. */
export class WalError extends Error {
  override readonly name = "WalError";
  /** What went wrong; stable across releases (messages are not). */
  readonly code: WalErrorCode;
  /** Where it went wrong, as far as it is known. */
  readonly details: WalErrorDetails;

  constructor(code: WalErrorCode, message: string, options: WalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // `??` on purpose: `details` is never a caller's setting but what the library attaches, and every reader of an
    // error reads `error.details.x`, so a null (from code that builds details conditionally) must still give `{}`.
    // eslint-disable-next-line no-restricted-syntax -- see above
    this.details = options.details ?? {};
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * True when `e` is a {@link WalError} (optionally with the given code). Checks a `Symbol.for` brand rather than
 * `instanceof`, so it also works across duplicated installs of the package.
 */
export function isWalError(e: unknown, code?: WalErrorCode): e is WalError {
  if (typeof e !== "object" || e === null || !(BRAND in e)) return false;
  return code === undefined || (e as { code?: unknown }).code === code;
}
