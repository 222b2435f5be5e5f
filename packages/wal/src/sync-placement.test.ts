import { describe, expect, it } from "vitest";
import { AUTO_BLOCKING_LIMIT_MS, SyncPlacement } from "./sync-placement.js";

describe("SyncPlacement", () => {
  it("auto blocks first, goes to the pool after a round slower than the limit, and back after a quick one", () => {
    const p = new SyncPlacement("auto");
    const seen: boolean[] = [p.blocks];
    for (const ms of [0.1, AUTO_BLOCKING_LIMIT_MS, AUTO_BLOCKING_LIMIT_MS + 0.01, 40, 3, 0.6, 0.05]) {
      p.observe(ms);
      seen.push(p.blocks);
    }
    expect(seen).toEqual([true, true, true, false, false, false, true, true]);
  });

  it("true always blocks and false never does, whatever the rounds took", () => {
    const always = new SyncPlacement(true);
    const never = new SyncPlacement(false);
    for (const ms of [0, 0.2, 50]) {
      always.observe(ms);
      never.observe(ms);
      expect([always.blocks, never.blocks]).toEqual([true, false]);
    }
  });
});
