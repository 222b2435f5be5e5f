/**
 * The bounded change-feed reader: committed transactions in a range of LSNs, read from the segment that holds the
 * start instead of from the beginning of the log, and never past the upper bound.
 */

import {
  checkOptionNames,
  checkPath,
  isWalError,
  optionNames,
  optionOr,
  type PayloadCodec,
  shownValue,
  WalError,
} from "@lora/wal-codec";
import { fileSystemOption, isMissingFileError, type WalFileSystem } from "@lora/wal-segment";
import { replayDir } from "./replay.js";
import { checkReplayOptions, checkRestartLsn } from "./replay-options.js";
import type { CommittedTransaction, RecoveryMode, ReplayOptions } from "./replay-types.js";
import { isLoneMissingLsn, oldestRetainedLsn, truncatedError } from "./segment-locate.js";

/** Options of {@link readCommitted}. */
export interface ReadCommittedOptions<E> {
  /** Decodes mutation payloads. */
  readonly codec: PayloadCodec<E>;
  /**
   * The resume token's commit LSN: only transactions committed above it are returned (pass the `commitLsn` of the
   * last transaction you processed). Alone, only transactions whose begin LSN is also above it are returned, as
   * LoraDB's reader does; give `restartLsn` too for an exact resume. @default 0
   */
  readonly after?: number;
  /**
   * The resume token's restart point (the `restartLsn` of the same transaction as `after`): reading starts there,
   * so a transaction that began before `after` and committed above it (low-level transactions used concurrently) is
   * returned whole. Between 1 and `after + 1`. @default after + 1
   */
  readonly restartLsn?: number;
  /**
   * The upper bound: only transactions committed at or below it; records above it are never decoded, so a bound
   * taken from a live writer (its durable LSN) is safe to read beside it. @default no bound
   */
  readonly upto?: number;
  /**
   * Read what the log retains even when records after `after` were truncated away; without it that is
   * `WAL_TRUNCATED`. @default false
   */
  readonly allowTruncatedHistory?: boolean;
  /** Damage handling, as in replay. @default "tolerate-torn-tail" */
  readonly recovery?: RecoveryMode;
  /** The writer's unsynced window, as in replay (only for logs written with another window). */
  readonly unsyncedWindowBytes?: number;
  /** Aborts the read with the signal's reason. */
  readonly signal?: AbortSignal;
  /** The file-system seam. @default the Node file system */
  readonly fs?: WalFileSystem;
}

/** Every option `readCommitted` reads; any other name is refused (`WAL_INVALID_OPTION`). */
export const READ_COMMITTED_OPTION_NAMES = optionNames<ReadCommittedOptions<unknown>>()(
  "codec",
  "after",
  "restartLsn",
  "upto",
  "allowTruncatedHistory",
  "recovery",
  "unsyncedWindowBytes",
  "signal",
  "fs",
);

/**
 * The committed transactions of the log in `dir` with `beginLsn >= restartLsn` (by default `beginLsn > after`),
 * `commitLsn > after` and `commitLsn <= upto`, in commit order, each with its resume token (`commitLsn` and
 * `restartLsn`: see {@link CommittedTransaction}). Reads from the segment holding `restartLsn` (one header read per
 * step of a binary search to find it) and stops at the first record above `upto`. Damage is judged by replay's
 * rules (a torn tail ends the read in the default mode; corruption throws `WAL_CORRUPT`).
 *
 * A token's `restartLsn` is conservative about transactions a crashed writer left open: this reader cannot tell
 * them from live ones, so they hold it back (never past a live one). A follower learns which are dead from the
 * writer (`followDir`, `wal.follow`) and gives tokens without them.
 *
 * A token whose `restartLsn` is the only LSN the log no longer holds (the oldest segment starts just after it: often
 * a checkpoint marker was all that went) is read: one LSN cannot hold a whole committed transaction, and a
 * transaction begun there is `WAL_TRUNCATED` at its first retained record, before anything of it is returned.
 *
 * A directory whose segment ids have a hole that a checkpoint marker after it covers (a truncation a crash
 * interrupted, which `lora-wal verify` calls clean) is read as the log truncated up to the segment after the hole:
 * from before it, `WAL_TRUNCATED` at once, as a follower says (`details.oldestRetainedLsn` the base LSN of the
 * segment after the hole), unless `allowTruncatedHistory`, which reads from that segment. A hole no marker covers
 * is `WAL_CORRUPT`.
 *
 * The same as LoraDB's `CommittedTxReader::open(dir, after, upto)`.
 * @throws {@link WalError} `WAL_TRUNCATED` (records from `restartLsn` on were truncated; `details.oldestRetainedLsn`),
 *   `WAL_INVALID_ARGUMENT` (a `dir` that is not a non-empty string), `WAL_INVALID_OPTION`, and what replay throws: `WAL_CORRUPT`, `WAL_MALFORMED`, `WAL_BAD_HEADER`,
 *   `WAL_CODEC_MISMATCH`, `WAL_IO`.
 */
export async function* readCommitted<E>(
  dir: string,
  given: ReadCommittedOptions<E>,
): AsyncGenerator<CommittedTransaction<E>, void, undefined> {
  checkPath(dir);
  // Each option read once: what is checked is what the read uses.
  const options = checkOptionNames(given, READ_COMMITTED_OPTION_NAMES, "readCommitted");
  const after = optionOr(options.after, 0);
  const upto = options.upto;
  for (const [name, value] of [
    ["after", after],
    ["upto", optionOr(upto, 0)],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new WalError("WAL_INVALID_OPTION", `${name} must be a non-negative safe integer, got ${shownValue(value)}`);
    }
  }
  checkRestartLsn(after, options.restartLsn);
  const restartLsn = optionOr(options.restartLsn, after + 1);
  const fs = fileSystemOption(options.fs, "readCommitted");
  // Replay's range walk: it seeks to the segment holding restartLsn, skips what began below it or committed at or
  // below after, stops before the first record above upto, and says WAL_TRUNCATED when restartLsn is gone.
  const replayOptions: ReplayOptions<E> = {
    codec: options.codec,
    fs,
    after,
    restartLsn,
    ...(upto === undefined ? {} : { upto }),
    ...(options.allowTruncatedHistory === undefined ? {} : { allowTruncatedHistory: options.allowTruncatedHistory }),
    ...(options.recovery === undefined ? {} : { recovery: options.recovery }),
    ...(options.unsyncedWindowBytes === undefined ? {} : { unsyncedWindowBytes: options.unsyncedWindowBytes }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  // Every option is checked whatever the range: an empty one must not let a mistake through unseen.
  checkReplayOptions(replayOptions);
  if (upto !== undefined && upto <= after) return;
  // At most twice: a read that failed before delivering anything, at a segment truncation removed after the
  // listing, while the log still holds everything it needs (only the restart point itself is gone), starts again
  // from a new listing. Once is enough: for the new listing's first segment to go too, truncation must remove the
  // one starting just after the restart point, and the read is then truncated indeed.
  for (let attempt = 0; ; attempt++) {
    let delivered = false;
    try {
      // With `after`, the walk gives every transaction its restartLsn.
      for await (const transaction of replayDir(dir, replayOptions) as AsyncIterable<CommittedTransaction<E>>) {
        delivered = true;
        yield transaction;
      }
      return;
    } catch (error) {
      // A segment removed between the listing and its open: truncation overtook the read.
      if (!isWalError(error, "WAL_IO") || !isMissingFileError(error)) throw error;
      const oldest = await oldestRetainedLsn(dir, { fs });
      if (oldest === null || oldest <= restartLsn) throw error;
      // Only the restart point gone: what the start of a read with the new listing allows (see `isLoneMissingLsn`).
      if (attempt === 0 && !delivered && isLoneMissingLsn(restartLsn, oldest)) continue;
      throw truncatedError(dir, restartLsn - 1, oldest);
    }
  }
}
