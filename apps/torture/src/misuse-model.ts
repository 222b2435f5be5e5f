/**
 * The misuse tier's model of one log, kept independently of the handle: every record the harness got back from an
 * accepted call (transactions with their extents, checkpoint markers), the store's snapshot (the fence), the floor
 * markers may not regress below, and the acknowledgement watermarks. From it the tier predicts, before each call,
 * whether the handle must accept or refuse it (and with which code), which fences an open must accept, and what a
 * reopen must recover.
 *
 * The rules it encodes (issue 12): a checkpoint snapshot or truncation fence `s` is refused when `s` is below the
 * floor (the fence the handle opened with, raised by every marker in the log; truncation below the floor is
 * allowed), below the oldest segment's base minus one (the log no longer holds the records after it; truncation
 * there is allowed: it has nothing to delete), not yet written (`s >= nextLsn`), or inside a transaction (one open
 * in this handle with its begin at or below `s`, or `s` in `[begin, last - 1]` of a finished or abandoned one,
 * `last` being its commit, abort or last surviving record). An open at fence `f` fails `WAL_FENCE_TOO_LOW` below
 * the oldest segment's base minus one, else `WAL_FENCE_IN_TRANSACTION` inside a transaction, else opens.
 */

import type { AttemptedTx, Expectation } from "./oracle.js";

export type TxState = "open" | "committed" | "aborted" | "abandoned";

export interface ModelTx {
  readonly id: string;
  readonly begin: number;
  /** LSN of its latest record that exists (the begin at first). */
  last: number;
  /** LSN of its commit or abort record, once written. */
  end: number | undefined;
  state: TxState;
  readonly viaCommitTx: boolean;
  readonly events: string[];
  /** LSNs of its records, in order (for pruning after a crash). */
  readonly lsns: number[];
}

export interface MarkerRecord {
  readonly lsn: number;
  readonly snapshot: number;
}

/** Why a fence is refused, or `ok`. */
export type FenceVerdict = "ok" | "regress" | "truncated" | "unwritten" | "inside";

/** What an open at a fence must do. */
export type OpenVerdict =
  | { readonly kind: "ok" }
  | { readonly kind: "tooLow"; readonly usable: number }
  | { readonly kind: "inTx"; readonly usable: number | undefined };

export interface MisuseSnapshot {
  readonly fence: number;
  readonly durableLsn: number;
  readonly writtenLsn: number;
}

export class MisuseModel {
  /** Every transaction with a record in the log, by begin LSN. */
  readonly txs = new Map<number, ModelTx>();
  readonly markers: MarkerRecord[] = [];
  /** The store's snapshot: a reopen uses it as the fence; the store holds exactly what committed at or below it. */
  fence: number;
  /** The lowest snapshot a new marker may carry (the open fence raised by every marker). */
  floor: number;
  /** The oldest segment's base LSN minus one, as the directory shows it after each truncation and open. */
  oldestFence = 0;
  durableLsn = 0;
  writtenLsn = 0;
  /** The LSN the handle must give the next record. */
  nextLsn: number;
  /** Highest LSN of a record in the log (0 when none). */
  maxRecordLsn = 0;
  /** Begin LSNs that were open in an earlier handle (closed or crashed since). */
  readonly staleIds: number[] = [];
  #nextId = 0;

  constructor(fence: number, nextLsn: number) {
    this.fence = fence;
    this.floor = fence;
    this.nextLsn = nextLsn;
  }

  newId(): string {
    return `t${this.#nextId++}`;
  }

  // ---- what accepted calls wrote --------------------------------------------------------------------------

  #record(lsn: number): void {
    if (lsn > this.maxRecordLsn) this.maxRecordLsn = lsn;
    if (lsn + 1 > this.nextLsn) this.nextLsn = lsn + 1;
  }

  commitTx(id: string, begin: number, events: readonly string[]): void {
    this.txs.set(begin, {
      id,
      begin,
      last: begin + 2,
      end: begin + 2,
      state: "committed",
      viaCommitTx: true,
      events: [...events],
      lsns: [begin, begin + 1, begin + 2],
    });
    this.#record(begin + 2);
  }

  begin(id: string, lsn: number): void {
    this.txs.set(lsn, {
      id,
      begin: lsn,
      last: lsn,
      end: undefined,
      state: "open",
      viaCommitTx: false,
      events: [],
      lsns: [lsn],
    });
    this.#record(lsn);
  }

  append(begin: number, lsn: number, events: readonly string[]): void {
    const tx = this.#open(begin);
    tx.events.push(...events);
    tx.lsns.push(lsn);
    tx.last = lsn;
    this.#record(lsn);
  }

  finish(begin: number, lsn: number, how: "committed" | "aborted"): void {
    const tx = this.#open(begin);
    tx.lsns.push(lsn);
    tx.last = lsn;
    tx.end = lsn;
    tx.state = how;
    this.#record(lsn);
  }

  marker(lsn: number, snapshot: number): void {
    this.markers.push({ lsn, snapshot });
    if (snapshot > this.floor) this.floor = snapshot;
    this.#record(lsn);
  }

  #open(begin: number): ModelTx {
    const tx = this.txs.get(begin);
    if (tx === undefined || tx.state !== "open") throw new Error(`model: transaction ${begin} is not open`);
    return tx;
  }

  /** True when `id` names a transaction open in the current handle (what append/commit/abort accept). */
  isOpen(id: unknown): boolean {
    return typeof id === "number" && this.txs.get(id)?.state === "open";
  }

  openTxs(): ModelTx[] {
    return [...this.txs.values()].filter((t) => t.state === "open");
  }

  /** The store takes a snapshot at `s` (before the marker or truncation that follows it): never backwards. */
  snapshotAt(s: number): void {
    if (s > this.fence) this.fence = s;
  }

  written(lsn: number): void {
    if (lsn > this.writtenLsn) this.writtenLsn = lsn;
  }

  durable(lsn: number): void {
    this.written(lsn);
    if (lsn > this.durableLsn) this.durableLsn = lsn;
  }

  // ---- predictions -------------------------------------------------------------------------------------------

  /** Inside a transaction as the live handle sees it: open ones (begin ≤ s) count whole. */
  insideForHandle(s: number): boolean {
    for (const tx of this.txs.values()) {
      if (tx.begin > s) continue;
      if (tx.state === "open" || s < tx.last) return true;
    }
    return false;
  }

  /** Inside a transaction as replay sees the log: `begin ≤ s < last record`. */
  insideForLog(s: number): boolean {
    for (const tx of this.txs.values()) if (tx.begin <= s && s < tx.last) return true;
    return false;
  }

  /** What `checkpointMarker(s)` (and `checkpoint(s)`) must do. */
  markerVerdict(s: number): FenceVerdict {
    if (s < this.oldestFence) return "truncated";
    if (s < this.floor) return "regress";
    if (s >= this.nextLsn) return "unwritten";
    if (this.insideForHandle(s)) return "inside";
    return "ok";
  }

  /** What `truncateUpTo(f)` must do: below the floor or the oldest fence (and written) anything goes. */
  truncateVerdict(f: number): FenceVerdict {
    if (f < Math.max(this.floor, this.oldestFence) && f < this.nextLsn) return "ok";
    return this.markerVerdict(f);
  }

  /** The fences at which a snapshot may be marked now, at or below `top`, highest first (for maximality checks). */
  highestValidAtOrBelow(top: number): number | undefined {
    for (let s = Math.min(top, this.nextLsn - 1); s >= this.floor; s--) if (this.markerVerdict(s) === "ok") return s;
    return undefined;
  }

  /** What `Wal.open` at fence `f` must do on the closed log whose oldest segment starts after `oldestFence`. */
  openVerdict(f: number, oldestFence: number): OpenVerdict {
    if (f < oldestFence) {
      let s = oldestFence;
      while (this.insideForLog(s)) s++;
      return { kind: "tooLow", usable: s };
    }
    if (!this.insideForLog(f)) return { kind: "ok" };
    for (let s = f - 1; s >= oldestFence; s--) if (!this.insideForLog(s)) return { kind: "inTx", usable: s };
    return { kind: "inTx", usable: undefined };
  }

  /** Committed transactions in commit order, as the oracle wants them. */
  attempted(): AttemptedTx[] {
    const out: AttemptedTx[] = [];
    for (const tx of this.txs.values()) {
      if (tx.state !== "committed") continue;
      out.push({
        id: tx.id,
        beginLsn: tx.begin,
        commitLsn: tx.end as number,
        events: tx.events,
        viaCommitTx: tx.viaCommitTx,
      });
    }
    return out.sort((a, b) => a.commitLsn - b.commitLsn);
  }

  /** A clean reopen at `fence` recovers every committed transaction above it, exactly. */
  cleanExpectation(fence: number): Expectation {
    return { attempted: this.attempted(), fence, requiredLsn: Number.MAX_SAFE_INTEGER };
  }

  snapshot(): MisuseSnapshot {
    return { fence: this.fence, durableLsn: this.durableLsn, writtenLsn: this.writtenLsn };
  }

  /** A crash image taken at `snap`: fsync-covered commits always, written ones too when every unsynced op was kept. */
  crashExpectation(snap: MisuseSnapshot, processCrash: boolean): Expectation {
    return {
      attempted: this.attempted(),
      fence: snap.fence,
      requiredLsn: processCrash ? Math.max(snap.durableLsn, snap.writtenLsn) : snap.durableLsn,
    };
  }

  /** True when a committed transaction above `fence` carries events (a payload a wrong codec must fail to read). */
  hasPayloadAbove(fence: number): boolean {
    for (const tx of this.txs.values())
      if (tx.state === "committed" && tx.begin > fence && tx.events.length > 0) return true;
    return false;
  }

  // ---- handle changes ---------------------------------------------------------------------------------------

  /**
   * The handle is gone (closed, or crashed leaving records up to `maxLsn`): records above `maxLsn` are gone and
   * open transactions are abandoned (a new handle cannot continue them). Everything left is durable.
   */
  handleGone(maxLsn: number): void {
    for (const [begin, tx] of [...this.txs]) {
      if (tx.state === "open") this.staleIds.push(begin);
      if (begin > maxLsn) {
        this.txs.delete(begin);
        continue;
      }
      while ((tx.lsns.at(-1) as number) > maxLsn) tx.lsns.pop();
      tx.last = tx.lsns.at(-1) as number;
      if (tx.end !== undefined && tx.end > maxLsn) tx.end = undefined;
      if (tx.state === "open" || tx.end === undefined) tx.state = "abandoned";
    }
    for (let i = this.markers.length - 1; i >= 0; i--) {
      if ((this.markers[i] as MarkerRecord).lsn > maxLsn) this.markers.splice(i, 1);
    }
    this.maxRecordLsn = Math.min(this.maxRecordLsn, maxLsn);
    this.durableLsn = maxLsn;
    this.writtenLsn = maxLsn;
  }

  /**
   * A new handle opened at the store's fence and resumes at `nextLsn`: its floor is the fence raised by the markers;
   * `oldestFence` is the directory's (a crash may have brought back a segment whose removal was not durable).
   */
  opened(nextLsn: number, oldestFence: number): void {
    this.oldestFence = oldestFence;
    this.floor = this.fence;
    for (const m of this.markers) if (m.snapshot > this.floor) this.floor = m.snapshot;
    this.nextLsn = nextLsn;
  }
}
