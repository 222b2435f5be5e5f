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
