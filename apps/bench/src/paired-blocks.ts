/**
 * The order of a writer-cost study's timed blocks: each condition beside a base block of its own, so a drifting
 * machine (a disk slowing, a neighbour waking) moves both sides of a pair alike.
 */

/** One timed block: a `condition` (or `"base"`), run for `pair`, in `cycle` (warm-up cycles counted from 0). */
export interface PairedBlock<C extends string> {
  readonly cycle: number;
  readonly pair: C;
  readonly condition: C | "base";
}

/**
 * Every block of `cycles` cycles over `pairs`, in run order. In each cycle every pair runs once as two blocks, its
 * condition and a base; which of the two comes first alternates by cycle, and the order of the pairs rotates by one
 * each cycle, so no condition always runs first, last, or just after another.
 */
export function* pairedBlocks<C extends string>(pairs: readonly C[], cycles: number): Generator<PairedBlock<C>> {
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[(i + cycle) % pairs.length] as C;
      const sequence: (C | "base")[] = cycle % 2 === 0 ? ["base", pair] : [pair, "base"];
      for (const condition of sequence) yield { cycle, pair, condition };
    }
  }
}
