/**
 * The `lora-wal` commands (inspect, verify, dump, stat, slots, archive ls|verify) as functions that return data, and
 * `main` to run the CLI in-process. Read-only on the log (`slots create|drop` and `follow --slot` write in its
 * `slots/` only) and on the archive; `restore` writes the new log directory only.
 *
 * @packageDocumentation
 * @module @lora/wal-cli
 */

export { type CliIo, UsageError } from "./cli-context.js";
export {
  type ArchiveCheckReport,
  type ArchiveListing,
  checkArchive,
  describeArchive,
  type ListedObject,
  type ListedPiece,
  type ListedSegment,
} from "./commands/archive.js";
export {
  type DumpDamage,
  type DumpedRecord,
  type DumpItem,
  type DumpOptions,
  dumpedRecordToJson,
  dumpRecords,
  eventsToJson,
  eventTextLines,
  NotABeginLsnError,
  RECORD_KINDS,
} from "./commands/dump.js";
export { FOLLOW_POLL_MS, followedTransactionToJson } from "./commands/follow.js";
export {
  type BrokenFile,
  type InspectReport,
  inspectDir,
  type LockState,
  type SegmentReport,
} from "./commands/inspect.js";
export type { RestoreSummary } from "./commands/restore.js";
export { describeSlots, type SlotDamageEntry, type SlotReport, type SlotReportEntry } from "./commands/slots.js";
export { type Spread, type StatReport, statDir } from "./commands/stat.js";
export { type VerifyOptions, type VerifyReport, verifyDir } from "./commands/verify.js";
export { ExitCode, type ExitCodeValue, exitCodeForError } from "./exit-codes.js";
export { eventText, loraEventText, valueText } from "./format/event-text.js";
export { eventToJson, type JsonOut, valueToJson } from "./format/exact-json.js";
export type { TransferProgress } from "./format/progress-bar.js";
export type { TextStream } from "./format/terminal.js";
export { main } from "./main.js";
export type { CodecChoice, CodecName, CodecUse, ReadOptions } from "./read-options.js";
export type { SegmentDamage, SegmentScan } from "./scan/scan-segments.js";
export type { TruncationGap } from "./scan/truncation-gap.js";
export type { Verdict } from "./verdict.js";
