/**
 * The `lora-wal` commands (inspect, verify, dump, stat) as functions that return data, and `main` to run the CLI
 * in-process. Read-only.
 *
 * @packageDocumentation
 * @module @lora/wal-cli
 */

export { type CliIo, UsageError } from "./cli-context.js";
export {
  type DumpDamage,
  type DumpedRecord,
  type DumpItem,
  type DumpOptions,
  dumpedRecordToJson,
  dumpRecords,
  RECORD_KINDS,
} from "./commands/dump.js";
export { type InspectReport, inspectDir, type LockState, type SegmentReport } from "./commands/inspect.js";
export { type Spread, type StatReport, statDir } from "./commands/stat.js";
export { type VerifyReport, verifyDir } from "./commands/verify.js";
export { ExitCode, type ExitCodeValue } from "./exit-codes.js";
export { eventText, loraEventText, valueText } from "./format/event-text.js";
export { eventToJson, type JsonOut, valueToJson } from "./format/exact-json.js";
export type { TextStream } from "./format/terminal.js";
export { main } from "./main.js";
export type { CodecName, ReadOptions } from "./read-options.js";
export type { SegmentDamage } from "./scan/scan-segments.js";
export type { Verdict } from "./verdict.js";
