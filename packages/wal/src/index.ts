/**
 * The write-ahead log handle: directory lock, sync modes with group commit, rotation, checkpoints and truncation,
 * poisoning on the first failed write or fsync.
 *
 * @packageDocumentation
 * @module @lora/wal
 */

export {
  bytesCodec,
  declareFreshBatches,
  isWalError,
  type JsonValue,
  jsonCodec,
  type PayloadCodec,
  WalError,
  type WalErrorCode,
  type WalErrorDetails,
} from "@lora/wal-codec";
export { loraCodec, type MutationEvent } from "@lora/wal-codec/lora";
export { acquireDirLock, type DirLock, LOCK_FILE_NAME, probeDirLock } from "@lora/wal-lock";
export type {
  CommittedTransaction,
  RecoveryMode,
  ReplayedTransaction,
  ReplayOutcome,
  ReplayProgress,
  ScanFrom,
  TornTailInfo,
} from "@lora/wal-replay";
// The change feed and replication slots, re-exported so a store author needs one import.
export {
  type AdvanceSlotOptions,
  advanceSlot,
  createSlot,
  dropSlot,
  type FollowDirOptions,
  type Follower,
  followDir,
  listSlots,
  oldestRetainedLsn,
  type ReadCommittedOptions,
  readCommitted,
  readSlot,
  type SlotState,
} from "@lora/wal-replay";
export type { WalFileSystem } from "@lora/wal-segment";
export {
  WAL_CHANNELS,
  type WalCommitMessage,
  type WalPoisonMessage,
  type WalRecoverMessage,
  type WalRotateMessage,
  type WalSyncMessage,
  type WalTruncateMessage,
} from "./diagnostics.js";
export type { WalFollower } from "./in-process-follow.js";
export { type IoStats, type LatencyHistogram, SYNC_LATENCY_BUCKETS_MS } from "./io-stats.js";
export type { HealAction } from "./recover-dir.js";
export type { LifecycleEvent, LifecycleListener, SegmentInfo } from "./segment-lifecycle.js";
export { DEFAULT_GROUP_INTERVAL_MS, type SyncMode, type SyncModeInput } from "./sync-mode.js";
export { AUTO_BLOCKING_LIMIT_MS, type BlockingSyncInput } from "./sync-placement.js";
export {
  type CheckpointInfo,
  type CommitInfo,
  DEFAULT_PREALLOCATE_BYTES,
  DEFAULT_SEGMENT_TARGET_BYTES,
  type OpenResult,
  Wal,
  type WalFollowOptions,
  type WalOptions,
} from "./wal.js";
