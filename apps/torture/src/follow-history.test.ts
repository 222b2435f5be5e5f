/**
 * Tier F's oracle (follow-history.ts) on hand-made delivery streams: a gap, a duplicate, a reordered or partial
 * transaction, a redelivery that differs and a stream that stops short are each a finding.
 */

import { describe, expect, it } from "vitest";
import { checkStream, DeliveryStream, History, summarize, type TxSummary } from "./follow-history.js";

/** Transaction `id` of `n` events at begin `b`, committed at b + n + 1, as a follower would hand it over. */
function tx(id: string, b: number, n = 1, events?: string[]): TxSummary {
  return summarize({
    beginLsn: b,
    commitLsn: b + n + 1,
    events: events ?? Array.from({ length: n }, (_, i) => `${id}:${i}`),
  });
}

const t0 = tx("t0", 1); // 1..3
const t1 = tx("t1", 4, 3); // 4..8
const t2 = tx("t2", 9); // 9..11

function history(...txs: TxSummary[]): History {
  const h = new History();
  for (const t of txs) h.push(t);
  return h;
}

/** A stream from `start` that delivered `txs` (the per-delivery findings returned). */
function stream(start: number, ...txs: TxSummary[]): { s: DeliveryStream; found: string[] } {
  const s = new DeliveryStream("c", start);
  const found: string[] = [];
  for (const t of txs) {
    const f = s.deliver(t);
    if (f !== null) found.push(f.kind);
  }
  return { s, found };
}

const kinds = (s: DeliveryStream, h: History, complete: boolean) => checkStream(s, h, complete).map((f) => f.kind);

describe("tier F's oracle", () => {
  it("a transaction is whole only with every event of it, in order", () => {
    expect(t1.whole).toBe(true);
    expect(tx("t1", 4, 3, ["t1:1", "t1:0", "t1:2"]).whole).toBe(false);
    expect(tx("t1", 4, 3, ["t1:0", "t1:2", "t1:2"]).whole).toBe(false);
    expect(tx("t1", 4, 3, ["t1:0", "x:1", "t1:2"]).whole).toBe(false);
  });

  it("the whole history after the start, in order, passes", () => {
    const { s, found } = stream(0, t0, t1, t2);
    expect(found).toEqual([]);
    expect(kinds(s, history(t0, t1, t2), true)).toEqual([]);
    expect(kinds(stream(3, t1, t2).s, history(t0, t1, t2), true)).toEqual([]);
  });

  it("a delivered transaction with fewer events than the committed one is not in the history", () => {
    const short = tx("t1", 4, 3, ["t1:0", "t1:1"]);
    const partial = { ...short, c: t1.c }; // same LSNs and id, two of its three events (a prefix: still "whole")
    expect(partial.whole).toBe(true);
    expect(kinds(stream(0, t0, partial, t2).s, history(t0, t1, t2), false)).toEqual(["phantom"]);
  });

  it("the last settled delivery is checked too", () => {
    const wrong = { ...t2, id: "t9" };
    expect(kinds(stream(0, t0, t1, wrong).s, history(t0, t1, t2), false)).toEqual(["phantom"]);
  });

  it("a transaction delivered twice, or one at or below the start, is found as it is delivered", () => {
    expect(stream(0, t0, t1, t1).found).toEqual(["lsn"]);
    expect(stream(1, t0).found).toEqual(["lsn"]); // t0 begins at the start: it is in the consumer's snapshot
  });

  it("a skipped transaction is a hole; a complete stream that stops one short lost it", () => {
    expect(kinds(stream(0, t0, t2).s, history(t0, t1, t2), false)).toEqual(["hole"]);
    expect(kinds(stream(0, t0, t1).s, history(t0, t1, t2), false)).toEqual([]);
    expect(kinds(stream(0, t0, t1).s, history(t0, t1, t2), true)).toEqual(["lost"]);
  });

  it("after a resume from a delivered token, the redelivered transactions must be the same ones", () => {
    const { s } = stream(0, t0, t1);
    expect(s.resumeAt(t0.c)).toBeNull();
    expect(s.deliver(t1)).toBeNull();
    expect(s.redelivered).toBe(1);
    expect(s.resumeAt(t0.c)).toBeNull();
    expect(s.deliver(t2)?.kind).toBe("hole");
    expect(s.resumeAt(7)).toMatch(/neither its start 0 nor a commit LSN it delivered/);
  });
});
