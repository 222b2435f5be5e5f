export { isWalError, WalError, type WalErrorCode, type WalErrorDetails } from "@lora/wal-codec";
export { type Replay, replayDir, replaySegments } from "./replay.js";
export type {
  CorruptionInfo,
  RecoveryMode,
  ReplayedTransaction,
  ReplayOptions,
  ReplayOutcome,
  SegmentSummary,
  TornTailInfo,
} from "./replay-types.js";
