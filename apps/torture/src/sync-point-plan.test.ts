import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import { rng } from "./prng.js";
import { MAX_PADDING, planPaddings } from "./sync-point-plan.js";

const WINDOW = 4096;

/** Where records start in transactions of `sizes` bytes from `start`: each one's begin, batch and commit record. */
function recordStarts(sizes: readonly number[], start: number): number[] {
  const starts: number[] = [];
  let at = start;
  for (const size of sizes) {
    starts.push(at, at + 25, at + size - 25);
    at += size;
  }
  return starts;
}

test.prop(
  {
    // One-event transactions as `manyCommits` makes them (80 to 90 bytes unpadded), and an end anywhere in a segment.
    bases: fc.array(fc.integer({ min: 80, max: 95 }), { minLength: 1, maxLength: 200 }),
    start: fc.integer({ min: 4096, max: 1 << 20 }),
    // Earlier records not yet fsynced when the burst starts (group and none modes), up to a window's worth.
    unsynced: fc.integer({ min: 0, max: 4096 }),
    seed: fc.integer(),
  },
  { numRuns: 60 },
)(
  "every boundary with a window after it lies 1 to 20 bytes into a record's header",
  ({ bases, start, unsynced, seed }) => {
    const paddings = planPaddings(bases, start, start - unsynced, WINDOW, rng(seed));
    expect(paddings).toHaveLength(bases.length);
    for (const p of paddings) expect(p >= 0 && p <= MAX_PADDING && Number.isInteger(p)).toBe(true);
    const least = bases.reduce((sum, b) => sum + b, 0);
    const starts = recordStarts(
      bases.map((b, i) => b + (paddings[i] as number)),
      start,
    );
    for (let at = start - unsynced + WINDOW; at + WINDOW <= start + least; at += WINDOW) {
      if (at - start <= 20) continue; // too close to the burst's start to aim at
      const into = at - Math.max(...starts.filter((s) => s < at));
      expect(into, `boundary ${at}`).toBeGreaterThanOrEqual(1);
      expect(into, `boundary ${at}`).toBeLessThanOrEqual(20);
    }
  },
);

test("the depth into a header is drawn from the seed: 1 or 2 about half the time", () => {
  const bases = Array.from({ length: 150 }, () => 85);
  const depths = new Map<number, number>();
  for (let seed = 1; seed <= 200; seed++) {
    const paddings = planPaddings(bases, 32, 32, WINDOW, rng(seed));
    const starts = recordStarts(
      bases.map((b, i) => b + (paddings[i] as number)),
      32,
    );
    const into = 32 + WINDOW - Math.max(...starts.filter((s) => s < 32 + WINDOW));
    depths.set(into, (depths.get(into) ?? 0) + 1);
  }
  const short = (depths.get(1) ?? 0) + (depths.get(2) ?? 0);
  expect(short).toBeGreaterThan(70);
  expect(short).toBeLessThan(130);
  // Every depth of the rest of the header is reached by some seed.
  for (let d = 3; d <= 20; d++) expect(depths.get(d) ?? 0, `depth ${d}`).toBeGreaterThan(0);
});
