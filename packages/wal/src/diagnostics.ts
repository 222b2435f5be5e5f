/**
 * Observability the Node way: the handle publishes what it does on `node:diagnostics_channel`, as undici and Node's
 * own http do, so a metrics or tracing layer subscribes without the handle knowing about it. A channel nobody
 * subscribes to costs one property read (`hasSubscribers`) where the event happens: no message is built.
 *
 * Every message carries `dir` (the log directory), so one subscriber can tell several logs apart. Messages are
 * published synchronously from inside the handle; a subscriber that throws is reported by Node on the next tick
 * (`process.on("uncaughtException")`), never into the handle's work, and must not keep the message (it is not
 * copied for it).
 */

import { channel } from "node:diagnostics_channel";

/** The channel names, stable across releases. */
export const WAL_CHANNELS = {
  /** {@link WalCommitMessage}: a `commitTx` transaction reached the sync mode's acknowledgement point. */
  commit: "lora-wal:commit",
  /** {@link WalSyncMessage}: an fdatasync of the active segment completed (a group-commit round). */
  sync: "lora-wal:sync",
  /** {@link WalRotateMessage}: the active segment was sealed and a new one created. */
  rotate: "lora-wal:rotate",
  /** {@link WalTruncateMessage}: `truncateUpTo` removed segments. */
  truncate: "lora-wal:truncate",
  /** {@link WalPoisonMessage}: a failure poisoned the handle; every later call fails. */
  poison: "lora-wal:poison",
  /** {@link WalRecoverMessage}: `Wal.open` finished replay and healing. */
  recover: "lora-wal:recover",
} as const;

/** Published on `lora-wal:commit` once a `commitTx` transaction is acknowledged (durable in `perCommit` mode). */
export interface WalCommitMessage {
  readonly dir: string;
  readonly beginLsn: number;
  readonly commitLsn: number;
  /** Events in the transaction. */
  readonly events: number;
}

/** Published on `lora-wal:sync` after each fdatasync of the active segment (one per group-commit round). */
export interface WalSyncMessage {
  readonly dir: string;
  /** Every record at or below it is covered by this fdatasync. */
  readonly lsn: number;
  /** How long the fdatasync took, milliseconds (monotonic clock). */
  readonly durationMs: number;
}

/** Published on `lora-wal:rotate` once a full segment is sealed and its successor created. */
export interface WalRotateMessage {
  readonly dir: string;
  readonly sealedSegmentId: number;
  readonly newSegmentId: number;
  /** The base LSN of the new segment. */
  readonly baseLsn: number;
}

/** Published on `lora-wal:truncate` once `truncateUpTo` (or a checkpoint) removed segments. */
export interface WalTruncateMessage {
  readonly dir: string;
  readonly fenceLsn: number;
  /** Ids of the segments removed. */
  readonly removedSegmentIds: readonly number[];
}

/** Published on `lora-wal:poison` when a failed write or fsync poisons the handle; `error` is the failure. */
export interface WalPoisonMessage {
  readonly dir: string;
  readonly error: unknown;
}

/** Published on `lora-wal:recover` when `Wal.open` has finished replay and healing, before it resolves. */
export interface WalRecoverMessage {
  readonly dir: string;
  /** Wall time of the open's replay and healing, milliseconds. */
  readonly durationMs: number;
  /** Transactions replayed (delivered to the caller). */
  readonly transactions: number;
  readonly nextLsn: number;
  /** A torn tail was cut. */
  readonly tornTail: boolean;
  /** What healing did, one entry per action (e.g. a `.broken` copy kept). */
  readonly healed: number;
}

export const commitChannel = channel(WAL_CHANNELS.commit);
export const syncChannel = channel(WAL_CHANNELS.sync);
export const rotateChannel = channel(WAL_CHANNELS.rotate);
export const truncateChannel = channel(WAL_CHANNELS.truncate);
export const poisonChannel = channel(WAL_CHANNELS.poison);
export const recoverChannel = channel(WAL_CHANNELS.recover);
