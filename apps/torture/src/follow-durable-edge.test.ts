/**
 * Tier F's durable-only check at its edge: a commit record exactly one past the durable LSN (its begin and batch
 * synced, the commit only written), then a power loss that keeps the durable state. A follower that takes the durable
 * LSN as an exclusive bound (planted bug `follow-durable-one-past`, on the `engine` consumer) delivers it, and
 * recovery does not have it. Without the edge operation no F-sim workload put a commit there, and that follower went
 * unseen (so did the same mistake in the harness's own engine source).
 */

import { describe, expect, it } from "vitest";
import { TierResult } from "./result.js";
import { runFollowBug } from "./tier-f.js";
import { runFollowSim } from "./tier-f-sim.js";

describe("tier F: a follower one record past the durable LSN", () => {
  it("the clean build puts commits exactly one past the durable LSN and reports nothing", async () => {
    const r = new TierResult("F");
    await runFollowSim({ seed: 1, cases: 8, ops: 40 }, r);
    expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
    expect(r.extra.commitsPastDurableEdge).toBeGreaterThan(0);
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`catches follow-durable-one-past: a delivery that a power loss takes back (seed ${seed})`, async () => {
      const verdict = await runFollowBug("follow-durable-one-past", seed);
      expect(verdict.caught, verdict.example ?? "").toBe(true);
      expect(verdict.example).toMatch(/durable-only: engine delivered .* which recovery after the power crash/);
    });
  }
});
