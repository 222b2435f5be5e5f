/**
 * Streaming replay of a write-ahead log directory: committed transactions in commit order, a torn tail told apart
 * from corruption.
 *
 * @packageDocumentation
 * @module @lora/wal-replay
 */

export { isWalError, WalError, type WalErrorCode, type WalErrorDetails } from "@lora/wal-codec";
export { POINT_IN_TIME_REMEDY, RESTORE_REMEDY } from "./damage-remedy.js";
export {
  classifyHeaderFailure,
  classifyRecordDamage,
  type DamageKind,
  describeCorruption,
  describeHeaderless,
  describeTornTail,
  type HeaderDamage,
  PayloadEvidence,
  type RecordDamage,
  type RecordDamageInput,
  type WalkedSegment,
} from "./damage-rules.js";
export { checkedDurableBinding, DurableBindingCheck, durableBindingReadsBack } from "./durable-binding.js";
export { type CoveredHole, judgeSegmentIdHoles, type SegmentIdHoleJudgement } from "./hole-cover.js";
export { lookAgainAtNewest, type NewestSegmentLook } from "./newest-segment-look.js";
export { type ReadCommittedOptions, readCommitted } from "./read-committed.js";
export { type Replay, replayDir, replaySegments } from "./replay.js";
export { checkRecoveryMode } from "./replay-options.js";
export type {
  CommittedTransaction,
  CorruptionInfo,
  RecoveryMode,
  ReplayedTransaction,
  ReplayOptions,
  ReplayOutcome,
  ReplayProgress,
  ScanFrom,
  SegmentSummary,
  TornTailInfo,
} from "./replay-types.js";
export { RECOVERY_MODES, SCAN_FROM } from "./replay-types.js";
export {
  type HoleSide,
  holeRunText,
  missingIds,
  type SegmentIdHole,
  segmentIdHoles,
  segmentIdHolesText,
} from "./segment-id-holes.js";
export { canRestartFrom, type OldestRetainedLsnOptions, oldestRetainedLsn } from "./segment-locate.js";
export { TransactionSpans } from "./transaction-spans.js";

// Replication slots and the retention decision of truncation.

export {
  CommitFollower,
  type CommitFollowerOptions,
  type FollowDurability,
  type FollowMemory,
  type FollowSource,
} from "./commit-follower.js";
export { CONFIRMABLE_TOKENS, type FollowDirOptions, type Follower, followDir, type ResumeToken } from "./follow-dir.js";
export {
  type AdvanceSlotOptions,
  advanceSlot,
  type CreateSlotOptions,
  createSlot,
  dropSlot,
  type InvalidateSlotOptions,
  invalidateSlot,
  isSlotName,
  listSlotNames,
  listSlots,
  MAX_SLOT_REASON_BYTES,
  readSlot,
  SLOT_FILE_BYTES,
  SLOT_FILE_MAGIC,
  SLOT_MARKER_MAGIC,
  SLOTS_DIR_NAME,
  type SlotInvalidation,
  type SlotOptions,
  type SlotState,
} from "./replication-slots.js";
export {
  planRetention,
  type RetentionInput,
  type RetentionInvalidation,
  type RetentionPlan,
  type RetentionSegment,
} from "./retention-plan.js";
