/**
 * Hooks for crash testing, compiled only into testing builds. A failpoint is a named place in the handle's I/O
 * sequence (`commit.beforeFsync`, `rotate.afterSeal`, ...; the list is in docs/crash-testing.md); the torture
 * harness passes a function that may kill the process there. Planted bugs switch on deliberate mistakes so the
 * harness can prove it catches them.
 *
 * Like etcd's failpoints, they exist only in a build made for testing: every use in the handle is guarded by
 * {@link TESTING_BUILD}, which is true only where `__LORA_WAL_TESTING__` is defined true (vitest and the torture
 * harness, which bundle the sources). The published build is made with it false, and the bundler removes each
 * guarded branch: the shipped handle carries no planted bug and calls no failpoint.
 */

declare const __LORA_WAL_TESTING__: boolean | undefined;

/** True in a testing build only (see the module comment); a constant the bundler folds. */
export const TESTING_BUILD: boolean = typeof __LORA_WAL_TESTING__ === "boolean" && __LORA_WAL_TESTING__;

/** Where {@link WalTestingOptions} ride on the options of `Wal.open` (see `withTestingHooks` in `./testing`). */
export const TESTING_HOOKS: unique symbol = Symbol.for("@lora/wal.testing-hooks") as never;

/** Called synchronously at each named point. */
export type Failpoint = (name: string) => void;

/** Deliberate bugs the torture harness must catch (see apps/torture). */
export type PlantedBug =
  /** perCommit acknowledges after the write, before the fsync. */
  | "ack-before-fsync"
  /** Damage anywhere in the newest segment is cut as a torn tail (LoraDB's old rule, without the forward scan). */
  | "truncate-on-any-crc-error"
  /** No directory fsync after creating a segment. */
  | "skip-dir-fsync-on-create"
  /** After a failed fsync, retry it and carry on instead of poisoning. */
  | "retry-fsync-after-eio"
  /** `nextLsn` at open is `maxLsn + 1` only (ignoring the active segment's base and the fence). */
  | "next-lsn-from-max-only"
  /** Rotation may happen between a transaction's begin and its commit inside `commitTx`. */
  | "rotate-inside-transaction"
  /** The fence skips records strictly below it instead of at or below it. */
  | "fence-off-by-one"
  /** `close()` drops the pending buffer instead of writing it. */
  | "drop-pending-on-close"
  /** `append`, `appendBatch`, `commit` and `abort` accept a transaction id that is not open. */
  | "accept-unknown-tx"
  /**
   * The "no transaction open" value the open-transaction check compares with first is -1 instead of NaN (a bug this
   * handle had): with none open, `append`/`commit`/`abort(-1)` pass that check and fail later with another code.
   */
  | "tx-none-is-minus-one"
  /** Checkpoint markers and truncation fences are not checked against transactions (only order and range). */
  | "unchecked-checkpoint-fence"
  /** Checkpoint markers below what the log still holds (the oldest segment's base LSN minus one) are accepted. */
  | "unchecked-retained-fence"
  /** Rotation writes the sealed header over a preallocated segment's zero tail instead of cutting the zeros first. */
  | "seal-over-zero-tail"
  /**
   * A sync round counts as covered everything written by the time its fdatasync returns, not only what was written
   * before it began: a commit written while the fdatasync ran is then taken for durable.
   */
  | "sync-covers-later-writes"
  /**
   * A thread-pool sync round runs its fdatasync at once, on the calling thread, beside the segment writer's
   * background fdatasync in flight instead of after it (the writer's one-at-a-time rule, bypassed): when the
   * background one fails, only it learns of the error (fsyncgate), and the round, succeeding, acknowledges bytes
   * the failure dropped.
   */
  | "sync-beside-background-sync"
  /**
   * The first `commitTx` after an open that replayed a committed transaction writes its events twice into its batch
   * (a resumed encoder that does not start from an empty batch): the log holds as many transactions as were
   * committed, one of them with other content. Only a reopen that compares content sees it.
   */
  | "double-batch-after-recovery"
  /**
   * The `durable` lifecycle event names the LSN one record below the one the fsync covered (the bound taken as
   * exclusive); the durable mark and `fsyncedLsn()` stay right. An archiver that learns durability from the event
   * then resolves `flush()` with its archived line one record short of what was fsynced.
   */
  | "durable-event-one-short"
  /**
   * Recovery cuts a torn tail in one ftruncate however much data lies past the damage (the two-step cut undone): a
   * power loss that keeps the cut's zeroed block but not its new length leaves a torn record larger than the unsynced
   * window with its header zeroed and the rest of it on disk, and a marker's bytes in it then read as corruption.
   */
  | "one-step-tail-cut"
  /**
   * The segment writers ignore the unsynced window (1 GiB instead): a write larger than it goes out whole, with no
   * fdatasync between window-sized pieces, while recovery still weighs damage against the window. A power loss that
   * tears such a write (its first sector lost, the rest landed) leaves damage more than a window before intact
   * records: corruption to recovery, a log the default mode refuses.
   */
  | "unsynced-window-ignored";

/**
 * A clock of a test's own for the handle: the group mode's flusher and the duration of sync rounds (which
 * `blockingSync: "auto"` follows) then run on it instead of Node's `setInterval` and `performance.now()`, so that a
 * harness advancing it by count gets the same rounds whatever the machine's speed.
 */
export interface WalTestingClock {
  /** Milliseconds on a monotonic clock, in place of `performance.now()`: how long a sync round took. */
  now(): number;
  /** Call `callback` every `ms` until the returned function is called, in place of `setInterval`. */
  interval(callback: () => void, ms: number): () => void;
}

/** Crash-testing hooks for `Wal.open`, given with `withTestingHooks` from `@lora/wal/testing`. */
export interface WalTestingOptions {
  /** Called at each named point of the I/O sequence (may throw or kill the process there). @default no-op */
  readonly failpoint?: Failpoint;
  /** Deliberate bugs to switch on, by name. @default none */
  readonly plantedBugs?: readonly PlantedBug[];
  /** The group flusher's timer and the sync rounds' clock (see {@link WalTestingClock}). @default Node's */
  readonly clock?: WalTestingClock;
}

export const noFailpoint: Failpoint = () => undefined;

/** The hooks attached to `options`, in a testing build; none otherwise. */
export function testingHooksOf(options: object): WalTestingOptions {
  if (!TESTING_BUILD) return {};
  return (options as { [TESTING_HOOKS]?: WalTestingOptions })[TESTING_HOOKS] ?? {};
}
