/**
 * The record-by-record rules of FORMAT §5.1–5.2: strictly increasing LSNs, the fence, transaction buckets keyed
 * by their begin LSN (several may be open at once), commit order out, aborted and unfinished work discarded,
 * checkpoint markers observed. Every rule violation is a `WAL_MALFORMED` error.
 */

import { WalError, type WalRecord } from "@lora/wal-codec";
import type { ReplayedTransaction } from "./replay-types.js";

function malformed(message: string, path: string, lsn?: number): WalError {
  return new WalError("WAL_MALFORMED", `WAL structure is malformed: ${message}`, {
    details: lsn === undefined ? { path, segment: path } : { path, segment: path, lsn },
  });
}

export class TransactionAssembler<E> {
  readonly #fence: number;
  /*
   * The open transactions. Nearly always at most one is open (every `commitTx`, and any writer that does not
   * interleave), so the most recently begun one lives in two fields and only the others in the map: a record of the
   * common layout then costs a comparison instead of a hash lookup. Invariant: `#current` is undefined or holds a
   * begin LSN that is not a key of `#pending`.
   */
  readonly #pending = new Map<number, E[]>();
  #current: E[] | undefined;
  #currentLsn = 0;
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
    return this.#pending.size + (this.#current === undefined ? 0 : 1);
  }

  /** The events of the open transaction begun at `beginLsn`, or undefined when it is not open. */
  #bucket(beginLsn: number): E[] | undefined {
    if (this.#current !== undefined && this.#currentLsn === beginLsn) return this.#current;
    return this.#pending.size === 0 ? undefined : this.#pending.get(beginLsn);
  }

  /** Close the open transaction begun at `beginLsn`; its events, or undefined when it was not open. */
  #close(beginLsn: number): E[] | undefined {
    const current = this.#current;
    if (current !== undefined && this.#currentLsn === beginLsn) {
      this.#current = undefined;
      return current;
    }
    if (this.#pending.size === 0) return undefined;
    const events = this.#pending.get(beginLsn);
    if (events !== undefined) this.#pending.delete(beginLsn);
    return events;
  }

  /** Check a segment's base LSN against what came before (§5.1 "per segment"). */
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
      if (record.kind === "txCommit" || record.kind === "txAbort") this.#close(record.txBeginLsn);
      return undefined;
    }

    switch (record.kind) {
      case "txBegin":
        if (this.#bucket(lsn) !== undefined) throw malformed(`duplicate tx begin at lsn ${lsn}`, path, lsn);
        // Interleaved transactions: the one begun before this moves to the map.
        if (this.#current !== undefined) this.#pending.set(this.#currentLsn, this.#current);
        this.#current = [];
        this.#currentLsn = lsn;
        return undefined;
      case "mutation":
      case "mutationBatch": {
        const bucket = this.#bucket(record.txBeginLsn);
        if (bucket === undefined) {
          const what = record.kind === "mutation" ? "mutation" : "mutation batch";
          throw malformed(`${what} at lsn ${lsn} references missing tx begin ${record.txBeginLsn}`, path, lsn);
        }
        if (record.kind === "mutation") bucket.push(record.event);
        else for (const event of record.events) bucket.push(event);
        return undefined;
      }
      case "txCommit": {
        const events = this.#close(record.txBeginLsn);
        if (events === undefined) {
          throw malformed(`commit at lsn ${lsn} references missing tx begin ${record.txBeginLsn}`, path, lsn);
        }
        this.committed++;
        return { beginLsn: record.txBeginLsn, commitLsn: lsn, events };
      }
      case "txAbort":
        if (this.#close(record.txBeginLsn) === undefined) {
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
