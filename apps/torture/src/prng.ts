/**
 * Seeded randomness: every choice the harness makes comes from here, so a seed replays a run. Product code of the
 * harness, apart from the tests' `seededRandom` (@lora/test-utils): `--seed N` names a run for as long as this
 * module's sequence and its `mix` stay the same, whatever the test helpers do.
 */

export type Rng = () => number;

/** mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1). */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derive an independent seed from a seed and some integers (a case index, a cycle, an operation index). */
export function mix(seed: number, ...parts: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** An integer in [lo, hi]. */
export function between(next: Rng, lo: number, hi: number): number {
  return lo + Math.floor(next() * (hi - lo + 1));
}

/** Fisher–Yates, in place. */
export function shuffle<T>(next: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
