/**
 * The directory lock of a Lora write-ahead log: the same kernel lock LoraDB takes on `<dir>/.lora-wal.lock`, plus
 * one on the directory itself so two `@lora/wal` writers exclude each other even when the file is deleted. Take it
 * ({@link acquireDirLock}, or {@link lockDirectory} for any `WalFileSystem`), watch it while held
 * ({@link DirLock.check}, {@link DirLock.onLost}), or ask whether a writer holds it right now ({@link probeDirLock}).
 *
 * Importing this package loads no native code: koffi and the C library are loaded on the first lock attempt or
 * probe.
 *
 * @packageDocumentation
 * @module @lora/wal-lock
 */

export {
  type AcquireDirLockOptions,
  acquireDirLock,
  DEFAULT_LOCK_RETRY_BUDGET_MS,
  type DirLock,
  LOCK_FILE_NAME,
  probeDirLock,
} from "./dir-lock.js";
export {
  type HeldLock,
  type LockDirectoryOptions,
  type LockTarget,
  lockDirectory,
  lockTargetOf,
  probeDirectoryLock,
  type ReleaseFailure,
  releaseOutcome,
} from "./handle-lock.js";
export { checkRetryBudgetMs } from "./retry-budget.js";
