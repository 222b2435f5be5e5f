/**
 * What a measured case is. Each one runs in a child process (see `child-protocol.ts`) against a fresh directory and
 * returns how many operations it completed and how long the timed part took. Preparation (filling a store to read
 * back, copying a directory) is never timed. Every case writes the same 100-byte payload (`payload.ts`).
 */

export interface CaseParams {
  /** Operations per round (commits, records, rows). */
  readonly count: number;
  /** Concurrent awaiting writers. */
  readonly concurrency: number;
  /** A round stops early once this much time has passed (its rate is still ops / elapsed). */
  readonly timeLimitMs: number;
}

export interface Measure {
  readonly ops: number;
  readonly seconds: number;
  /** Bytes read or written by the timed part, where meaningful. */
  readonly bytes?: number;
  /** write() and fdatasync() calls the WAL made (from `ioStats`). */
  readonly writes?: number;
  readonly syncs?: number;
  /**
   * CPU seconds (user + system, all threads) the timed part used. On a shared machine wall time includes waiting
   * for a core; ops / cpuSeconds is the contention-free rate of CPU-bound work.
   */
  readonly cpuSeconds?: number;
}

export interface CaseContext {
  /** A fresh, empty directory for this round. */
  readonly dir: string;
  /** A prepared, read-only dataset (replay cases). */
  readonly dataDir: string;
  readonly p: CaseParams;
}

export type CaseFn = (ctx: CaseContext) => Promise<Measure>;
