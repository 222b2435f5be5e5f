/**
 * Transaction assembly for a follower, which starts reading at the first record of some segment rather than at
 * the start of the log: records of a transaction that began before that point are skipped (it is either delivered
 * already or before the resume token), anything else out of place is `WAL_MALFORMED`.
 */

import { WalError, type WalRecord } from "@lora/wal-codec";
import { LowestOpenBegin } from "./lowest-open-begin.js";
import type { CommittedTransaction } from "./replay-types.js";

function malformed(message: string, path: string, lsn: number): WalError {
  return new WalError("WAL_MALFORMED", `WAL structure is malformed: ${message}`, {
    details: { path, segment: path, lsn },
  });
}

// Each message is built by a function of its own, never inline in `apply`: see structure-errors.ts for what V8 did
// with the number-to-string conversions of inline messages in a per-record method. These texts are the change
// feed's own (no path suffix; the segment's base as the LSN detail): not the replay ones of the same names.

function baseNotAboveRecords(baseLsn: number, lastLsn: number, path: string): WalError {
  return malformed(`segment base_lsn ${baseLsn} is not greater than previous record lsn ${lastLsn}`, path, baseLsn);
}

function lsnNotRising(lsn: number, previous: number, path: string): WalError {
  return malformed(`record lsn ${lsn} is not greater than previous lsn ${previous}`, path, lsn);
}

function missingBegin(lsn: number, begin: number, path: string): WalError {
  return malformed(`record at lsn ${lsn} references missing tx begin ${begin}`, path, lsn);
}

export class FollowAssembler<E> {
  /**
   * The newest open transaction and its events so far, outside the map: in the common layout (begin, its records,
   * commit, then the next) it is the only one open, and a record costs a comparison instead of a hash lookup and
   * an entry. Invariant: `#current` is undefined or holds the transaction begun at `#currentBegin`, which is not in
   * `#open`.
   */
  #current: E[] | undefined;
  #currentBegin = 0;
  /** The other open transactions (begun before the newest) by begin LSN, with their events so far. */
  readonly #open = new Map<number, E[]>();
  /** The lowest key of `#open`, without looking at every open transaction at each commit. */
  readonly #openLowest = new LowestOpenBegin(this.#open);
  /** Transactions with a begin below this were begun before reading started: their records are skipped. */
  #floor: number;
  /**
   * Where the writer's current session started: once reading reaches it, transactions begun below it and still open
   * can never commit (a session never finishes an earlier one's), so they do not hold a resume token back.
   */
  #deadBelow: number;
  #lastLsn = 0;
  /**
   * A batch record's events array is the decoder's fresh one, nowhere else referenced (see `returnsFreshBatches`):
   * the first batch of the newest transaction becomes its events array instead of being copied into a new one.
   */
  readonly #adoptBatches: boolean;
  /** The transaction begun at the one LSN missing before the first segment read, and its error (see `lost`). */
  readonly #lost: { readonly begin: number; readonly error: WalError } | undefined;
  /** Its begin while it may still be open, so that tokens restart there (see `lost`); undefined once known not. */
  #lostOpenBegin: number | undefined;

  /**
   * @param floor records of transactions begun below it are skipped (reading starts there).
   * @param deadBelow see {@link FollowAssembler.deadBelow}.
   * @param adoptBatches see `#adoptBatches`: only for a codec whose `decodeBatch` returns a new array every call.
   * @param lost reading starts with the LSN `lost.begin` (the floor) missing (see `isLoneMissingLsn`): a record of a
   *   transaction begun there throws `lost.error` instead of being skipped, so that transaction is never lost
   *   silently. Until it is known not to be open (a checkpoint marker whose snapshot is at or above `lost.begin`:
   *   a marker's snapshot never lies inside a transaction; or, as for any open transaction, a later writer session
   *   reached), every token restarts at `lost.begin` at the latest: a consumer resuming from the token of a
   *   transaction delivered before the first record of it would otherwise skip it for good.
   */
  constructor(
    floor: number,
    deadBelow = 0,
    adoptBatches = false,
    lost?: { readonly begin: number; readonly error: WalError },
  ) {
    this.#floor = floor;
    this.#deadBelow = deadBelow;
    this.#adoptBatches = adoptBatches;
    this.#lost = lost;
    this.#lostOpenBegin = lost?.begin;
  }

  /**
   * A writer session started at `lsn`: once reading reaches it, transactions begun below it and still open are
   * dead, and forgotten.
   */
  deadBelow(lsn: number): void {
    if (lsn <= this.#deadBelow) return;
    this.#deadBelow = lsn;
    // Learned after reading up to that session: everything before it has been read.
    if (this.#lastLsn >= lsn - 1) this.#forgetDead();
  }

  /** The LSN of the last record applied (0 before any). */
  get lastLsn(): number {
    return this.#lastLsn;
  }

  /** Whether a transaction is open (begun and neither committed nor aborted), or may be (see `lost`). */
  get anyOpen(): boolean {
    return this.#current !== undefined || this.#open.size > 0 || this.#lostOpenBegin !== undefined;
  }

  /** The begin of the transaction at the LSN missing where reading started, while it may be open (see `lost`). */
  get lostOpenBegin(): number | undefined {
    return this.#lostOpenBegin;
  }

  /** Begin LSNs of the transactions still open. */
  *openBegins(): IterableIterator<number> {
    if (this.#current !== undefined) yield this.#currentBegin;
    yield* this.#open.keys();
  }

  /** A new segment starts at `baseLsn`: its LSNs must lie above everything read before. */
  enterSegment(baseLsn: number, path: string): void {
    if (this.#lastLsn !== 0 && baseLsn <= this.#lastLsn) {
      throw baseNotAboveRecords(baseLsn, this.#lastLsn, path);
    }
    if (this.#lastLsn === 0 && baseLsn > this.#floor) this.#floor = baseLsn;
  }

  /**
   * Apply one record; the transaction it commits, if any, with its resume token: `restartLsn` is the lowest begin
   * of the transactions still open that can still commit, or the commit LSN + 1.
   * @throws {@link WalError} `WAL_MALFORMED`; the `lost` error (see the constructor).
   */
  apply(record: WalRecord<E>, path: string): CommittedTransaction<E> | undefined {
    const lsn = record.lsn;
    if (this.#lastLsn !== 0 && lsn <= this.#lastLsn) {
      throw lsnNotRising(lsn, this.#lastLsn, path);
    }
    if (lsn >= this.#deadBelow && this.#lastLsn < this.#deadBelow) this.#forgetDead();
    this.#lastLsn = lsn;
    switch (record.kind) {
      case "txBegin":
        // Interleaved transactions: the one begun before this one moves to the map.
        if (this.#current !== undefined) {
          this.#open.set(this.#currentBegin, this.#current);
          this.#openLowest.added(this.#currentBegin);
        }
        this.#current = [];
        this.#currentBegin = lsn;
        return undefined;
      case "checkpoint":
        if (record.snapshotLsn >= (this.#lostOpenBegin ?? Number.POSITIVE_INFINITY)) this.#lostOpenBegin = undefined;
        return undefined;
      case "mutation":
      case "mutationBatch": {
        const events = this.#bucket(record.txBeginLsn, lsn, path);
        if (events === undefined) return undefined;
        if (record.kind === "mutation") events.push(record.event);
        else if (this.#adoptBatches && events.length === 0 && events === this.#current) {
          this.#current = record.events as E[];
        } else for (const e of record.events) events.push(e);
        return undefined;
      }
      case "txCommit":
      case "txAbort": {
        const events = this.#bucket(record.txBeginLsn, lsn, path);
        if (events === undefined) return undefined;
        if (this.#current === events && this.#currentBegin === record.txBeginLsn) this.#current = undefined;
        else this.#open.delete(record.txBeginLsn);
        if (record.kind !== "txCommit") return undefined;
        return { beginLsn: record.txBeginLsn, commitLsn: lsn, events, restartLsn: this.#restartAfter(lsn) };
      }
    }
  }

  /**
   * Reading has reached the current session's records, so every record of the sessions before it has been read:
   * what they left open never commits. Forgotten, it holds no token back, now or after a reset.
   */
  #forgetDead(): void {
    if (this.#current !== undefined && this.#currentBegin < this.#deadBelow) this.#current = undefined;
    for (const begin of this.#open.keys()) if (begin < this.#deadBelow) this.#open.delete(begin);
    if ((this.#lostOpenBegin ?? Number.POSITIVE_INFINITY) < this.#deadBelow) this.#lostOpenBegin = undefined;
  }

  #restartAfter(commitLsn: number): number {
    let restart = commitLsn + 1;
    // What earlier sessions left open is forgotten once reading reaches the current one (`#forgetDead`); read
    // behind it, an earlier session's transaction open here may still commit before that session ended.
    if (this.#current !== undefined && this.#currentBegin < restart) restart = this.#currentBegin;
    if (this.#open.size > 0) restart = Math.min(restart, this.#openLowest.lowest);
    const lost = this.#lostOpenBegin;
    if (lost !== undefined && lost < restart) restart = lost;
    return restart;
  }

  #bucket(begin: number, lsn: number, path: string): E[] | undefined {
    if (this.#current !== undefined && this.#currentBegin === begin) return this.#current;
    const events = this.#open.size === 0 ? undefined : this.#open.get(begin);
    if (events !== undefined) return events;
    if (begin < this.#floor) {
      if (begin === this.#lost?.begin) throw this.#lost.error;
      return undefined;
    }
    throw missingBegin(lsn, begin, path);
  }
}
