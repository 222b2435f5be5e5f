/**
 * Tier F's oracle: the committed history of a log (every transaction that recovery kept, in commit order, across
 * crashes and truncation) and the delivery streams of its consumers, each checked against it: a consumer that
 * started at token `s` must have delivered exactly the transactions of the history with `beginLsn > s`, in commit
 * order, each once: no gap, no duplicate, nothing the history does not hold.
 *
 * A stream is cut into epochs: a new epoch starts when the consumer rebases (truncation overtook it, or its slot was
 * invalidated: it restarts from a snapshot at the checkpoint's LSN). Inside an epoch a consumer with a slot may
 * resume from an older position than it had delivered (its last confirmation was lost): the transactions after that
 * position are then delivered again, and must be the same ones (at-least-once, folded here).
 */

import { parseEvent } from "./ack-log.js";
import type { TierName, ViolationKind } from "./result.js";

/**
 * The name tier F reports under. `TierName` (result.ts) does not list "F" yet: add it there (and a row label in
 * report.ts) when wiring the tier into main.ts; this cast is the only place that depends on it.
 */
export const FOLLOW_TIER: TierName = "F";

/** A transaction as the oracle compares it: LSNs, the workload's id for it, its event count, whether it is whole. */
export interface TxSummary {
  readonly b: number;
  readonly c: number;
  readonly id: string;
  readonly n: number;
  /** Every event is `id:i` for i = 0, 1, ... in order (nothing missing, foreign or reordered). */
  readonly whole: boolean;
  /**
   * The resume token's restart point the reader handed out with it (absent where the reader gives none). Not part of
   * a transaction's identity: a follower leaves dead begins out of it, `readCommitted` does not.
   */
  readonly r?: number;
}

/** Summarise a transaction written with `eventOf(id, i, pad)` events. */
export function summarize(tx: {
  readonly beginLsn: number;
  readonly commitLsn: number;
  readonly restartLsn?: number;
  readonly events: readonly unknown[];
}): TxSummary {
  const parsed = tx.events.map(parseEvent);
  const id = parsed[0]?.id ?? "?";
  const whole = parsed.length > 0 && parsed.every((p, i) => p !== null && p.id === id && p.i === i);
  const summary = { b: tx.beginLsn, c: tx.commitLsn, id, n: tx.events.length, whole };
  return tx.restartLsn === undefined ? summary : { ...summary, r: tx.restartLsn };
}

export function sameTx(a: TxSummary, b: TxSummary): boolean {
  return a.b === b.b && a.c === b.c && a.id === b.id && a.n === b.n && a.whole === b.whole;
}

export function describeTx(t: TxSummary): string {
  return `${t.id}@${t.b}..${t.c}${t.whole ? "" : " (not whole)"}`;
}

/** A finding of the oracle. */
export interface Finding {
  readonly kind: ViolationKind;
  readonly message: string;
}

/** The committed history: transactions in commit order, appended as recoveries and clean closes settle them. */
export class History {
  readonly txs: TxSummary[] = [];
  readonly #byCommit = new Map<number, TxSummary>();
  readonly #ids = new Set<string>();

  /** The commit LSN of the last settled transaction (0 before any). */
  get last(): number {
    return this.txs.at(-1)?.c ?? 0;
  }

  at(commitLsn: number): TxSummary | undefined {
    return this.#byCommit.get(commitLsn);
  }

  hasId(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Append a settled transaction (its commit LSN above every earlier one). */
  push(t: TxSummary): void {
    this.txs.push(t);
    this.#byCommit.set(t.c, t);
    this.#ids.add(t.id);
  }

  /** The transactions a consumer starting at token `after` must deliver, in order. */
  after(token: number): TxSummary[] {
    return this.txs.filter((t) => t.b > token);
  }

  /**
   * The transactions committed after `commitLsn`, in order: what a consumer resuming from an exact token (that
   * commit LSN and its restart point) must deliver, whatever began before it.
   */
  committedAfter(commitLsn: number): TxSummary[] {
    return this.txs.filter((t) => t.c > commitLsn);
  }
}

interface Epoch {
  readonly start: number;
  readonly why: string;
  readonly list: TxSummary[];
  /** Index of the next expected redelivery (== list.length when none is pending). */
  cursor: number;
}

/** One consumer's deliveries, epoch by epoch. */
export class DeliveryStream {
  readonly name: string;
  readonly epochs: Epoch[] = [];
  /** Deliveries received, redeliveries included. */
  received = 0;
  redelivered = 0;

  constructor(name: string, start: number) {
    this.name = name;
    this.begin(start, "start");
  }

  get #current(): Epoch {
    return this.epochs.at(-1) as Epoch;
  }

  /** The resume token: the commit LSN of the last transaction delivered in this epoch, or its start. */
  get position(): number {
    return this.#current.list.at(-1)?.c ?? this.#current.start;
  }

  get start(): number {
    return this.#current.start;
  }

  /** The resume token's other half: the restart point of the last delivery of this epoch, or after its start. */
  get restart(): number {
    const last = this.#current.list.at(-1);
    return last === undefined ? this.#current.start + 1 : (last.r ?? last.c + 1);
  }

  /** Start over from `start` (a rebase on a snapshot at that LSN). */
  begin(start: number, why: string): void {
    this.epochs.push({ start, why, list: [], cursor: 0 });
  }

  /**
   * The consumer resumes at `token` inside the current epoch (a slot's position): the transactions delivered after
   * it will come again. Returns a problem when the token is not one the consumer had reached.
   */
  resumeAt(token: number): string | null {
    const e = this.#current;
    if (token === e.start) {
      e.cursor = 0;
      return null;
    }
    const i = e.list.findIndex((t) => t.c === token);
    if (i < 0) return `resumed at ${token}, which is neither its start ${e.start} nor a commit LSN it delivered`;
    e.cursor = i + 1;
    return null;
  }

  /** Record a delivery; returns a problem (a redelivery that differs, a commit LSN going back) or null. */
  deliver(t: TxSummary): Finding | null {
    const e = this.#current;
    this.received++;
    if (e.cursor < e.list.length) {
      const expected = e.list[e.cursor] as TxSummary;
      e.cursor++;
      this.redelivered++;
      if (!sameTx(expected, t)) {
        return {
          kind: "hole",
          message: `${this.name} redelivered ${describeTx(t)} where it had delivered ${describeTx(expected)} after the same position`,
        };
      }
      return null;
    }
    const prev = e.list.at(-1);
    e.list.push(t);
    e.cursor = e.list.length;
    if (prev !== undefined && t.c <= prev.c) {
      return {
        kind: "lsn",
        message: `${this.name} delivered ${describeTx(t)} after ${describeTx(prev)}: a duplicate or out of commit order`,
      };
    }
    if (t.b <= e.start) {
      return {
        kind: "lsn",
        message: `${this.name} delivered ${describeTx(t)}, which begins at or below its start ${e.start}`,
      };
    }
    return null;
  }

  /** Deliveries of the current epoch with a commit LSN above `lsn` (not yet settled by the history). */
  pendingAbove(lsn: number): TxSummary[] {
    return this.#current.list.filter((t) => t.c > lsn);
  }

  /** Drop the deliveries above `lsn` from the current epoch (a consumer that accepts retractions: `none` mode). */
  retractAbove(lsn: number): TxSummary[] {
    const e = this.#current;
    const keep = e.list.filter((t) => t.c <= lsn);
    const dropped = e.list.slice(keep.length);
    e.list.length = 0;
    e.list.push(...keep);
    e.cursor = e.list.length;
    return dropped;
  }

  /** Every delivery of every epoch (redeliveries folded). */
  count(): number {
    return this.epochs.reduce((n, e) => n + e.list.length, 0);
  }
}

/**
 * Check a stream against the history: every epoch's deliveries settled by it (commit LSN at or below
 * `history.last`) must be the history after the epoch's start, in order, from its first transaction; with
 * `complete`, the last epoch must also have delivered all of it. Returns the findings (at most one per epoch).
 */
export function checkStream(s: DeliveryStream, history: History, complete: boolean): Finding[] {
  const out: Finding[] = [];
  const settled = history.last;
  s.epochs.forEach((e, k) => {
    const expected = history.after(e.start);
    const list = e.list.filter((t) => t.c <= settled);
    const where = `${s.name} (epoch ${k} from ${e.start}, ${e.why})`;
    for (let i = 0; i < list.length; i++) {
      const got = list[i] as TxSummary;
      const want = expected[i];
      if (want !== undefined && sameTx(got, want)) continue;
      const inHistory = history.at(got.c);
      if (inHistory === undefined || !sameTx(inHistory, got)) {
        out.push({
          kind: "phantom",
          message: `${where} delivered ${describeTx(got)}, which is not in the committed history${inHistory === undefined ? "" : ` (there: ${describeTx(inHistory)})`}`,
        });
      } else if (want === undefined || got.c < want.c) {
        out.push({
          kind: "lsn",
          message: `${where} delivered ${describeTx(got)} twice or out of order (delivery ${i})`,
        });
      } else {
        out.push({
          kind: "hole",
          message: `${where} skipped ${describeTx(want)}: delivered ${describeTx(got)} next (delivery ${i})`,
        });
      }
      return;
    }
    if (complete && k === s.epochs.length - 1 && list.length < expected.length) {
      const missing = expected.slice(list.length);
      out.push({
        kind: "lost",
        message: `${where} never delivered ${missing.length} committed transaction(s), from ${describeTx(missing[0] as TxSummary)}`,
      });
    }
  });
  return out;
}
