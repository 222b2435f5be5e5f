/**
 * Tier A's model (model.ts): which acknowledgement watermark a crash image must honour. Every image must keep what a
 * resolved fsync covered; the image of a process crash (every unsynced operation kept) must also keep what was
 * handed to the OS.
 */

import { describe, expect, it } from "vitest";
import { Model } from "./model.js";

describe("tier A's model", () => {
  it("a power loss requires the durable LSN, a process crash the written one too", () => {
    const m = new Model(0);
    m.written(9);
    m.durable(4);
    const snap = m.snapshot();
    expect(m.expectation(snap, false).requiredLsn).toBe(4);
    expect(m.expectation(snap, true).requiredLsn).toBe(9);
  });

  it("each fsync that resolves raises the durable LSN, by one record too, and never lowers it", () => {
    const m = new Model(0);
    for (const lsn of [3, 4, 5]) {
      m.durable(lsn);
      expect(m.snapshot()).toEqual({ durableLsn: lsn, writtenLsn: lsn, fence: 0 });
    }
    m.durable(2);
    m.written(1);
    expect(m.snapshot()).toEqual({ durableLsn: 5, writtenLsn: 5, fence: 0 });
  });

  it("the snapshot is taken when the crash image is, not when it is checked", () => {
    const m = new Model(2);
    m.durable(4);
    const snap = m.snapshot();
    m.durable(8);
    m.fence = 6;
    expect(m.expectation(snap, true)).toMatchObject({ fence: 2, requiredLsn: 4 });
  });

  it("the attempted transactions are in commit order, whatever order they were committed in", () => {
    const m = new Model(0);
    m.commit("t1", 2, 7, ["t1:0"], false);
    m.commit("t0", 1, 5, ["t0:0"], false);
    expect(m.expectation(m.snapshot(), false).attempted.map((t) => t.id)).toEqual(["t0", "t1"]);
  });
});
