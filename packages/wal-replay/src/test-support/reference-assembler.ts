/**
 * TEST REFERENCE: the transaction assembler as it was before the replay fast path (1319cab), every open
 * transaction in one map. Kept verbatim apart from its name so differential tests can compare against it.
 *
 * Replay's record rules (docs/format.md, 'Replay rules'): strictly rising LSNs, the fence, transaction buckets keyed
 * by their begin LSN (several may be open at once), commit order out, aborted and unfinished work discarded,
 * checkpoint markers observed. Every rule violation is a `WAL_MALFORMED` error.
 */

import { WalError, type WalRecord } from "@lora/wal-codec";
import type { ReplayedTransaction } from "../replay-types.js";

function malformed(message: string, path: string, lsn?: number): WalError {
  return new WalError("WAL_MALFORMED", `WAL structure is malformed: ${message}`, {
    details: lsn === undefined ? { path, segment: path } : { path, segment: path, lsn },
  });
}

export class ReferenceAssembler<E> {
  readonly #fence: number;
  readonly #pending = new Map<number, E[]>();
  #lastLsn = 0;
  #maxLsn = 0;
  #previousBase: number | undefined;
  #checkpointObserved: number | null = null;
  committed = 0;
  aborted = 0;
  records = 0;

  constructor(fence: number) {
    this.#fence = fence;
  }

  get maxLsn(): number {
    return this.#maxLsn;
  }

  get lastLsn(): number {
    return this.#lastLsn;
  }

  get checkpointObserved(): number | null {
    return this.#checkpointObserved;
  }

  get openTransactions(): number {
    return this.#pending.size;
  }

  /** Check a segment's base LSN against what came before (docs/format.md, 'Replay rules', per segment). */
  enterSegment(baseLsn: number, path: string): void {
    if (this.#previousBase !== undefined && baseLsn <= this.#previousBase) {
      throw malformed(
        `segment base_lsn ${baseLsn} is not greater than previous base_lsn ${this.#previousBase} (${path})`,
        path,
      );
    }
    if (this.#lastLsn !== 0 && baseLsn <= this.#lastLsn) {
      throw malformed(
        `segment base_lsn ${baseLsn} is not greater than previous record lsn ${this.#lastLsn} (${path})`,
        path,
      );
    }
    this.#previousBase = baseLsn;
  }

  /**
   * Apply one record. Returns the transaction it commits, if any.
   * @throws {@link WalError} `WAL_MALFORMED`.
   */
  apply(record: WalRecord<E>, baseLsn: number, path: string): ReplayedTransaction<E> | undefined {
    const lsn = record.lsn;
    if (lsn < baseLsn) throw malformed(`record lsn ${lsn} is below segment base_lsn ${baseLsn} (${path})`, path, lsn);
    if (this.#lastLsn !== 0 && lsn <= this.#lastLsn) {
      throw malformed(`record lsn ${lsn} is not greater than previous lsn ${this.#lastLsn} (${path})`, path, lsn);
    }
    this.#lastLsn = lsn;
    if (lsn > this.#maxLsn) this.#maxLsn = lsn;
    this.records++;

    if (lsn <= this.#fence) {
      // Already in the caller's snapshot. A fenced commit or abort still closes a bucket opened above the fence.
      if (record.kind === "txCommit" || record.kind === "txAbort") this.#pending.delete(record.txBeginLsn);
      return undefined;
    }

    switch (record.kind) {
      case "txBegin":
        if (this.#pending.has(lsn)) throw malformed(`duplicate tx begin at lsn ${lsn}`, path, lsn);
        this.#pending.set(lsn, []);
        return undefined;
      case "mutation":
      case "mutationBatch": {
        const bucket = this.#pending.get(record.txBeginLsn);
        if (bucket === undefined) {
          const what = record.kind === "mutation" ? "mutation" : "mutation batch";
          throw malformed(`${what} at lsn ${lsn} references missing tx begin ${record.txBeginLsn}`, path, lsn);
        }
        if (record.kind === "mutation") bucket.push(record.event);
        else for (const event of record.events) bucket.push(event);
        return undefined;
      }
      case "txCommit": {
        const events = this.#pending.get(record.txBeginLsn);
        if (events === undefined) {
          throw malformed(`commit at lsn ${lsn} references missing tx begin ${record.txBeginLsn}`, path, lsn);
        }
        this.#pending.delete(record.txBeginLsn);
        this.committed++;
        return { beginLsn: record.txBeginLsn, commitLsn: lsn, events };
      }
      case "txAbort":
        if (!this.#pending.delete(record.txBeginLsn)) {
          throw malformed(`abort at lsn ${lsn} references missing tx begin ${record.txBeginLsn}`, path, lsn);
        }
        this.aborted++;
        return undefined;
      case "checkpoint": {
        const snapshot = record.snapshotLsn;
        if (snapshot > lsn)
          throw malformed(`checkpoint at lsn ${lsn} points to future snapshot lsn ${snapshot}`, path, lsn);
        if (this.#checkpointObserved !== null && snapshot < this.#checkpointObserved) {
          throw malformed(
            `checkpoint snapshot lsn ${snapshot} regressed below previous checkpoint ${this.#checkpointObserved}`,
            path,
            lsn,
          );
        }
        this.#checkpointObserved = snapshot;
        return undefined;
      }
    }
  }
}
