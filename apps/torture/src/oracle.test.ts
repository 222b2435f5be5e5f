/**
 * The oracle (oracle.ts) on hand-made histories: every way a recovered history can break I1-I4 is a finding, and a
 * history that keeps the rules is not. Each case is one a weaker oracle would let through while the tiers stay green.
 */

import { describe, expect, it } from "vitest";
import { type AttemptedTx, checkHistory, type Expectation, type RecoveredTx } from "./oracle.js";

/** Transaction `id` of `n` events at LSNs begin, begin+1 .. begin+n (events), begin+n+1 (commit). */
function tx(id: string, begin: number, n = 1): AttemptedTx {
  const events = Array.from({ length: n }, (_, i) => `${id}:${i}`);
  return { id, beginLsn: begin, commitLsn: begin + n + 1, events, viaCommitTx: true };
}

const t0 = tx("t0", 1); // 1..3
const t1 = tx("t1", 4, 2); // 4..7
const t2 = tx("t2", 8); // 8..10
const attempted = [t0, t1, t2];

const recovered = (...txs: AttemptedTx[]): RecoveredTx[] =>
  txs.map((t) => ({ beginLsn: t.beginLsn, commitLsn: t.commitLsn, events: [...t.events] }));
const exp = (requiredLsn: number, fence = 0): Expectation => ({ attempted, fence, requiredLsn });
const kinds = (r: readonly RecoveredTx[], e: Expectation) => checkHistory(r, e).findings.map((f) => f.kind);

describe("the oracle", () => {
  it("accepts any prefix that holds every commit at or below the acknowledged LSN", () => {
    expect(kinds(recovered(t0, t1, t2), exp(10))).toEqual([]);
    expect(kinds(recovered(t0, t1), exp(7))).toEqual([]);
    expect(kinds(recovered(t0), exp(6))).toEqual([]); // t1 commits at 7: not acknowledged
    expect(checkHistory(recovered(t0, t1), exp(7))).toMatchObject({ required: 2, matched: 2 });
  });

  it("a commit whose commit LSN is exactly the acknowledged LSN is required: missing, it is lost", () => {
    const v = checkHistory(recovered(t0), exp(7));
    expect(v.findings.map((f) => [f.kind, f.count])).toEqual([["lost", 1]]);
    expect(v.required).toBe(2);
    expect(kinds(recovered(), exp(3))).toEqual(["lost"]);
  });

  it("a recovered transaction with the right LSNs and count but other events is not the attempted one", () => {
    const swapped = recovered(t0, t1);
    swapped[1] = { ...(swapped[1] as RecoveredTx), events: ["t1:1", "t1:0"] };
    expect(kinds(swapped, exp(3))).toEqual(["phantom"]);
    expect(kinds(swapped, exp(7))).toEqual(["phantom", "lost"]);
  });

  it("a transaction missing events (not whole) or recovered at another begin LSN is a phantom", () => {
    const partial = recovered(t0, t1);
    partial[1] = { ...(partial[1] as RecoveredTx), events: ["t1:0"] };
    expect(kinds(partial, exp(3))).toEqual(["phantom"]);
    const moved = recovered(t0, t1);
    moved[1] = { ...(moved[1] as RecoveredTx), beginLsn: 5 };
    expect(kinds(moved, exp(3))).toEqual(["phantom"]);
  });

  it("a transaction past the last attempted one, or recovered twice, is a finding", () => {
    const extra = [...recovered(t0, t1, t2), { beginLsn: 11, commitLsn: 13, events: ["t3:0"] }];
    expect(kinds(extra, exp(10))).toEqual(["phantom"]);
    const twice = recovered(t0, t0);
    expect(kinds(twice, exp(3))).toEqual(["lsn", "phantom"]);
  });

  it("commit LSNs that do not increase, or a begin not below its commit, are LSN findings", () => {
    const backwards = recovered(t1, t0);
    expect(kinds(backwards, exp(0))).toContain("lsn");
    const inverted = [{ beginLsn: 3, commitLsn: 3, events: ["t0:0"] }];
    expect(kinds(inverted, exp(0))).toContain("lsn");
  });

  it("a later commit without an earlier one is a hole", () => {
    expect(kinds(recovered(t0, t2), exp(3))).toEqual(["hole"]);
    expect(kinds(recovered(t0, t2), exp(10))).toEqual(["hole", "lost"]);
  });

  it("transactions that began at or below the fence are the snapshot's, not the log's", () => {
    expect(kinds(recovered(t1, t2), exp(10, 3))).toEqual([]);
    expect(kinds(recovered(t2), exp(10, 4))).toEqual([]); // t1 began at the fence
    expect(kinds(recovered(t0, t1, t2), exp(10, 3))).toEqual(["phantom", "lost"]); // t0 is the snapshot's
    expect(kinds(recovered(t2), exp(10, 3))).toEqual(["hole", "lost"]);
  });
});
