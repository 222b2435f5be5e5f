/** Options, results and reports of a replay. */

import { optionNames, type PayloadCodec, type WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import type { TransactionSpans } from "./transaction-spans.js";

/**
 * What to do with damage (docs/recovery.md). Replay classifies and reports; acting on it (truncating, keeping a
 * `.broken` copy) is the handle's job.
 * - `tolerate-torn-tail` (default): a torn tail ends the replay and is reported; corruption throws `WAL_CORRUPT`.
 * - `absolute`: any damage throws (`WAL_TORN_TAIL` or `WAL_CORRUPT`).
 * - `point-in-time`: the first damage of either kind ends the replay and is reported; nothing throws for it.
 *
 * In every mode a codec mismatch (intact records the codec cannot decode) throws `WAL_CODEC_MISMATCH`, and an
 * unreadable header other than a headerless newest segment throws `WAL_BAD_HEADER` (see `damage-rules.ts`).
 */
export type RecoveryMode = "tolerate-torn-tail" | "absolute" | "point-in-time";

/** Every {@link RecoveryMode}, for validating options. */
export const RECOVERY_MODES: readonly RecoveryMode[] = ["tolerate-torn-tail", "absolute", "point-in-time"];

/** Where a directory's walk starts (see {@link ReplayOptions.scanFrom}). */
export type ScanFrom = "oldest" | "fence";

/** Every {@link ScanFrom}, for validating options. */
export const SCAN_FROM: readonly ScanFrom[] = ["oldest", "fence"];

/** Options of `replayDir` and `replaySegments`: the codec, the fence, the recovery mode and where the walk starts. */
export interface ReplayOptions<E> {
  /**
   * Decodes mutation payloads. A CRC-valid record it rejects is never a torn tail: a codec mismatch when no mutation
   * record before it decoded, corruption otherwise.
   */
  readonly codec: PayloadCodec<E>;
  /**
   * The fence: records at or below this LSN are already in the caller's snapshot and are skipped. It must be a
   * transaction boundary (`WAL_FENCE_IN_TRANSACTION` otherwise) and at or above what the oldest segment can serve
   * (`WAL_FENCE_TOO_LOW` otherwise, unless `allowTruncatedHistory`); both errors name a fence that works in
   * `details.usableFence`. `replayDir` judges a directory whose segment ids have a hole that a checkpoint marker
   * after it covers (a truncation a crash interrupted) as the truncated log it is, whole from the segment after the
   * hole: a fence below that is `WAL_FENCE_TOO_LOW` too, never `WAL_CORRUPT` (a hole no marker covers is). @default 0
   */
  readonly checkpointLsn?: number;
  /**
   * Replay what the log retains even when the fence is below its oldest segment (records between the fence and the
   * oldest segment were truncated): the explicit opt-in for a reader that wants "whatever is there", such as an
   * inspection tool. Without it such a fence is `WAL_FENCE_TOO_LOW`. Over a hole a checkpoint covers, what is
   * replayed is the log from the segment after the hole (never the segments before it, then a jump over the hole).
   * @default false
   */
  readonly allowTruncatedHistory?: boolean;
  /** @default "tolerate-torn-tail" */
  readonly recovery?: RecoveryMode;
  /**
   * The unsynced window of the writer that wrote the log (`SegmentWriterOptions.maxUnsyncedBytes`): damage reaching
   * into the last this-many bytes of the newest segment is taken for a torn write (see the damage rules). Only a
   * log written with another window needs it. @default UNSYNCED_WINDOW_BYTES (1 MiB)
   */
  readonly unsyncedWindowBytes?: number;
  /**
   * The log directory whose durable mark (`.lora-wal.durable`) is looked at when damage could be a torn tail: damage
   * before the end of the record its binding names, when that record reads back whole, is corruption (see the damage
   * rules and docs/recovery.md). `replayDir` looks at its own directory's mark without it; `replaySegments` only at
   * this one's, when given (the segments must be that directory's). @default replayDir's directory; none for
   * `replaySegments`
   */
  readonly durableMarkDir?: string;
  /** The file-system seam. @default the Node file system */
  readonly fs?: WalFileSystem;
  /** Bytes per read: an integer of at least 1 (else `WAL_INVALID_OPTION`). @default 1 MiB */
  readonly chunkBytes?: number;
  /**
   * The start of an LSN range, as `readCommitted`'s resume token: only transactions with `beginLsn > after` are
   * handed over (pass the commit LSN of the last transaction you processed). `replayDir` starts reading at the
   * segment holding `after + 1`, found by a binary search over segment headers (one 32-byte read per step); the
   * segments before it are never opened. A transaction begun before that segment began at or below `after` and is
   * skipped, never an error. When the log no longer holds `after + 1` (truncated), iteration throws `WAL_TRUNCATED`
   * unless `allowTruncatedHistory`: at once, or, when `after + 1` is the only LSN missing, at the first record of a
   * transaction begun there (docs/change-feed.md, "Rotation and truncation"). `replaySegments` filters but does not seek (its caller chose the files).
   * See {@link ReplayOutcome} for what the report covers then. @default no lower bound (the whole retained log)
   */
  readonly after?: number;
  /**
   * With `after`, the exact resume token's other half (a {@link CommittedTransaction}'s `restartLsn`): reading
   * starts at the segment holding it, and the transactions handed over are those with `beginLsn >= restartLsn` and
   * `commitLsn > after`. So a transaction that began before `after` and committed after it (low-level transactions
   * used concurrently) is delivered whole on resume. It must be at most `after + 1`; `WAL_TRUNCATED` when the log no
   * longer holds it (as for `after`: when it is the only LSN missing, only at a record of a transaction begun
   * there). With `after`, every transaction handed over carries its own `restartLsn`.
   * @default after + 1 (the transactions with `beginLsn > after`)
   */
  readonly restartLsn?: number;
  /**
   * Where the walk of a directory starts. `"oldest"` (the default) reads every retained segment, so damage and
   * structure are checked in the whole log. `"fence"` starts at the segment holding `checkpointLsn + 1`, found by
   * a binary search over segment headers, so a reader that resumes from a snapshot reads only what it replays:
   * - the fence rules hold as in a whole walk: a transaction that spans the fence is `WAL_FENCE_IN_TRANSACTION`
   *   (its records above the fence name a begin below the first segment read), and a fence below the oldest
   *   segment is `WAL_FENCE_TOO_LOW`;
   * - the segments before it are never opened, so damage in them (records the snapshot already holds) is not
   *   seen; `lora-wal verify` checks the whole log.
   *
   * With `after`, the walk starts at the segment holding `after + 1` whatever this says. `replaySegments` ignores
   * it (its caller chose the files). See {@link ReplayOutcome} for what the report covers. @default "oldest"
   */
  readonly scanFrom?: ScanFrom;
  /**
   * The end of an LSN range: only transactions with `commitLsn <= upto`. The walk ends (complete, no damage
   * reported) before the first record with a higher LSN, whose payload is never decoded; of the segments after
   * the one holding it, at most the next one's header is read. Safe beside a live writer that keeps appending: everything at or below a bound
   * the caller observed (a commit LSN, the durable LSN) was written before it was observed. @default no bound
   */
  readonly upto?: number;
  /** @deprecated The same bound as {@link ReplayOptions.upto} (its former name); give one of the two. */
  readonly uptoLsn?: number;
  /**
   * Called with the replay's progress: after each further MiB of the range is read (the calls are bounded by the
   * range's size, not by time: at most one per MiB) and once more when the walk ends, complete or at reported
   * damage (`done: true`); not after a `break`, an abort or a thrown error. Called synchronously from inside
   * iteration: keep it short, and do not call the replay from it. A callback that throws fails the replay.
   */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /**
   * Aborts the replay with the signal's reason: once `abort()` has returned, no further transaction is handed over
   * (the next `next()` rejects with the reason and the segment is closed). The signal is also checked when each
   * segment is opened and every 4096 records, so a replay inside a long transaction stops too.
   */
  readonly signal?: AbortSignal;
}

/** Every option `replayDir` and `replaySegments` reads; any other name is refused (`WAL_INVALID_OPTION`). */
export const REPLAY_OPTION_NAMES = optionNames<ReplayOptions<unknown>>()(
  "codec",
  "checkpointLsn",
  "allowTruncatedHistory",
  "recovery",
  "unsyncedWindowBytes",
  "durableMarkDir",
  "fs",
  "chunkBytes",
  "after",
  "restartLsn",
  "scanFrom",
  "upto",
  "uptoLsn",
  "onProgress",
  "signal",
);

/** How far a replay is (see {@link ReplayOptions.onProgress}). */
export interface ReplayProgress {
  /**
   * Bytes of the range read so far, each segment counted up to its size when the replay started (a live writer's
   * later appends are not counted). Never decreases; at the last call of a walk that ended at the end of its range
   * it equals `totalBytes` (the part of the last segment above `upto` is not read, and counts as done).
   */
  readonly bytes: number;
  /**
   * The sum of the sizes of the range's segments when the replay started: from the segment holding `after + 1`
   * (the oldest without `after`) to the newest whose base LSN is at most `upto` (the newest without `upto`).
   */
  readonly totalBytes: number;
  /** Records read so far (as {@link ReplayOutcome.records}). */
  readonly records: number;
  /** True at the last call, when the walk has ended. */
  readonly done: boolean;
}

/** One committed transaction, as replay hands it over (in commit order). */
export interface ReplayedTransaction<E> {
  readonly beginLsn: number;
  readonly commitLsn: number;
  /** The events in append order. */
  readonly events: E[];
}

/**
 * A committed transaction as the change feed's readers hand it out (`readCommitted`, `followDir`, `wal.follow`):
 * with its exact resume token. `commitLsn` says what was processed; `restartLsn` says where to read again from so
 * that nothing after it is missed: the lowest begin LSN of the transactions still open when this one committed
 * (which may commit later), or `commitLsn + 1` when none was. Resume with `{ after: commitLsn, restartLsn }`.
 * Replication slots keep both.
 */
export interface CommittedTransaction<E> extends ReplayedTransaction<E> {
  readonly restartLsn: number;
}

/** Damage at the end of the newest segment, when it is not sealed, with nothing valid after it. */
export interface TornTailInfo {
  readonly segmentPath: string;
  readonly segmentId: number | undefined;
  /** The end of the last good record: where the segment would be cut. */
  readonly offset: number;
  readonly fileSize: number;
  /** Bytes after `offset`. */
  readonly droppedBytes: number;
  /** What the reader found at `offset`. */
  readonly cause: WalError;
}

/** Damage that is not a provable torn tail. */
export interface CorruptionInfo {
  readonly segmentPath: string;
  readonly segmentId: number | undefined;
  /** Where the bad bytes start (the end of the last good record). */
  readonly offset: number;
  /** The `WAL_CORRUPT` error that `tolerate-torn-tail` and `absolute` throw. */
  readonly error: WalError;
  /** The first CRC-valid record found after the damage, when that is what made it corruption. */
  readonly validRecordAfter: { readonly offset: number; readonly lsn: number } | undefined;
}

/** What replay saw in one segment. */
export interface SegmentSummary {
  readonly id: number | undefined;
  readonly path: string;
  readonly baseLsn: number;
  readonly sealed: boolean;
  readonly fileSize: number;
  readonly records: number;
  readonly firstLsn: number | undefined;
  readonly lastLsn: number | undefined;
  /** The end of the last good record. */
  readonly endOffset: number;
}

/**
 * What a replay found. Everything in it describes the part of the log the walk read: with `after` (or `scanFrom:
 * "fence"`), from the start of the segment holding `after + 1` (the fence + 1); with `upto`, up to the last record at
 * or below it. So for a range:
 * - `segments`, `records`, `maxLsn`, `lastGoodOffset`, `transactionSpans`, `newestSnapshotLsn` and
 *   `checkpointLsnObserved` cover the segments read (records of the first one below `after + 1` included, records
 *   above `upto` excluded); checkpoint markers outside them are not seen.
 * - `committedTransactions` counts the transactions handed over (in the range); `abortedTransactions` and
 *   `uncommittedTransactions` those of the records read.
 * - `tornTail`, `corruption` and `headerlessLastSegment` report damage met in the segments read (thrown or reported
 *   by the recovery mode as in a full replay, also when it lies before `after + 1` in the first segment: nothing
 *   after it can be reached); damage outside them is never seen. A range that ends at `upto` is `complete` and
 *   reports no damage beyond it.
 * - `oldestFence` is still the whole retained log's (the oldest segment's base LSN minus one).
 */
export interface ReplayOutcome {
  /** The first segment's base LSN minus one: the lowest fence the retained log can serve (0 with no segment). */
  readonly oldestFence: number;
  /** The newest snapshot LSN of every checkpoint marker read, fenced ones included; `null` when there is none. */
  readonly newestSnapshotLsn: number | null;
  /**
   * Which LSNs of the walked log lie inside a transaction (fenced and unfinished transactions included): a fence or
   * checkpoint snapshot must avoid them. Covers what was walked, up to the damage that ended the walk.
   */
  readonly transactionSpans: TransactionSpans;
  /** Highest LSN decoded, fenced and discarded records included; 0 when there are none. */
  readonly maxLsn: number;
  /** The end of the last good record in the last segment walked. */
  readonly lastGoodOffset: number;
  readonly tornTail: TornTailInfo | null;
  /** Set only in `point-in-time` mode (the other modes throw). */
  readonly corruption: CorruptionInfo | null;
  /** The newest snapshot LSN among checkpoint markers above the fence; informational, never a fence itself. */
  readonly checkpointLsnObserved: number | null;
  /** Every segment walked, in order. */
  readonly segments: readonly SegmentSummary[];
  /**
   * The newest segment could not hold a header: shorter than 32 bytes, or only zeros at any length (a crash while
   * it was being created, or a preallocated file). It holds no records; the handle removes it (and creates it again
   * unless appends resume in the unsealed segment before it).
   * Beside a live writer, `fileSize` 0 may also mean the file was read without a header and was gone at the second
   * look (a restarted writer's recovery removed it).
   */
  readonly headerlessLastSegment: {
    readonly path: string;
    readonly id: number | undefined;
    readonly fileSize: number;
  } | null;
  readonly committedTransactions: number;
  readonly abortedTransactions: number;
  /** Transactions begun but neither committed nor aborted when the log ended: discarded. */
  readonly uncommittedTransactions: number;
  /** Records read, fenced ones included. */
  readonly records: number;
  /** False when iteration was stopped early by the consumer. */
  readonly complete: boolean;
}
