/**
 * The `WAL_LOCKED` refusal every lock target gives. Whoever meets it is usually looking at a writer they forgot (a
 * second process, a handle never closed), and sometimes about to delete the lock file: the message says who can hold
 * the lock and what does clear it, whichever target (Node's kernel locks, a self-locking file system, the in-process
 * registry) refused.
 */

import { WalError } from "@lora/wal-codec";
import { LOCK_FILE_NAME } from "@lora/wal-segment";

/**
 * `WAL_LOCKED` for `dir`, `details.path` = `dir`. `budgetMs` is how long the refusing lock retried (0: tried once);
 * left out where a lock does not retry (a probe, the in-process registry, a self-locking file system).
 */
export function lockedError(dir: string, budgetMs?: number): WalError {
  const tried =
    budgetMs === undefined ? "" : budgetMs === 0 ? "; tried once" : `; still held after ${budgetMs} ms of retries`;
  return new WalError(
    "WAL_LOCKED",
    `WAL directory is already open by another live handle: ${dir} (a Wal or a restore, in this process or ` +
      `another, or LoraDB${tried}): close it or stop its process, whose exit releases the lock (never delete ` +
      `${LOCK_FILE_NAME} to clear it), or retry for longer (Wal.open's lockRetryMs)`,
    { details: { path: dir } },
  );
}
