/**
 * Streaming replay: a forward sweep over the segments in id order that hands committed transactions over in commit
 * order while holding only the transactions still open. Damage ends the sweep and is classified by the shared
 * damage rules (`damage-rules.ts`, the same the `lora-wal` commands use): a headerless newest segment, a bad header,
 * a codec mismatch (`WAL_CODEC_MISMATCH`, thrown in every mode), a torn tail, or corruption. Corruption is never
 * reported as a tail.
 *
 * The recovery mode says what is thrown and what is only reported (see {@link RecoveryMode}).
 */

import {
  checkOptionNames,
  checkPath,
  copyOfArray,
  MAX_ARRAY_ARGUMENT_LENGTH,
  optionOr,
  readCallerValue,
  WalError,
} from "@lora/wal-codec";
import { fileSystemOption, type WalFileSystem } from "@lora/wal-segment";
import { acrossCoveredHole } from "./hole-cover.js";
import { checkReplayOptions } from "./replay-options.js";
import { type OutcomeSettle, pendingOutcome } from "./replay-outcome.js";
import { planDir, planSegments, type ReplayPlan } from "./replay-plan.js";
import {
  REPLAY_OPTION_NAMES,
  type RecoveryMode,
  type ReplayedTransaction,
  type ReplayOptions,
  type ReplayOutcome,
} from "./replay-types.js";
import { ReplayWalk } from "./replay-walk.js";
import { mapTransactionSpans } from "./transaction-span-map.js";

/** A replay in progress: iterate it for the transactions, then ask for the outcome. */
export interface Replay<E> extends AsyncIterable<ReplayedTransaction<E>> {
  /**
   * What the replay found. Resolves once iteration ends; if nobody iterates, calling it drains the replay (the
   * transactions are dropped), which is how a read-only check is done. Rejects with the error iteration threw.
   */
  outcome(): Promise<ReplayOutcome>;
}

/**
 * Replay the segments of `dir` (see the module comment for the rules): all of them, or with `after`/`upto` the LSN
 * range `readCommitted` reads, starting at the segment holding `after + 1` (a binary search over headers) and never
 * decoding a record above `upto`. With `scanFrom: "fence"` the walk starts at the segment holding the fence + 1.
 * @throws (from iteration) {@link WalError} `WAL_IO` (missing directory, unreadable file; an I/O error is never
 *   taken for the end of the log), `WAL_BAD_HEADER`, `WAL_MALFORMED`, `WAL_CORRUPT`, and `WAL_TORN_TAIL` in
 *   `absolute` mode; `WAL_CODEC_MISMATCH` in every mode; `WAL_TRUNCATED` when the log no longer holds `after + 1`
 *   (without `allowTruncatedHistory`; when it is the only LSN missing, only at a record of a transaction begun
 *   there). A hole in the segment ids that a checkpoint marker after it covers is read as a log truncated up to
 *   the segment after it: below it, `WAL_FENCE_TOO_LOW` (no `after`) or `WAL_TRUNCATED` (with `after`), before
 *   anything is handed over, unless `allowTruncatedHistory`; a hole no marker covers is `WAL_CORRUPT` where the walk
 *   meets it. At once: `WAL_INVALID_ARGUMENT` for a `dir` that is not a non-empty string,
 *   `WAL_INVALID_OPTION` for bad options.
 */
export function replayDir<E>(dir: string, given: ReplayOptions<E>): Replay<E> {
  checkPath(dir);
  // Each option read once: what is checked is what the replay uses.
  const options = checkOptionNames(given, REPLAY_OPTION_NAMES, "replayDir");
  const fs = fileSystemOption(options.fs, "replayDir");
  // Before seekPoint's arithmetic on after and restartLsn: a bigint or an object there would throw a TypeError.
  checkReplayOptions(options);
  const seek = seekPoint(options);
  // A hole in the segment ids that a checkpoint covers: the log is whole from the segment after it, as once that
  // interrupted truncation finishes, and a fence below the hole is judged against that (never WAL_CORRUPT).
  const fence = optionOr(options.checkpointLsn, 0);
  // A fence error names a fence that works, mapped over the whole log: the segments a seek skipped hold the
  // begins of the transactions that span it.
  const whole = seek === undefined ? undefined : acrossCoveredHole(planDir(fs, dir, undefined), fs, fence);
  return new ReplayRun(acrossCoveredHole(planDir(fs, dir, seek), fs, fence), fs, options, whole);
}

/**
 * The LSN whose successor's segment a directory walk starts at: `after` when given (its rules for transactions
 * begun before the walk apply then), else the fence with `scanFrom: "fence"`, else none (the oldest segment).
 */
function seekPoint<E>(options: ReplayOptions<E>): number | undefined {
  if (options.after !== undefined) return optionOr(options.restartLsn, options.after + 1) - 1;
  return options.scanFrom === "fence" ? optionOr(options.checkpointLsn, 0) : undefined;
}

/**
 * Replay explicit segment files, in the order given (the first is treated as the oldest). `after` filters the
 * transactions handed over but seeks nothing: the caller chose the files.
 * @throws {@link WalError} `WAL_INVALID_ARGUMENT` unless `paths` is an array of at most `MAX_ARRAY_ARGUMENT_LENGTH`
 *   (2^24) segment paths, each a non-empty string without a NUL (its length and elements are read once, and a
 *   longer array is refused before any element is read); `WAL_INVALID_OPTION` for the options.
 */
export function replaySegments<E>(paths: readonly string[], given: ReplayOptions<E>): Replay<E> {
  const options = checkOptionNames(given, REPLAY_OPTION_NAMES, "replaySegments");
  const read = readCallerValue(
    () => copyOfArray(paths, isSegmentPath),
    "WAL_INVALID_ARGUMENT",
    "replaySegments: reading paths",
  );
  if (read === undefined) {
    throw new WalError(
      "WAL_INVALID_ARGUMENT",
      `replaySegments: paths must be an array of segment paths, at most ${MAX_ARRAY_ARGUMENT_LENGTH} of them`,
    );
  }
  const fs = fileSystemOption(options.fs, "replaySegments");
  return new ReplayRun(planSegments(read), fs, options);
}

/** A path `replaySegments` can open: a non-empty string without a NUL. */
function isSegmentPath(path: unknown): path is string {
  return typeof path === "string" && path !== "" && !path.includes("\0");
}

class ReplayRun<E> implements Replay<E> {
  readonly #list: () => Promise<ReplayPlan>;
  readonly #fs: WalFileSystem;
  readonly #options: ReplayOptions<E>;
  readonly #mode: RecoveryMode;
  #started = false;
  readonly #settle: OutcomeSettle;
  readonly #outcome: Promise<ReplayOutcome>;

  readonly #spansList: () => Promise<ReplayPlan>;

  constructor(
    list: () => Promise<ReplayPlan>,
    fs: WalFileSystem,
    options: ReplayOptions<E>,
    spansList?: () => Promise<ReplayPlan>,
  ) {
    this.#list = list;
    this.#spansList = spansList ?? list;
    this.#fs = fs;
    this.#options = options;
    this.#mode = checkReplayOptions(options);
    const { outcome, settle } = pendingOutcome();
    this.#outcome = outcome;
    this.#settle = settle;
  }

  [Symbol.asyncIterator](): AsyncIterator<ReplayedTransaction<E>> {
    if (this.#started) throw new WalError("WAL_INVALID_ARGUMENT", "a replay can be iterated only once");
    this.#started = true;
    const mapSpans = () => mapTransactionSpans(this.#spansList, this.#fs, this.#options);
    return new ReplayWalk(this.#list, this.#fs, this.#options, this.#mode, this.#settle, mapSpans);
  }

  async outcome(): Promise<ReplayOutcome> {
    if (!this.#started) {
      for await (const _ of this) {
        // Draining: the caller only wants the report.
      }
    }
    return this.#outcome;
  }
}
