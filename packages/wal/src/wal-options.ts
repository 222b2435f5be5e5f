/**
 * The option and result types of the `Wal` handle: what `Wal.open` and `Wal.follow` take, and what `Wal.open`,
 * `commitTx` and `checkpoint` resolve to.
 */

import { optionNames, type PayloadCodec } from "@lora/wal-codec";
import type { RecoveryMode, ReplayedTransaction, ReplayOutcome, ReplayProgress, ScanFrom } from "@lora/wal-replay";
import type { WalFileSystem } from "@lora/wal-segment";
import type { HealAction } from "./recover-dir.js";
import type { SyncMode, SyncModeInput } from "./sync-mode.js";
import type { BlockingSyncInput } from "./sync-placement.js";
import type { Wal } from "./wal.js";

/** How far ahead of its records a durable handle zero-fills the active segment by default (`preallocateBytes`). */
export const DEFAULT_PREALLOCATE_BYTES = 1 << 20;

/** LoraDB's default segment size. */
export const DEFAULT_SEGMENT_TARGET_BYTES = 8 * 1024 * 1024;

/** Options of {@link Wal.open}. `E` is the event type the codec reads and writes. */
export interface WalOptions<E> {
  /** Payload codec. @default loraCodec (LoraDB's LW1 mutation events) */
  readonly codec?: PayloadCodec<E>;
  /** When `commitTx` resolves and who fsyncs (see {@link SyncMode}). @default "perCommit" */
  readonly syncMode?: SyncModeInput;
  /** Rotate to a new segment at a transaction boundary once the active one holds this many bytes. @default 8 MiB */
  readonly segmentTargetBytes?: number;
  /**
   * The fence: records at or below it are already in the caller's snapshot and are not replayed. It must be a
   * transaction boundary and at or above the oldest retained record's predecessor: otherwise the open fails with
   * `WAL_FENCE_IN_TRANSACTION` or `WAL_FENCE_TOO_LOW`, whose `details.usableFence` names a fence that works. Open
   * never drops history silently. @default 0
   */
  readonly checkpointLsn?: number;
  /**
   * Open even when the fence is below the oldest segment (older records were truncated away): replay what the log
   * still holds. The explicit opt-in for a caller that knows its snapshot predates the retained log and accepts the
   * gap; `OpenResult.replay.oldestFence` says where the log starts. @default false
   */
  readonly allowTruncatedHistory?: boolean;
  /**
   * Where the open's replay starts reading. `"oldest"` reads every retained segment, so the recovery rules judge
   * damage anywhere in the log. `"fence"` starts at the segment holding `checkpointLsn + 1` (a binary search over
   * segment headers): an open from a snapshot then costs what it replays, not what the log retains (segments kept
   * below the fence for a replication slot or an archive). The fence rules hold as with `"oldest"`
   * (`WAL_FENCE_IN_TRANSACTION`, `WAL_FENCE_TOO_LOW`), and the torn tail is cut as always; what is not done is
   * reading the segments below that one, so damage in them (records the snapshot already holds) is not seen,
   * and `replay` reports on the segments read. `lora-wal verify` checks the whole log. @default "oldest"
   */
  readonly scanFrom?: ScanFrom;
  /** What to do with damage found at open (see `RecoveryMode`). @default "tolerate-torn-tail" */
  readonly recovery?: RecoveryMode;
  /**
   * Streaming open: each committed transaction is handed here (awaited) instead of being collected into
   * `events`, so memory is bounded by the largest transaction.
   */
  readonly onTransaction?: (tx: ReplayedTransaction<E>) => void | Promise<void>;
  /**
   * Progress of the open's replay, as `replayDir` reports it: bytes and records read of the retained log's size
   * when the open began (from the segment it starts at, see `scanFrom`), at most once per MiB read and once at the
   * end. A callback that throws fails the open (the lock is released).
   */
  readonly onProgress?: (progress: ReplayProgress) => void;
  /** The file-system seam. @default the Node file system (with the LoraDB-compatible `flock` lock) */
  readonly fs?: WalFileSystem;
  /**
   * How long to retry a contended directory lock, in ms, from 0 (one attempt) to 2^31 - 1; `Infinity` is refused
   * (`WAL_INVALID_OPTION`). @default 100
   */
  readonly lockRetryMs?: number;
  /**
   * The unsynced window: the most bytes the handle leaves written but not fdatasynced, in every sync mode (a sync is
   * forced before a write would exceed it). Recovery takes damage within the last window of the newest segment for
   * a torn write, so a power loss at any moment opens by default; damage further back is corruption. Open a log
   * with the window it was written with (LoraDB's engine does not fsync per commit: after a power loss under
   * it, its 8 MiB segment size). At least 4096. @default 1 MiB (UNSYNCED_WINDOW_BYTES)
   */
  readonly unsyncedWindowBytes?: number;
  /**
   * Zero-fill the active segment this many bytes ahead of its records (0: never), as PostgreSQL does with its WAL
   * segments. A write into a zero-filled part of the file leaves no file size for its fdatasync to commit, which on
   * ext4 and XFS saves the device a request per sync; the fill itself is one write of this size per this many bytes
   * of records, and a write of half this size or more (buffered appends spilling) lengthens the file itself, with no
   * fill behind it. The zeros are the end of the log to every reader (this library's, and LoraDB's, which cuts them
   * off); sealing a segment and a clean close cut them off first. At most 1 GiB (`MAX_PREALLOCATE_BYTES`: one fill
   * is one write), and no further than `segmentTargetBytes`. @default 1 MiB in `perCommit` and `group` mode,
   * 0 in `none` mode (no fdatasync to spare)
   */
  readonly preallocateBytes?: number;
  /**
   * Where a sync round's fdatasync runs. Durability is the same either way — `perCommit` still resolves only after
   * an fdatasync that began after the commit's bytes were written, and concurrent commits still share a round:
   * - `true`: always as a blocking call on the event-loop thread, which stalls the loop for the fsync's duration
   *   (tens of microseconds on an SSD's cache, milliseconds on a disk) and saves libuv's thread-pool round trip;
   * - `false`: always on the thread pool;
   * - `"auto"`: blocking while fsyncs are quick. A round blocks only if the previous round took at most 1 ms
   *   (`AUTO_BLOCKING_LIMIT_MS`); a slower one sends the next round to the thread pool, and a thread-pool round
   *   seen complete within 1 ms (the hop and any wait for a busy event loop included) brings blocking back. So a
   *   disk whose every fsync is slow, or a busy event loop, keeps syncs on the pool; a disk whose fsyncs vary
   *   alternates. The longest stall auto causes is one round that turned slow (its write and its fsync).
   *
   * Blocking rounds run from the event loop's check phase, so a loop of awaited commits still lets I/O and timers
   * run between rounds. On a 2-core VM one awaiting `perCommit` writer committed ~1.35× faster by default than
   * with `false`, 64 concurrent writers ~1.25× (apps/bench). Pass `false` in a server that must never stall on an fsync.
   * The thread pool is used when the file-system seam has no `datasyncSync`. @default "auto"
   */
  readonly blockingSync?: BlockingSyncInput;
  /**
   * The most log bytes a replication slot may hold back from `truncateUpTo` (the segments the fence alone would
   * delete but the slot still needs). A slot past it is invalidated (its consumer gets `WAL_SLOT_INVALIDATED`) and
   * the segments are deleted, rather than the disk filling behind a stalled consumer; PostgreSQL's
   * `max_slot_wal_keep_size`. @default Infinity (a slot holds back everything it needs)
   */
  readonly maxSlotRetainedBytes?: number;
  /**
   * Publish the durable LSN in the directory's durable mark (`.lora-wal.durable`, one write of at most 76 bytes
   * after each fsync, never fsynced itself) so followers in other processes deliver only durable commits without
   * syncing themselves. LoraDB ignores the file. @default true
   */
  readonly publishDurableLsn?: boolean;
}

/** Every option `Wal.open` reads; any other name is refused (`WAL_INVALID_OPTION`). */
export const WAL_OPTION_NAMES = optionNames<WalOptions<unknown>>()(
  "codec",
  "syncMode",
  "segmentTargetBytes",
  "checkpointLsn",
  "allowTruncatedHistory",
  "scanFrom",
  "recovery",
  "onTransaction",
  "onProgress",
  "fs",
  "lockRetryMs",
  "unsyncedWindowBytes",
  "preallocateBytes",
  "blockingSync",
  "maxSlotRetainedBytes",
  "publishDurableLsn",
);

/** Options of {@link Wal.follow}. */
export interface WalFollowOptions {
  /**
   * The resume token's commit LSN: deliver transactions committed above it (and, without `restartLsn`, begun above
   * it). @default 0
   */
  readonly after?: number;
  /**
   * The resume token's restart point (a delivered transaction's `restartLsn`, with its `commitLsn` as `after`):
   * transactions begun at or above it and committed above `after` are delivered, so one that straddled the token is
   * delivered whole. Between 1 and `after + 1`. @default after + 1
   */
  readonly restartLsn?: number;
  /** `durable` (default): once an fdatasync covers it; `written`: once it is in the file. */
  readonly durability?: "durable" | "written";
  /** Ends the iteration (done, not an error). */
  readonly signal?: AbortSignal;
}

/** Every option `wal.follow` reads; any other name is refused (`WAL_INVALID_OPTION`). */
export const WAL_FOLLOW_OPTION_NAMES = optionNames<WalFollowOptions>()("after", "restartLsn", "durability", "signal");

/** What {@link Wal.open} resolves to: the handle and everything recovery found. */
export interface OpenResult<E> {
  /** The open handle; it holds the directory lock until `close()`. */
  readonly wal: Wal<E>;
  /** Committed events in commit order (empty with `onTransaction`). Apply them before writing. */
  readonly events: E[];
  /** Everything replay found (null for a new directory). */
  readonly replay: ReplayOutcome | null;
  /** The torn tail that was cut, if any. */
  readonly tornTail: ReplayOutcome["tornTail"];
  /** The newest checkpoint marker above the fence, if any (informational). */
  readonly checkpointLsnObserved: number | null;
  /** Repairs recovery made (cut tails, healed rotations), each with where the cut bytes were kept. */
  readonly healed: readonly HealAction[];
}

/** What {@link Wal.checkpoint} did. */
export interface CheckpointInfo {
  /** LSN of the checkpoint marker written. */
  readonly markerLsn: number;
  /** The snapshot LSN the marker records (and the fence segments were truncated up to). */
  readonly snapshotLsn: number;
  /** How many sealed segments were deleted. */
  readonly removedSegments: number;
}

/** What `commitTx` wrote. */
export interface CommitInfo {
  /** LSN of the `TxBegin` record: the transaction's name in the log. */
  readonly beginLsn: number;
  /** LSN of the `TxCommit` record (`beginLsn + 2`). */
  readonly commitLsn: number;
}
