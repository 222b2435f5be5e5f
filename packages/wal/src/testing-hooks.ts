/**
 * Hooks for crash testing. A failpoint is a named place in the handle's I/O sequence (`commit.beforeFsync`,
 * `rotate.afterSeal`, ...); the torture harness passes a function that may kill the process there. Planted bugs
 * switch on deliberate mistakes so the harness can prove it catches them; they exist only for that and are never
 * enabled unless a caller asks by name.
 */

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
  /** Checkpoint markers and truncation fences are not checked against transactions (only order and range). */
  | "unchecked-checkpoint-fence";

/** `WalOptions.testing`: crash-testing hooks, for the torture harness; never needed in production. */
export interface WalTestingOptions {
  /** Called at each named point of the I/O sequence (may throw or kill the process there). @default no-op */
  readonly failpoint?: Failpoint;
  /** Deliberate bugs to switch on, by name. @default none */
  readonly plantedBugs?: readonly PlantedBug[];
}

export const noFailpoint: Failpoint = () => undefined;
