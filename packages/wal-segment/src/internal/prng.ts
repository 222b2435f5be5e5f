/**
 * A tiny seeded PRNG (mulberry32) so SimFS sampling is reproducible from a seed; never `Math.random`. SimFS ships in
 * `@lora/wal-segment/testing`, so this cannot come from the private test helpers (@lora/test-utils).
 */

/** Returns a function yielding uniform 32-bit unsigned integers from `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Mix several integers into one 32-bit seed (for per-file / per-op sub-streams). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193);
    h ^= h >>> 13;
    h = Math.imul(h, 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** Uniform integer in `[0, n)` from a 32-bit generator. */
export function below(next: () => number, n: number): number {
  return Math.floor((next() / 0x1_0000_0000) * n);
}
