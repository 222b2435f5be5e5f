/**
 * The one seeded random source of the tests: a test that makes random choices takes them from here with a fixed or
 * printed seed, so a failure names a schedule that runs again the same way. Never `Math.random`.
 */

/**
 * A generator of uniform floats in [0, 1) from a 32-bit `seed` (mulberry32: small and fast; plenty for choosing
 * schedules, not for cryptography). The same seed gives the same sequence on every platform.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
