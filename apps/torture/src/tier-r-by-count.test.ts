/**
 * Tier R's work is bounded by count and decided by the seed alone: the archiver's shipping interval, its retry
 * back-off, the group mode's flusher and the sync placement must not follow the clock, or a loaded machine (timers due
 * between two operations) reaches other crash states than a fast one. The same seed must give the same steps (what
 * each operation did, what the log had fsynced, where the archive stood, which crash image was taken) and the same
 * figures, also when the event loop is held up between steps.
 */

import { describe, expect, it } from "vitest";
import { runTierR } from "./tier-r.js";

/** Hold the event loop for `ms` of wall time: the machine that much slower between two steps. */
function holdEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer or callback runs meanwhile
  }
}

async function runOnce(slowed: boolean) {
  const steps: string[] = [];
  const r = await runTierR({
    seed: 36,
    cases: 3,
    ops: 30,
    onStep: (line) => {
      steps.push(line);
      // Longer than any of the archiver's or the handle's short timers in Tier R used to be (8 ms at most).
      if (slowed) holdEventLoop(12);
    },
  });
  return {
    steps,
    cases: r.cases,
    crashStates: r.crashStates,
    figures: { ...r.extra },
    violations: r.violations.map((v) => v.message),
  };
}

describe("tier R: the same seed does the same work, whatever the machine's speed", () => {
  it("two runs of one seed, one with the event loop held up 12 ms after every step, take the same steps", async () => {
    const first = await runOnce(false);
    expect(first.violations).toEqual([]);
    expect(first.steps.length).toBeGreaterThan(40);
    const again = await runOnce(false);
    const slowed = await runOnce(true);
    expect(again).toEqual(first);
    expect(slowed.steps).toEqual(first.steps);
    expect(slowed).toEqual(first);
  });
});
