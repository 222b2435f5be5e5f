/**
 * TransactionSpans marks what it is told and costs, for overlapping spans, the bits they add rather than their
 * lengths. Every commit marks its transaction's span; setting each bit of each span made `n` transactions open at
 * once (each spanning the others: legal, interleaved `begin()`s) cost n² in every replay and `Wal.open` (32 768 of
 * them, a 1.6 MB log, took 7 s to open). Counted (writes into the map's words), not timed.
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

describe("TransactionSpans.markInside", () => {
  it("marks exactly the LSNs of the spans, whatever they overlap (against a plain set)", () => {
    for (let seed = 1; seed <= 12; seed++) {
      const next = random(seed);
      const spans = new TransactionSpans();
      const inside = new Set<number>();
      const top = 70_000 + Math.floor(next() * 140_000);
      for (let k = 0; k < 60; k++) {
        const from = Math.floor(next() * top);
        const length = next() < 0.2 ? Math.floor(next() * 3) : Math.floor(next() * (next() < 0.5 ? 200 : 70_000));
        const to = from + length - 1;
        spans.markInside(from, to);
        for (let lsn = from; lsn <= to; lsn++) inside.add(lsn);
      }
      for (let lsn = 0; lsn <= top + 70_000; lsn++) {
        if (spans.isInside(lsn) !== inside.has(lsn)) {
          expect({ seed, lsn, inside: spans.isInside(lsn) }).toEqual({ seed, lsn, inside: inside.has(lsn) });
        }
      }
    }
  });
});

describe("TransactionSpans boundaries and forgetBelow", () => {
  it("find the nearest boundary across short and long spans, and answer the same at or above a forgotten LSN", () => {
    for (let seed = 1; seed <= 4; seed++) {
      const next = random(seed);
      const spans = new TransactionSpans();
      const inside = new Set<number>();
      const top = 400_000;
      for (let k = 0; k < 40; k++) {
        const from = Math.floor(next() * top);
        const length = next() < 0.1 ? 65_536 + Math.floor(next() * 40_000) : Math.floor(next() * 300);
        spans.markInside(from, from + length - 1);
        for (let lsn = from; lsn < from + length; lsn++) inside.add(lsn);
      }
      const highest = (lsn: number, floor: number) => {
        for (let s = lsn; s >= floor; s--) if (!inside.has(s)) return s;
        return undefined;
      };
      const lowest = (lsn: number) => {
        let s = lsn;
        while (inside.has(s)) s++;
        return s;
      };
      const check = (from: number) => {
        for (let q = 0; q < 50; q++) {
          const lsn = from + Math.floor(next() * (top + 100_000 - from));
          const floor = from + Math.floor(next() * (lsn - from + 1));
          const got = [
            spans.isInside(lsn),
            spans.highestBoundaryAtOrBelow(lsn, floor),
            spans.lowestBoundaryAtOrAbove(lsn),
          ];
          expect(got, `seed ${seed}, lsn ${lsn}, floor ${floor}`).toEqual([
            inside.has(lsn),
            highest(lsn, floor),
            lowest(lsn),
          ]);
        }
      };
      check(0);
      const cut = Math.floor(next() * top);
      const before = spans.byteLength;
      spans.forgetBelow(cut);
      expect(spans.byteLength).toBeLessThanOrEqual(before);
      check(cut);
    }
  });

  it("forgetBelow drops the chunks and long spans wholly below the LSN, and only those", () => {
    const spans = new TransactionSpans();
    spans.markInside(10, 70_010); // long: kept as an interval
    spans.markInside(60_000, 140_000); // long, overlapping it
    spans.markInside(100_000, 100_002); // short: a bit chunk (65 536 LSNs, 8 KiB)
    // The two long spans overlap: they are kept as their union, one interval.
    expect(spans.byteLength).toBe(8192 + 2 * 8);
    expect(spans.lowestBoundaryAtOrAbove(20)).toBe(140_001);
    expect(spans.highestBoundaryAtOrBelow(130_000, 0)).toBe(9);
    expect(spans.highestBoundaryAtOrBelow(130_000, 10)).toBeUndefined();
    spans.forgetBelow(80_000);
    expect(spans.byteLength).toBe(8192 + 2 * 8);
    expect(spans.isInside(100_001)).toBe(true);
    expect(spans.isInside(80_000)).toBe(true);
    expect(spans.isInside(140_001)).toBe(false);
    spans.forgetBelow(150_000);
    expect(spans.byteLength).toBe(0);
    expect(spans.isInside(100_001)).toBe(false);
  });
});

describe("overlapping spans cost the bits they add", () => {
  const saved = { Uint32Array: globalThis.Uint32Array, Int32Array: globalThis.Int32Array };
  afterEach(() => Object.assign(globalThis, saved));

  /** Word arrays created from now on count every element written. */
  function countWordWrites(): { writes: number } {
    const count = { writes: 0 };
    const counted = <T extends typeof Uint32Array | typeof Int32Array>(Base: T): T =>
      new Proxy(Base, {
        construct(target, args) {
          const array = Reflect.construct(target, args) as Uint32Array | Int32Array;
          return new Proxy(array, {
            get: (a, key) => {
              const value = Reflect.get(a, key, a);
              return typeof value === "function" ? value.bind(a) : value;
            },
            set: (a, key, value) => {
              count.writes++;
              return Reflect.set(a, key, value, a);
            },
          });
        },
      });
    globalThis.Uint32Array = counted(saved.Uint32Array);
    globalThis.Int32Array = counted(saved.Int32Array);
    return count;
  }

  it("n transactions open at once, committed in order: linear in n", () => {
    for (const n of [1024, 4096]) {
      const spans = new TransactionSpans();
      const count = countWordWrites();
      // Begins at 1..n, commits at n+1..2n: transaction i spans [i, n + i - 1].
      for (let i = 1; i <= n; i++) spans.markInside(i, n + i - 1);
      Object.assign(globalThis, saved);
      expect(spans.isInside(0)).toBe(false);
      expect(spans.isInside(1)).toBe(true);
      expect(spans.isInside(2 * n - 1)).toBe(true);
      expect(spans.isInside(2 * n)).toBe(false);
      // Before: one write per bit of every span, n² (16 777 216 for n = 4096).
      expect(count.writes).toBeLessThanOrEqual(8 * n);
    }
  });
});
