/**
 * Tier R does the same work for a seed whatever the machine's speed: its archivers and handles run on a clock the
 * tier advances by count (see tier-r.ts), never on a real timer. On real timers one seed checked 237, 232, 233 and 231
 * restored transactions in four runs.
 *
 * The check: one seed run twice, once as fast as it goes and once with the event loop held 20 ms after every step (a
 * machine far slower than any timer Tier R's archivers and handles arm: 1-8 ms intervals, 1-4 ms back-offs, 3 ms group
 * rounds, 10-60 ms call time-outs, all due many times over while it is held); every step's line (what it did, the
 * clock, the log's syncs and writes, the archive's state and the store's calls) and every figure must be the same.
 * The test shows it can fail: with the archivers' interval handed back to Node's `setInterval`, the two runs differ.
 */

import type { ArchiverClock, ManualClock } from "@lora/wal-archive/testing";
import { describe, expect, it } from "vitest";
import { runTierR, type TierROptions } from "./tier-r.js";

/** Blocks on (never woken): `Atomics.wait` on it is a synchronous sleep. */
const never = new Int32Array(new SharedArrayBuffer(4));

/**
 * Hold the event loop for `ms` of wall time: no timer or callback runs meanwhile. A blocking wait, not a busy loop:
 * the thread sleeps, so the holds (several seconds a run) leave the cores to the other test files.
 */
function holdEventLoop(ms: number): void {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) Atomics.wait(never, 0, 0, left);
}

/** Seed 4's six cases cover the three sync modes and the three sync placements (asserted below). */
const RUN = { seed: 4, cases: 6, ops: 40 } as const;

/** Run {@link RUN}, holding the event loop `holdMs` after every step and `fsHoldMs` at every file-system operation. */
async function runOnce(holdMs: number, fsHoldMs: number, more: Partial<TierROptions> = {}) {
  const steps: string[] = [];
  const r = await runTierR({
    ...RUN,
    ...more,
    onStep: (line) => {
      steps.push(line);
      if (holdMs > 0) holdEventLoop(holdMs);
    },
    onFsOperation: () => {
      if (fsHoldMs > 0) holdEventLoop(fsHoldMs);
    },
  });
  return {
    steps,
    cases: r.cases,
    crashStates: r.crashStates,
    ackedChecked: r.ackedChecked,
    figures: { ...r.extra },
    violations: r.violations.map((v) => v.message),
  };
}

/** The case's clock, except that the shipping interval runs on Node's `setInterval` (a real timer put back). */
function realInterval(clock: ManualClock): ArchiverClock {
  return {
    now: () => clock.now(),
    wallNow: () => clock.wallNow(),
    random: () => clock.random(),
    timeout: (callback, ms) => clock.timeout(callback, ms),
    interval(callback, ms) {
      const timer = setInterval(callback, ms);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

describe("tier R: the same seed does the same work, whatever the machine's speed", () => {
  it("a fast run and one with the event loop held 20 ms after every step take the same steps", async () => {
    const fast = await runOnce(0, 0);
    expect(fast.violations).toEqual([]);
    expect(fast.steps.length).toBeGreaterThan(150);
    // What the run covers, so that the comparison is of something: every mode and placement, and the timer paths.
    for (const mode of ["perCommit", "group", "none"])
      expect(fast.steps.some((l) => l.includes(`(${mode},`))).toBe(true);
    for (const placement of ["true", "false", "auto"])
      expect(fast.steps.some((l) => l.includes(`blockingSync ${placement})`))).toBe(true);
    expect(fast.figures.timersFired).toBeGreaterThan(100);
    expect(fast.figures.callTimeouts).toBeGreaterThan(0);
    expect(fast.figures.slotWrites).toBeGreaterThan(10);
    const slowed = await runOnce(20, 2);
    expect(slowed.steps).toEqual(fast.steps);
    expect(slowed).toEqual(fast);
  });

  it("the comparison notices a real timer: with the shipping interval on setInterval, the two runs differ", async () => {
    const fast = await runOnce(0, 0, { archiverClock: realInterval });
    const slowed = await runOnce(20, 2, { archiverClock: realInterval });
    expect(slowed.steps).not.toEqual(fast.steps);
  });
});
