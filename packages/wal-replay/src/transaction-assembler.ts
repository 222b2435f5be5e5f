/**
 * The record-by-record rules of replay: strictly increasing LSNs, the fence, transaction buckets keyed by their
 * begin LSN (several may be open at once), commit order out, aborted and unfinished work discarded, checkpoint
 * markers observed. A rule violation is `WAL_MALFORMED`, except a record above the fence that belongs to a
 * transaction begun at or below it: that is `WAL_FENCE_IN_TRANSACTION` (the log is fine, the fence is not).
 *
 * Beside the events, the assembler maps every transaction's extent ({@link TransactionSpans}), fenced records
 * included, so that the handle and the fence errors can tell which LSNs are safe fences.
 */

import type { WalError, WalRecord } from "@lora/wal-codec";
import { LowestOpenBegin } from "./lowest-open-begin.js";
import type { ReplayedTransaction } from "./replay-types.js";
import {
  baseNotAboveRecords,
  baseNotRising,
  duplicateBegin,
  fenceInTransaction,
  futureSnapshot,
  lsnBelowBase,
  lsnNotRising,
  missingBegin,
  snapshotRegressed,
} from "./structure-errors.js";
import { TransactionSpans } from "./transaction-spans.js";

export class TransactionAssembler<E> {
  readonly #fence: number;
  /**
   * Lenient: a record whose begin is not open is skipped instead of failing (only its extent is mapped). Used to
   * map a log's transaction boundaries when a fence error must name a fence that works.
   */
  readonly #lenient: boolean;
  readonly #allowTruncatedHistory: boolean;
  /** Give every committed transaction its resume token (`restartLsn`), as the change feed's readers do. */
  readonly #tokens: boolean;
  /**
   * A batch record's events array is the decoder's fresh one, nowhere else referenced (see `returnsFreshBatches`):
   * a transaction's first batch becomes its events array instead of being copied into one.
   */
  readonly #adoptBatches: boolean;
  /** Transactions skipped because their begin was truncated away (with `allowTruncatedHistory`). */
  truncatedTransactions = 0;
  readonly spans = new TransactionSpans();
  /*
   * Open extents (fenced transactions included): begin LSN -> LSN of its latest record. As with the buckets, the
   * most recent one lives in fields.
   */
  readonly #extents = new Map<number, number>();
  #extentBegin = -1;
  #extentLast = 0;
  /** Base LSN of the first segment minus one: the lowest fence the retained log can serve. */
  #oldestFence: number | undefined;
  /**
   * The directory's oldest segment's base LSN minus one, when the walk started at a later segment (a seek to the
   * fence): only a transaction begun at or below it was truncated away; see {@link TransactionAssembler.retainedFrom}.
   */
  #historyFloor: number | undefined;
  /** The transaction begun at the one LSN missing before the retained log, and its error (see `lostBegin`). */
  #lost: { readonly begin: number; readonly error: WalError } | undefined;
  /** Its begin while it may still be open, so that tokens restart there (see `lostBegin`); undefined once known not. */
  #lostOpenBegin: number | undefined;
  #newestSnapshot: number | null = null;
  /*
   * The open transactions. Nearly always at most one is open (every `commitTx`, and any writer that does not
   * interleave), so the most recently begun one lives in two fields and only the others in the map: a record of the
   * common layout then costs a comparison instead of a hash lookup. Invariant: `#current` is undefined or holds a
   * begin LSN that is not a key of `#pending`.
   */
  readonly #pending = new Map<number, E[]>();
  /** The lowest key of `#pending`, without looking at every open transaction at each commit. */
  readonly #pendingLowest = new LowestOpenBegin(this.#pending);
  #current: E[] | undefined;
  #currentLsn = 0;
  #lastLsn = 0;
  #maxLsn = 0;
  #previousBase: number | undefined;
  #checkpointObserved: number | null = null;
  committed = 0;
  aborted = 0;
  records = 0;

  /**
   * @param allowTruncatedHistory the caller accepts a log whose oldest segments were truncated away below its fence:
   *   the records of a transaction begun before the retained log are skipped (it cannot be replayed whole).
   * @param tokens give every committed transaction a `restartLsn` (see `CommittedTransaction`).
   * @param adoptBatches batch records carry arrays the assembler may keep and extend (the codec returns fresh ones).
   */
  constructor(fence: number, lenient = false, allowTruncatedHistory = false, tokens = false, adoptBatches = false) {
    this.#fence = fence;
    this.#lenient = lenient;
    this.#allowTruncatedHistory = allowTruncatedHistory;
    this.#tokens = tokens;
    this.#adoptBatches = adoptBatches;
  }

  /**
   * The walk started at a later segment than the directory's oldest, whose base LSN minus one is `oldestFence`: a
   * transaction begun between the two is in the log, so with `allowTruncatedHistory` it is still judged by the
   * fence (as a walk from the oldest segment would) rather than skipped as truncated.
   */
  retainedFrom(oldestFence: number): void {
    this.#historyFloor = oldestFence;
  }

  /**
   * The walk reads on with the one LSN `begin` missing before the retained log (`isLoneMissingLsn`): a record of a
   * transaction begun there is not skipped as truncated but throws `error`, so that transaction is never lost
   * silently. Until a checkpoint marker whose snapshot is at or above `begin` is read, such a transaction may still
   * be open, and every token restarts at `begin` at the latest: a consumer that resumed from the token of a
   * transaction delivered before the first record of it would otherwise skip it for good. (A marker's snapshot never
   * lies inside a transaction, so one begun at `begin` ended below the marker, where its records were read.)
   */
  lostBegin(begin: number, error: WalError): void {
    this.#lost = { begin, error };
    this.#lostOpenBegin = begin;
  }

  /** The lowest fence the retained log can serve: the first segment's base LSN minus one (0 before any segment). */
  get oldestFence(): number {
    return this.#oldestFence ?? 0;
  }

  /** The newest snapshot LSN of any checkpoint marker read, fenced ones included. */
  get newestSnapshot(): number | null {
    return this.#newestSnapshot;
  }

  /**
   * Map the extents of the transactions still open at the end of the log (they will never finish: a later writer
   * cannot continue them) and return the spans. Call once, after the last record.
   */
  finishSpans(): TransactionSpans {
    if (this.#extentBegin >= 0) this.#markExtent(this.#extentBegin, this.#extentLast);
    for (const [begin, last] of this.#extents) this.#markExtent(begin, last);
    this.#extentBegin = -1;
    this.#extents.clear();
    return this.spans;
  }

  #markExtent(begin: number, last: number): void {
    // A transaction begun before the retained log: only the part the log can still be fenced in matters.
    this.spans.markInside(Math.max(begin, this.#oldestFence ?? 0), last - 1);
  }

  /**
   * Record `lsn` as the latest record of transaction `begin`; closes the extent when `closes`. Returns whether the
   * transaction is known: begun in the log (fenced or not) and still open, or begun before the retained log.
   */
  #extend(begin: number, lsn: number, closes: boolean): boolean {
    if (begin === this.#extentBegin) {
      if (closes) {
        this.#markExtent(begin, lsn);
        this.#extentBegin = -1;
      } else this.#extentLast = lsn;
      return true;
    }
    // A record of a transaction begun before the retained log counts too; one naming a begin that never was does
    // not (replay rejects it above the fence).
    if (!this.#extents.has(begin) && !(begin > 0 && begin <= (this.#oldestFence ?? 0))) return false;
    if (closes) {
      this.#extents.delete(begin);
      this.#markExtent(begin, lsn);
    } else this.#extents.set(begin, lsn);
    return true;
  }

  #openExtent(begin: number): void {
    if (this.#extentBegin >= 0) this.#extents.set(this.#extentBegin, this.#extentLast);
    this.#extentBegin = begin;
    this.#extentLast = begin;
  }

  /**
   * A record above the fence whose transaction has no bucket: the fence's fault when the transaction is known and
   * began at or below the fence, the log's otherwise. `undefined` (skip the record) in lenient mode.
   */
  #missingBegin(
    what: string,
    record: { lsn: number; txBeginLsn: number; kind: WalRecord<E>["kind"] },
    known: boolean,
    path: string,
  ): WalError | undefined {
    if (this.#lenient) return undefined;
    const begin = record.txBeginLsn;
    if (begin === this.#lost?.begin) return this.#lost.error;
    if (known && this.#allowTruncatedHistory && begin <= (this.#historyFloor ?? this.#oldestFence ?? 0)) {
      // Begun before the retained log: the caller opted in to the gap, and a partial transaction is never replayed.
      if (record.kind === "txCommit" || record.kind === "txAbort") this.truncatedTransactions++;
      return undefined;
    }
    if (known && begin <= this.#fence) return fenceInTransaction(this.#fence, begin, record.lsn, path);
    return missingBegin(what, record.lsn, begin, path);
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

  /** The lowest begin LSN of the transactions open now (Infinity when none). */
  #lowestOpenBegin(): number {
    const lowest = this.#current === undefined ? Number.POSITIVE_INFINITY : this.#currentLsn;
    return this.#pending.size > 0 ? Math.min(lowest, this.#pendingLowest.lowest) : lowest;
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

  /** Check a segment's base LSN against what came before (docs/format.md, 'Replay rules', per segment). */
  enterSegment(baseLsn: number, path: string): void {
    if (this.#previousBase !== undefined && baseLsn <= this.#previousBase) {
      throw baseNotRising(baseLsn, this.#previousBase, path);
    }
    if (this.#lastLsn !== 0 && baseLsn <= this.#lastLsn) {
      throw baseNotAboveRecords(baseLsn, this.#lastLsn, path);
    }
    this.#previousBase = baseLsn;
    this.#oldestFence ??= baseLsn - 1;
  }

  /**
   * Apply one record. Returns the transaction it commits, if any.
   * @throws {@link WalError} `WAL_MALFORMED`.
   */
  apply(record: WalRecord<E>, baseLsn: number, path: string): ReplayedTransaction<E> | undefined {
    const lsn = record.lsn;
    if (lsn < baseLsn) throw lsnBelowBase(lsn, baseLsn, path);
    if (this.#lastLsn !== 0 && lsn <= this.#lastLsn) {
      throw lsnNotRising(lsn, this.#lastLsn, path);
    }
    this.#lastLsn = lsn;
    if (lsn > this.#maxLsn) this.#maxLsn = lsn;
    this.records++;

    let known = true;
    switch (record.kind) {
      case "txBegin":
        this.#openExtent(lsn);
        break;
      case "checkpoint":
        if (this.#newestSnapshot === null || record.snapshotLsn > this.#newestSnapshot) {
          this.#newestSnapshot = record.snapshotLsn;
        }
        if (record.snapshotLsn >= (this.#lostOpenBegin ?? Number.POSITIVE_INFINITY)) this.#lostOpenBegin = undefined;
        break;
      default:
        known = this.#extend(record.txBeginLsn, lsn, record.kind === "txCommit" || record.kind === "txAbort");
    }

    if (lsn <= this.#fence) {
      // Already in the caller's snapshot. A fenced commit or abort still closes a bucket opened above the fence.
      if (record.kind === "txCommit" || record.kind === "txAbort") this.#close(record.txBeginLsn);
      return undefined;
    }

    switch (record.kind) {
      case "txBegin":
        if (this.#bucket(lsn) !== undefined) throw duplicateBegin(lsn, path);
        // Interleaved transactions: the one begun before this moves to the map.
        if (this.#current !== undefined) {
          this.#pending.set(this.#currentLsn, this.#current);
          this.#pendingLowest.added(this.#currentLsn);
        }
        this.#current = [];
        this.#currentLsn = lsn;
        return undefined;
      case "mutation":
      case "mutationBatch": {
        const bucket = this.#bucket(record.txBeginLsn);
        if (bucket === undefined) {
          const error = this.#missingBegin(
            record.kind === "mutation" ? "mutation" : "mutation batch",
            record,
            known,
            path,
          );
          if (error === undefined) return undefined;
          throw error;
        }
        if (record.kind === "mutation") bucket.push(record.event);
        // Readonly to the record's other readers; the decoder made it for this record alone (`#adoptBatches`).
        else if (this.#adoptBatches && bucket.length === 0 && bucket === this.#current) {
          this.#current = record.events as E[];
        } else for (const event of record.events) bucket.push(event);
        return undefined;
      }
      case "txCommit": {
        const events = this.#close(record.txBeginLsn);
        if (events === undefined) {
          const error = this.#missingBegin("commit", record, known, path);
          if (error === undefined) return undefined;
          throw error;
        }
        this.committed++;
        if (this.#tokens) {
          // The transactions still open here may commit later: a reader resuming after this one must read their
          // begins again, so the token restarts at the lowest of them.
          const restartLsn = Math.min(
            lsn + 1,
            this.#lowestOpenBegin(),
            this.#lostOpenBegin ?? Number.POSITIVE_INFINITY,
          );
          return { beginLsn: record.txBeginLsn, commitLsn: lsn, events, restartLsn } as ReplayedTransaction<E>;
        }
        return { beginLsn: record.txBeginLsn, commitLsn: lsn, events };
      }
      case "txAbort":
        if (this.#close(record.txBeginLsn) === undefined) {
          const error = this.#missingBegin("abort", record, known, path);
          if (error === undefined) return undefined;
          throw error;
        }
        this.aborted++;
        return undefined;
      case "checkpoint": {
        const snapshot = record.snapshotLsn;
        if (snapshot > lsn && !this.#lenient) throw futureSnapshot(lsn, snapshot, path);
        if (this.#checkpointObserved !== null && snapshot < this.#checkpointObserved && !this.#lenient) {
          throw snapshotRegressed(lsn, snapshot, this.#checkpointObserved, path);
        }
        this.#checkpointObserved = snapshot;
        return undefined;
      }
    }
  }
}
