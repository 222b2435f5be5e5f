/**
 * Tier R's judgement of a restore of the newest archive (newestRestoreFindings): a prefix of the committed history
 * that holds every commit at or below the archived line, nothing else.
 */

import { describe, expect, it } from "vitest";
import { summarize, type TxSummary } from "./follow-history.js";
import { newestRestoreFindings } from "./tier-r.js";

const tx = (id: string, b: number): TxSummary => summarize({ beginLsn: b, commitLsn: b + 2, events: [`${id}:0`] });
const t0 = tx("t0", 1); // 1..3
const t1 = tx("t1", 4); // 4..6
const t2 = tx("t2", 7); // 7..9
const committed = [t0, t1, t2];

const kinds = (got: TxSummary[], archived: number) =>
  newestRestoreFindings(got, committed, archived).map((f) => f.kind);

describe("tier R's check of the newest restore", () => {
  it("every commit up to the archived line, and any later prefix, passes", () => {
    expect(kinds([t0, t1], 6)).toEqual([]);
    expect(kinds([t0, t1, t2], 6)).toEqual([]);
    expect(kinds([], 2)).toEqual([]);
  });

  it("the commit exactly at the archived line is owed: without it the restore lost it", () => {
    expect(kinds([t0], 6)).toEqual(["lost"]);
    expect(kinds([], 3)).toEqual(["lost"]);
  });

  it("a skipped or foreign transaction is a finding", () => {
    expect(kinds([t0, t2], 9)).toEqual(["hole", "hole"]);
    expect(kinds([t0, { ...t1, id: "t9" }], 3)).toEqual(["phantom"]);
    expect(kinds([t0, { ...t1, n: 2 }], 3)).toEqual(["phantom"]);
    expect(kinds([t0, t1, t2, tx("t3", 10)], 9)).toEqual(["phantom"]);
  });
});
