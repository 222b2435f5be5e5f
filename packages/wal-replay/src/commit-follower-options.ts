/**
 * The checks of the engine's own options, for callers that build a `CommitFollower` on a source of their own: the
 * values TypeScript cannot stop (read from settings, JavaScript callers) that would otherwise make it misbehave
 * quietly (an `after` of NaN delivering nothing, a `durability` of "Durable" delivering unsynced bytes, a
 * `rememberTokens` of 2.5 throwing a RangeError from a typed array).
 */

import { shownValue, WalError } from "@lora/wal-codec";
import { checkRestartLsn } from "./replay-options.js";

/** The most tokens a follower remembers: 16 bytes each, so 16 MiB. */
export const MAX_REMEMBERED_TOKENS = 1 << 20;

/**
 * Check `after`, `restartLsn`, `durability` and `rememberTokens`.
 * @throws {@link WalError} `WAL_INVALID_OPTION` naming the option and the value given.
 */
export function checkCommitFollowerOptions(options: {
  readonly after: unknown;
  readonly restartLsn?: unknown;
  readonly durability: unknown;
  readonly rememberTokens?: unknown;
}): void {
  const { after, durability, rememberTokens } = options;
  if (typeof after !== "number" || !Number.isSafeInteger(after) || after < 0) {
    throw new WalError("WAL_INVALID_OPTION", `after must be a non-negative safe integer, got ${shownValue(after)}`);
  }
  checkRestartLsn(after, options.restartLsn as number | undefined);
  if (durability !== "durable" && durability !== "written") {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `durability must be "durable" or "written", got ${shownValue(durability)}`,
    );
  }
  if (
    rememberTokens !== undefined &&
    (typeof rememberTokens !== "number" ||
      !Number.isSafeInteger(rememberTokens) ||
      rememberTokens < 0 ||
      rememberTokens > MAX_REMEMBERED_TOKENS)
  ) {
    throw new WalError(
      "WAL_INVALID_OPTION",
      `rememberTokens must be an integer from 0 to ${MAX_REMEMBERED_TOKENS}, got ${shownValue(rememberTokens)}`,
    );
  }
}
