/**
 * The arithmetic of a resume token (a commit LSN and a restart point), shared by the readers that take one, the
 * replication slots that keep one, and the retention plan that honours them.
 */

/**
 * Whether `restartLsn` can go with `commitLsn` in a token: at least 1 (the first LSN) and at most `commitLsn + 1`
 * (a token never restarts above what its commit LSN already covers).
 */
export function isRestartFor(commitLsn: number, restartLsn: number): boolean {
  return restartLsn >= 1 && restartLsn <= commitLsn + 1;
}

/** The restart point of a position with nothing open: the next LSN (the largest safe LSN stays itself). */
export function restartAfter(commitLsn: number): number {
  return Math.min(commitLsn + 1, Number.MAX_SAFE_INTEGER);
}
