/**
 * What a Tier A workload saw: every transaction that got a commit record, the open and aborted ones, and two
 * acknowledgement watermarks (docs/crash-testing.md, 'Invariants', I1):
 * - `durableLsn`: covered by a resolved fsync the API promised (perCommit `commitTx`, `flush` in perCommit,
 *   `sync`, `truncateUpTo`, `close`): must survive any crash image;
 * - `writtenLsn`: handed to the OS (a resolved `commitTx` or `flush` in any mode): must survive a process
 *   crash, i.e. the crash image that keeps every unsynced operation.
 */

import type { AttemptedTx, Expectation } from "./oracle.js";

export interface ModelSnapshot {
  readonly durableLsn: number;
  readonly writtenLsn: number;
  readonly fence: number;
}

export class Model {
  readonly committed: AttemptedTx[] = [];
  /** Open transactions by begin LSN. */
  readonly open = new Map<number, { id: string; events: string[] }>();
  abortedCount = 0;
  fence: number;
  durableLsn = 0;
  writtenLsn = 0;
  #nextId = 0;

  constructor(fence: number) {
    this.fence = fence;
  }

  newId(): string {
    return `t${this.#nextId++}`;
  }

  commit(id: string, beginLsn: number, commitLsn: number, events: readonly string[], viaCommitTx: boolean): void {
    this.committed.push({ id, beginLsn, commitLsn, events: [...events], viaCommitTx });
  }

  written(lsn: number): void {
    if (lsn > this.writtenLsn) this.writtenLsn = lsn;
  }

  durable(lsn: number): void {
    this.written(lsn);
    if (lsn > this.durableLsn) this.durableLsn = lsn;
  }

  snapshot(): ModelSnapshot {
    return { durableLsn: this.durableLsn, writtenLsn: this.writtenLsn, fence: this.fence };
  }

  /** The expectation for a crash at `snap`; `processCrash` (every unsynced operation kept) requires written too. */
  expectation(snap: ModelSnapshot, processCrash: boolean): Expectation {
    const attempted = [...this.committed].sort((a, b) => a.commitLsn - b.commitLsn);
    return {
      attempted,
      fence: snap.fence,
      requiredLsn: processCrash ? Math.max(snap.durableLsn, snap.writtenLsn) : snap.durableLsn,
    };
  }
}
