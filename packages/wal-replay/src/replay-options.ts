/**
 * The checks a replay's options pass before anything is read: every bad option is a `WAL_INVALID_OPTION` thrown by
 * `replayDir`/`replaySegments` themselves, not by the first step of iteration.
 */

import { checkPayloadCodec, checkSignal, optionOr, shownValue, WalError } from "@lora/wal-codec";
import { readSizeOf } from "@lora/wal-segment";
import { RECOVERY_MODES, type RecoveryMode, type ReplayOptions, SCAN_FROM } from "./replay-types.js";
import { isRestartFor } from "./resume-token.js";

/**
 * Check `options` and return the recovery mode they ask for (`tolerate-torn-tail` when none).
 * @throws {@link WalError} `WAL_INVALID_OPTION` for a `codec` that is not a PayloadCodec, an unknown recovery mode,
 *   an LSN option that is not a non-negative safe integer, `upto` and `uptoLsn` that disagree, an unknown `scanFrom`,
 *   an `onProgress` that is not a function, a negative or fractional `unsyncedWindowBytes`, a `durableMarkDir` that
 *   is not a path, a `chunkBytes` that is not an integer of at least 1, an `allowTruncatedHistory` that is not a
 *   boolean, or a `signal` that is not an AbortSignal.
 */
export function checkReplayOptions<E>(options: ReplayOptions<E>): RecoveryMode {
  checkPayloadCodec(options.codec, "read");
  const mode = checkRecoveryMode(options.recovery);
  checkLsnOption("checkpointLsn", options.checkpointLsn);
  checkLsnOption("after", options.after);
  checkRestartLsn(options.after, options.restartLsn);
  checkLsnOption("upto", options.upto);
  checkLsnOption("uptoLsn", options.uptoLsn);
  if (options.upto !== undefined && options.uptoLsn !== undefined && options.upto !== options.uptoLsn) {
    throw new WalError("WAL_INVALID_OPTION", `upto ${options.upto} and uptoLsn ${options.uptoLsn} disagree`);
  }
  if (options.scanFrom !== undefined && !SCAN_FROM.includes(options.scanFrom)) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `scanFrom must be "oldest" or "fence", got ${shownValue(options.scanFrom)}`,
    );
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new WalError("WAL_INVALID_OPTION", "onProgress must be a function");
  }
  const window = options.unsyncedWindowBytes;
  if (window !== undefined && (!Number.isSafeInteger(window) || window < 0)) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `unsyncedWindowBytes must be a non-negative integer, got ${shownValue(window)}`,
    );
  }
  const markDir = options.durableMarkDir;
  if (markDir !== undefined && (typeof markDir !== "string" || markDir === "" || markDir.includes("\0"))) {
    throw new WalError("WAL_INVALID_OPTION", `durableMarkDir must be a directory path, got ${shownValue(markDir)}`);
  }
  readSizeOf(options.chunkBytes);
  // Only `true` reads across truncated history: any other value taken as "yes" would skip the fence check silently.
  const truncated = options.allowTruncatedHistory;
  if (truncated !== undefined && typeof truncated !== "boolean") {
    throw new WalError("WAL_INVALID_OPTION", `allowTruncatedHistory must be a boolean, got ${shownValue(truncated)}`);
  }
  checkSignal(options.signal);
  return mode;
}

/**
 * The recovery mode `recovery` asks for, `tolerate-torn-tail` when it is `undefined`: the one check of the
 * `recovery` option, for `replayDir`, `replaySegments` and `Wal.open` alike.
 * @throws {@link WalError} `WAL_INVALID_OPTION` (`details.option`: `"recovery"`) for anything but a
 *   {@link RecoveryMode}, naming every mode.
 */
export function checkRecoveryMode(recovery: unknown): RecoveryMode {
  const mode = optionOr(recovery, "tolerate-torn-tail");
  if (!(RECOVERY_MODES as readonly unknown[]).includes(mode)) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `unknown recovery mode ${shownValue(mode)}: recovery is "tolerate-torn-tail", "absolute" or "point-in-time"`,
      { details: { option: "recovery" } },
    );
  }
  return mode as RecoveryMode;
}

/**
 * A resume token's `restartLsn`: given only with `after`, at least 1 and at most `after + 1` (a token never restarts
 * above what its commit LSN already covers).
 * @throws {@link WalError} `WAL_INVALID_OPTION`.
 */
export function checkRestartLsn(after: number | undefined, restartLsn: number | undefined): void {
  if (restartLsn === undefined) return;
  checkLsnOption("restartLsn", restartLsn);
  if (after === undefined) throw new WalError("WAL_INVALID_OPTION", "restartLsn needs after (the token's commit LSN)");
  if (!isRestartFor(after, restartLsn)) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `restartLsn must lie between 1 and after + 1 (${after + 1}), got ${restartLsn}: pass the restartLsn and commitLsn of one delivered transaction`,
    );
  }
}

/** A non-negative safe integer option, or `WAL_INVALID_OPTION`. */
function checkLsnOption(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new WalError("WAL_INVALID_OPTION", `${name} must be a non-negative safe integer, got ${shownValue(value)}`);
  }
}
