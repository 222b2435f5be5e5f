/**
 * TransactionSpans answers where the boundaries are (the highest at or below an LSN, the lowest at or above) as a
 * plain set of marked LSNs would, and at a cost that does not multiply: every question scanned every long span (one
 * longer than a chunk: a long-running transaction), and a boundary search asked that question at each LSN it stepped
 * through, one by one. `safeCheckpointLsn` below a run of 20 000 marked LSNs (overlapping low-level transactions,
 * no boundary between them) with 64 long-running transactions retained above made 1.28 million comparisons.
 * Counted (comparisons with the stored span ends, through their `valueOf`), not timed.
 */

import { afterEach, describe, expect, it } from "vitest";
import { TransactionSpans } from "./transaction-spans.js";

/** A tiny seeded generator, so a failure reproduces. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** An LSN that counts every time it is compared or computed with. */
function counted(value: number, count: { n: number }): number {
  return {
    valueOf: () => {
      count.n++;
      return value;
    },
  } as unknown as number;
}

/** Word arrays created from now on count every element read (until `afterEach` puts the real one back). */
const RealUint32Array = globalThis.Uint32Array;
function countWordReads(): { reads: number } {
  const count = { reads: 0 };
  globalThis.Uint32Array = new Proxy(RealUint32Array, {
    construct(target, args) {
      const array = Reflect.construct(target, args) as Uint32Array;
      return new Proxy(array, {
        get: (a, key) => {
          if (typeof key === "string" && /^\d+$/.test(key)) count.reads++;
          const value = Reflect.get(a, key, a);
          return typeof value === "function" ? value.bind(a) : value;
        },
      });
    },
  });
  return count;
}

describe("TransactionSpans boundary search", () => {
  afterEach(() => {
    globalThis.Uint32Array = RealUint32Array;
  });

  it("finds the boundaries a plain set of marked LSNs has (short and long spans, overlapping)", () => {
    for (let seed = 1; seed <= 8; seed++) {
      const next = random(seed);
      const spans = new TransactionSpans();
      const top = 140_000 + Math.floor(next() * 140_000);
      const size = top + 100_000;
      const inside = new Uint8Array(size);
      for (let k = 0; k < 40; k++) {
        const from = Math.floor(next() * top);
        const length = next() < 0.3 ? Math.floor(next() * 70) : Math.floor(next() * (next() < 0.5 ? 3000 : 90_000));
        const to = from + length - 1;
        spans.markInside(from, to);
        inside.fill(1, from, to + 1);
      }
      // The plain answers, for every LSN: the highest boundary at or below it (-1: none), the lowest at or above.
      const below = new Int32Array(size);
      for (let lsn = 0; lsn < size; lsn++)
        below[lsn] = inside[lsn] === 0 ? lsn : lsn === 0 ? -1 : (below[lsn - 1] as number);
      const above = new Int32Array(size);
      for (let lsn = size - 1; lsn >= 0; lsn--) above[lsn] = inside[lsn] === 0 ? lsn : (above[lsn + 1] as number);
      for (let q = 0; q < 2000; q++) {
        const lsn = Math.floor(next() * size);
        const floor = Math.max(0, lsn - Math.floor(next() * 200_000));
        const b = below[lsn] as number;
        const want = [b >= floor ? b : undefined, above[lsn]];
        const got = [spans.highestBoundaryAtOrBelow(lsn, floor), spans.lowestBoundaryAtOrAbove(lsn)];
        if (got[0] !== want[0] || got[1] !== want[1])
          expect({ seed, lsn, floor, got }).toEqual({ seed, lsn, floor, got: want });
      }
    }
  });

  it("through a run of marked LSNs below long spans: steps a word at a time, each a search of the long spans", () => {
    const run = 20_000;
    const long = 64;
    const count = { n: 0 };
    const words = countWordReads();
    const spans = new TransactionSpans();
    // Low-level transactions overlapping one another from LSN 1 to `run`: no boundary between them.
    for (let from = 1; from + 50 <= run; from += 50) spans.markInside(from, Math.min(from + 100, run));
    // Long-running transactions retained above them, apart (none holds the LSNs asked about).
    for (let i = 0; i < long; i++) {
      const from = 1_000_000 + i * 200_000;
      spans.markInside(counted(from, count), counted(from + 70_000, count));
    }
    count.n = 0;
    words.reads = 0;
    expect(spans.highestBoundaryAtOrBelow(run, 1)).toBe(undefined);
    expect(spans.highestBoundaryAtOrBelow(run, 0)).toBe(0);
    // Before: a scan of the 64 long spans at each of the 20 000 LSNs, twice (2 560 064 comparisons)...
    expect(count.n).toBeLessThanOrEqual(run / 4);
    // ... and a word read per LSN (40 000).
    expect(words.reads).toBeLessThanOrEqual((2 * run) / 16);
  });

  it("n questions with k long spans retained cost n log k, not n·k", () => {
    const k = 4096;
    const n = 1000;
    const count = { n: 0 };
    const spans = new TransactionSpans();
    for (let i = 0; i < k; i++) {
      const from = i * 100_000;
      spans.markInside(counted(from, count), counted(from + 70_000, count));
    }
    count.n = 0;
    const next = random(7);
    for (let q = 0; q < n; q++) {
      const lsn = Math.floor(next() * k * 100_000);
      expect(spans.isInside(lsn)).toBe(lsn % 100_000 <= 70_000);
    }
    // Before: every question scanned the k spans (n·k = 4 096 000 comparisons).
    expect(count.n).toBeLessThanOrEqual(n * 2 * (Math.log2(k) + 2));
  });
});
