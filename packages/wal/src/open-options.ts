/**
 * The validation of `Wal.open`'s options: every option checked and defaulted before the open touches the disk.
 */

import {
  checkOptionNames,
  checkPayloadCodec,
  optionOr,
  type PayloadCodec,
  shownValue,
  WalError,
} from "@lora/wal-codec";
import { loraCodec } from "@lora/wal-codec/lora";
import { checkRetryBudgetMs } from "@lora/wal-lock";
import type { ReplayedTransaction, ReplayProgress } from "@lora/wal-replay";
import { checkRecoveryMode, type RecoveryMode, SCAN_FROM, type ScanFrom } from "@lora/wal-replay";
import { fileSystemOption, MAX_PREALLOCATE_BYTES, UNSYNCED_WINDOW_BYTES, type WalFileSystem } from "@lora/wal-segment";
import { normalizeSyncMode, type SyncMode } from "./sync-mode.js";
import type { BlockingSyncInput } from "./sync-placement.js";
import { type Failpoint, noFailpoint, type PlantedBug, testingHooksOf, type WalTestingClock } from "./testing-hooks.js";
import {
  DEFAULT_PREALLOCATE_BYTES,
  DEFAULT_SEGMENT_TARGET_BYTES,
  WAL_OPTION_NAMES,
  type WalOptions,
} from "./wal-options.js";

/**
 * `Wal.open`'s options, checked, with every default applied: what the open uses in place of the caller's options,
 * each of which was read once.
 */
export interface OpenOptions<E> {
  readonly codec: PayloadCodec<E>;
  readonly syncMode: SyncMode;
  /** `segmentTargetBytes`. */
  readonly target: number;
  /** `checkpointLsn`. */
  readonly fence: number;
  readonly recovery: RecoveryMode;
  readonly allowTruncatedHistory: boolean;
  readonly scanFrom: ScanFrom;
  readonly blockingSync: BlockingSyncInput;
  readonly unsyncedWindowBytes: number;
  readonly preallocateBytes: number;
  readonly maxSlotRetainedBytes: number;
  readonly publishDurableLsn: boolean;
  readonly fs: WalFileSystem;
  readonly failpoint: Failpoint;
  readonly bugs: ReadonlySet<PlantedBug>;
  /** A test's clock (testing builds only, see `WalTestingClock`); Node's timers when undefined. */
  readonly clock: WalTestingClock | undefined;
  /** The lock's retry budget; the lock's default when undefined. */
  readonly lockRetryMs: number | undefined;
  readonly onTransaction: ((tx: ReplayedTransaction<E>) => void | Promise<void>) | undefined;
  readonly onProgress: ((progress: ReplayProgress) => void) | undefined;
}

/**
 * Check `Wal.open`'s options and apply their defaults.
 * @throws {@link WalError} `WAL_INVALID_OPTION` for the first option that is not valid.
 */
export function normalizeOpenOptions<E>(given: WalOptions<E>): OpenOptions<E> {
  // Each option read once, here: what is checked below is what the open uses.
  const options = checkOptionNames(given, WAL_OPTION_NAMES, "Wal.open");
  const codec = optionOr<unknown>(options.codec, loraCodec) as PayloadCodec<E>;
  checkPayloadCodec(codec);
  const syncMode = normalizeSyncMode(options.syncMode);
  const target = optionOr(options.segmentTargetBytes, DEFAULT_SEGMENT_TARGET_BYTES);
  if (!Number.isSafeInteger(target) || target < 1) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `segmentTargetBytes must be a positive integer, got ${shownValue(target)}`,
    );
  }
  const fence = optionOr(options.checkpointLsn, 0);
  // The log resumes at the fence + 1, which must be a safe integer: a fence at the last one could only fail later,
  // after the directory was created.
  if (!Number.isSafeInteger(fence) || fence < 0 || fence >= Number.MAX_SAFE_INTEGER) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `checkpointLsn must be an integer from 0 to ${Number.MAX_SAFE_INTEGER - 1}, got ${shownValue(fence)}`,
    );
  }
  const recovery = checkRecoveryMode(options.recovery);
  if (options.onTransaction !== undefined && typeof options.onTransaction !== "function") {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `onTransaction must be a function, got ${shownValue(options.onTransaction)}`,
    );
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new WalError("WAL_INVALID_OPTION", `onProgress must be a function, got ${shownValue(options.onProgress)}`);
  }
  const allowTruncatedHistory = optionOr(options.allowTruncatedHistory, false);
  if (typeof allowTruncatedHistory !== "boolean") {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `allowTruncatedHistory must be a boolean, got ${shownValue(allowTruncatedHistory)}`,
    );
  }
  const scanFrom = optionOr(options.scanFrom, "oldest");
  if (!SCAN_FROM.includes(scanFrom)) {
    throw new WalError("WAL_INVALID_OPTION", `scanFrom must be "oldest" or "fence", got ${shownValue(scanFrom)}`);
  }
  const blockingSync = optionOr(options.blockingSync, "auto");
  if (typeof blockingSync !== "boolean" && blockingSync !== "auto") {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `blockingSync must be a boolean or "auto", got ${shownValue(blockingSync)}`,
    );
  }
  const unsyncedWindowBytes = optionOr(options.unsyncedWindowBytes, UNSYNCED_WINDOW_BYTES);
  if (!Number.isSafeInteger(unsyncedWindowBytes) || unsyncedWindowBytes < 4096) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `unsyncedWindowBytes must be an integer >= 4096, got ${shownValue(unsyncedWindowBytes)}`,
    );
  }
  const preallocate = optionOr(options.preallocateBytes, syncMode.mode === "none" ? 0 : DEFAULT_PREALLOCATE_BYTES);
  // Above the most one fill can write it is refused whatever the segment target: clamped to a large target it
  // would be accepted, then fail every commit (WAL_IO, or a RangeError allocating the zeros).
  if (!Number.isSafeInteger(preallocate) || preallocate < 0 || preallocate > MAX_PREALLOCATE_BYTES) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `preallocateBytes must be an integer from 0 to ${MAX_PREALLOCATE_BYTES}, got ${shownValue(preallocate)}`,
    );
  }
  // Zeros further ahead than a whole segment would only be cut off again when it is sealed.
  const preallocateBytes = Math.min(preallocate, target);
  const maxSlotRetainedBytes = optionOr(options.maxSlotRetainedBytes, Number.POSITIVE_INFINITY);
  if (typeof maxSlotRetainedBytes !== "number" || Number.isNaN(maxSlotRetainedBytes) || maxSlotRetainedBytes < 0) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `maxSlotRetainedBytes must be a non-negative number (or Infinity), got ${shownValue(maxSlotRetainedBytes)}`,
    );
  }
  const lockRetryMs = options.lockRetryMs;
  // Checked here, before `Wal.open` creates the directory: the lock would refuse it only after (and a custom file
  // system's lock not at all).
  if (lockRetryMs !== undefined) checkRetryBudgetMs(lockRetryMs, "lockRetryMs");
  const publishDurableLsn = optionOr(options.publishDurableLsn, true);
  if (typeof publishDurableLsn !== "boolean") {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `publishDurableLsn must be a boolean, got ${shownValue(publishDurableLsn)}`,
    );
  }
  const fs = fileSystemOption(options.fs, "Wal.open");
  // The testing hooks sit under a symbol key, which the copy leaves out.
  const hooks = testingHooksOf(given);
  const failpoint = hooks.failpoint ?? noFailpoint;
  const bugs = new Set(hooks.plantedBugs ?? []);
  const clock = hooks.clock;
  return {
    codec,
    syncMode,
    target,
    fence,
    recovery,
    allowTruncatedHistory,
    scanFrom,
    blockingSync,
    unsyncedWindowBytes,
    preallocateBytes,
    maxSlotRetainedBytes,
    publishDurableLsn,
    fs,
    failpoint,
    bugs,
    clock,
    lockRetryMs,
    onTransaction: options.onTransaction,
    onProgress: options.onProgress,
  };
}
