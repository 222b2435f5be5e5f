/**
 * The handle's transaction bookkeeping: the low-level transactions open in it, which LSNs lie inside a
 * transaction, and from both, which LSNs replay accepts as a checkpoint fence.
 */

import { shownValue, WalError } from "@lora/wal-codec";
import type { TransactionSpans } from "@lora/wal-replay";
import { type PlantedBug, TESTING_BUILD } from "./testing-hooks.js";

/** Open transactions, transaction spans and the checkpoint floor of one handle. */
export class TransactionLedger {
  readonly #dir: string;
  readonly #bugs: ReadonlySet<PlantedBug>;
  /**
   * The lowest snapshot LSN a new marker may carry: the fence the handle was opened with, raised by every marker
   * read at open (fenced ones included) or written since. Replay rejects a marker that regresses below an earlier one.
   */
  #floor: number;
  /**
   * The oldest segment's base LSN minus one: the lowest fence the log can serve, since a reader starting below it
   * lacks records (truncated, or never in this log). Known at open and raised as truncation removes segments.
   */
  #oldestFence: number;
  /**
   * Which LSNs at or above the floor and the oldest fence lie inside a finished (or abandoned) transaction. The
   * handle holds it too: the commit path marks its transactions there directly.
   */
  readonly #spans: TransactionSpans;
  /**
   * Begin LSNs of the low-level transactions open in this handle (`begin` without `commit`/`abort` yet). Read-only
   * outside: the commit path checks whether any is open without a call.
   */
  readonly openTx: ReadonlySet<number>;
  readonly #openTx = new Set<number>();
  /** The newest of them, or NaN, which no id equals (checked first: appends nearly always go to it). */
  #newestOpenTx: number;
  /** What `#newestOpenTx` holds when no transaction is open: NaN (-1 with the planted bug). */
  readonly #none: number;

  constructor(dir: string, floor: number, oldestFence: number, spans: TransactionSpans, bugs: ReadonlySet<PlantedBug>) {
    this.#dir = dir;
    this.#bugs = bugs;
    this.#floor = floor;
    this.#oldestFence = oldestFence;
    this.#spans = spans;
    this.#none = TESTING_BUILD && bugs.has("tx-none-is-minus-one") ? -1 : Number.NaN;
    this.#newestOpenTx = this.#none;
    this.#spans.forgetBelow(this.lowestFence);
    this.openTx = this.#openTx;
  }

  /**
   * The lowest fence a marker may carry: the floor, or the oldest fence when truncation (or an open with
   * `allowTruncatedHistory`) left the log starting above it.
   */
  get lowestFence(): number {
    return Math.max(this.#floor, this.#oldestFence);
  }

  /**
   * The highest LSN at or below `durableLsn` that is at or above the lowest fence and not inside any transaction (see
   * `Wal.safeCheckpointLsn`).
   */
  safeCheckpointLsn(durableLsn: number): number {
    const lowest = this.lowestFence;
    let top = durableLsn;
    for (const begin of this.#openTx) if (begin - 1 < top) top = begin - 1;
    if (top <= lowest) return lowest;
    return this.#spans.highestBoundaryAtOrBelow(top, lowest) ?? lowest;
  }

  /** @throws `WAL_TX_NOT_OPEN` unless `txBeginLsn` names a transaction open in this handle. */
  assertOpenTx(txBeginLsn: number, what: "append to" | "commit" | "abort"): void {
    // The newest begin is the usual target: one comparison instead of a set lookup per appended record.
    if (txBeginLsn === this.#newestOpenTx || this.#openTx.has(txBeginLsn)) return;
    if (TESTING_BUILD && this.#bugs.has("accept-unknown-tx")) return;
    throw new WalError(
      "WAL_TX_NOT_OPEN",
      `cannot ${what} transaction ${shownValue(txBeginLsn)}: it is not open in this handle (never begun here, already committed or aborted, or written by commitTx)`,
      { details: { path: this.#dir, ...(Number.isSafeInteger(txBeginLsn) ? { lsn: txBeginLsn } : {}) } },
    );
  }

  /**
   * @param nextLsn the LSN the next record will get: `lsn` must be below it.
   * @param durableLsn the handle's durable LSN, for the usable fence the error names.
   * @throws `WAL_BAD_CHECKPOINT` unless `lsn` is a fence replay accepts: at or above the oldest fence and the
   *   floor, allocated, and not inside a transaction.
   */
  assertFence(lsn: number, what: string, nextLsn: number, durableLsn: number): void {
    const bad = (why: string, oldestRetainedLsn?: number): WalError => {
      const usable = this.safeCheckpointLsn(durableLsn);
      return new WalError("WAL_BAD_CHECKPOINT", `${what} ${lsn} ${why}; ${usable} would be accepted`, {
        details: {
          path: this.#dir,
          lsn,
          usableFence: usable,
          ...(oldestRetainedLsn === undefined ? {} : { oldestRetainedLsn }),
        },
      });
    };
    if (lsn < this.#oldestFence && !(TESTING_BUILD && this.#bugs.has("unchecked-retained-fence"))) {
      const base = this.#oldestFence + 1;
      throw bad(
        `is below what the log still holds: its oldest segment starts at lsn ${base}, so the log no longer holds the records after it (truncated): an open at that fence fails WAL_FENCE_TOO_LOW`,
        base,
      );
    }
    if (lsn < this.#floor) {
      throw bad(`regresses below ${this.#floor} (an earlier checkpoint marker or the fence this handle opened with)`);
    }
    if (lsn >= nextLsn) throw bad(`is not written yet (the next LSN is ${nextLsn})`);
    if (TESTING_BUILD && this.#bugs.has("unchecked-checkpoint-fence")) return;
    for (const begin of this.#openTx) {
      if (begin <= lsn) throw bad(`is inside transaction ${begin}, which is still open`);
    }
    if (this.#spans.isInside(lsn)) throw bad("is inside a transaction");
  }

  /** A `TxBegin` at `lsn` opened a low-level transaction. */
  beginTx(lsn: number): void {
    this.#openTx.add(lsn);
    this.#newestOpenTx = lsn;
  }

  /** Transaction `begin` finished at `end`: every LSN from its begin to just before `end` is inside it. */
  finishTx(begin: number, end: number): void {
    this.#openTx.delete(begin);
    if (begin === this.#newestOpenTx) this.#newestOpenTx = this.#none;
    this.#spans.markInside(Math.max(begin, this.lowestFence), end - 1);
  }

  /**
   * Truncation removed segments: the oldest one left starts at `baseLsn`. The spans below its predecessor are
   * forgotten (no fence there is accepted any more); the predecessor itself stays answerable.
   */
  retainedFrom(baseLsn: number): void {
    if (baseLsn - 1 <= this.#oldestFence) return;
    this.#oldestFence = baseLsn - 1;
    this.#spans.forgetBelow(this.lowestFence);
  }

  /** A checkpoint marker at `lsn` was written: no later marker may regress below it. */
  raiseFloor(lsn: number): void {
    if (lsn <= this.#floor) return;
    this.#floor = lsn;
    this.#spans.forgetBelow(this.lowestFence);
  }
}
