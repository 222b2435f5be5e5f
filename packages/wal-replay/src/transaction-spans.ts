/**
 * Which LSNs lie inside a transaction. An LSN `s` is *inside* when some transaction has its begin at or below `s`
 * and another of its records above `s`: a fence or checkpoint snapshot there would cut the transaction in two, and
 * replay at that fence would meet records whose begin it skipped. Every other LSN is a *boundary*, where a fence is
 * safe.
 *
 * Short spans (every `commitTx` is one: its begin and its batch) are bits in a bitmap allocated in chunks where
 * they fall, so a log of commitTx triples costs two set bits per transaction and gaps in the LSN space cost nothing;
 * spans longer than a chunk are kept as intervals, so no input can make the map allocate more than its spans hold.
 * A question costs a binary search of the intervals and, through marked bits, a step per word rather than per LSN.
 */

const CHUNK_BITS = 1 << 16;
const CHUNK_WORDS = CHUNK_BITS / 32;

export class TransactionSpans {
  readonly #chunks = new Map<number, Uint32Array>();
  /**
   * Per chunk, for each word known full, a later word to look at next (0 for a word not known full), shortened as it
   * is followed: marking skips the words an earlier span filled, so overlapping spans (interleaved transactions)
   * cost the bits they add, not their length each. Setting every bit of every span made `n` transactions open at
   * once, each spanning the others, cost n² (Wal.open of a 1.6 MB log took 7 s).
   */
  readonly #jumps = new Map<number, Int32Array>();
  /**
   * What the spans longer than a chunk cover, as `[from, to]` pairs, disjoint, not adjacent and sorted: their union
   * (only whether an LSN is inside counts, not which span holds it). Sorted, a question is a binary search: a scan
   * of every span at each LSN a boundary search stepped through cost steps × spans (a run of 100 000 marked LSNs
   * with 16 long-running transactions retained: 1.6 million comparisons for one `safeCheckpointLsn`).
   */
  readonly #long: number[] = [];
  /** The chunk touched last, so the next mark in the same region skips the map lookup. */
  #lastIndex = -1;
  #last: Uint32Array | undefined;

  /** Mark `[from, to]` (inclusive) as inside a transaction. Nothing happens when `to < from`. */
  markInside(from: number, to: number): void {
    if (to < from) return;
    if (to - from >= CHUNK_BITS) {
      this.#markLong(from, to);
      return;
    }
    for (let lsn = from; lsn <= to; ) {
      const index = Math.floor(lsn / CHUNK_BITS);
      const base = index * CHUNK_BITS;
      const last = Math.min(to, base + CHUNK_BITS - 1);
      this.#markInChunk(index, lsn - base, last - base);
      lsn = last + 1;
    }
  }

  /** Add `[from, to]` to the union of long spans, merged with every interval it overlaps or touches. */
  #markLong(from: number, to: number): void {
    const long = this.#long;
    const first = this.#firstEndingAtOrAfter(from - 1);
    let last = first;
    let a = from;
    let b = to;
    // Commits come in LSN order, so a new span usually ends past every other: it swallows the tail and is pushed.
    while (last < long.length && (long[last] as number) <= to + 1) {
      a = Math.min(a, long[last] as number);
      b = Math.max(b, long[last + 1] as number);
      last += 2;
    }
    long.splice(first, last - first, a, b);
  }

  /** The index (of its `from`) of the first long interval ending at or after `lsn`; `#long.length` when none does. */
  #firstEndingAtOrAfter(lsn: number): number {
    const long = this.#long;
    let lo = 0;
    let hi = long.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((long[2 * mid + 1] as number) >= lsn) hi = mid;
      else lo = mid + 1;
    }
    return 2 * lo;
  }

  /** Mark bits `[a, b]` (inclusive) of chunk `index`: the end words bit by bit, the words between whole. */
  #markInChunk(index: number, a: number, b: number): void {
    const chunk = this.#chunk(index, true) as Uint32Array;
    const first = a >>> 5;
    const last = b >>> 5;
    if (first === last) {
      chunk[first] = (chunk[first] as number) | bitsBetween(a & 31, b & 31);
      return;
    }
    chunk[first] = (chunk[first] as number) | bitsBetween(a & 31, 31);
    chunk[last] = (chunk[last] as number) | bitsBetween(0, b & 31);
    let jumps = this.#jumps.get(index);
    if (jumps === undefined) {
      jumps = new Int32Array(CHUNK_WORDS);
      this.#jumps.set(index, jumps);
    }
    // Each word between is filled once: then it points past itself, and later marks jump over it.
    for (let w = notFull(jumps, first + 1); w < last; w = notFull(jumps, w + 1)) {
      chunk[w] = 0xffff_ffff;
      jumps[w] = w + 1;
    }
  }

  /** True when `lsn` was marked inside a transaction. */
  isInside(lsn: number): boolean {
    return this.#longFrom(lsn) !== undefined || this.#bit(lsn);
  }

  /** The highest boundary in `[floor, lsn]`, or `undefined` when every LSN there is inside a transaction. */
  highestBoundaryAtOrBelow(lsn: number, floor: number): number | undefined {
    let s = lsn;
    while (s >= floor) {
      const from = this.#longFrom(s);
      if (from !== undefined) {
        s = from - 1;
        continue;
      }
      const clear = this.#highestClearAtOrBelow(s, floor);
      if (clear === s) return s;
      s = clear;
    }
    return undefined;
  }

  /** The lowest boundary at or above `lsn` (there always is one: spans are finite). */
  lowestBoundaryAtOrAbove(lsn: number): number {
    let s = lsn;
    for (;;) {
      const to = this.#longTo(s);
      if (to !== undefined) {
        s = to + 1;
        continue;
      }
      const clear = this.#lowestClearAtOrAbove(s);
      if (clear === s) return s;
      s = clear;
    }
  }

  /**
   * The highest LSN at or below `lsn` whose bit is not set, a word at a time; below `floor` when every one down to it
   * is set.
   */
  #highestClearAtOrBelow(lsn: number, floor: number): number {
    let s = lsn;
    while (s >= floor) {
      const index = Math.floor(s / CHUNK_BITS);
      const chunk = this.#chunk(index, false);
      if (chunk === undefined) return s;
      const bit = s - index * CHUNK_BITS;
      const word = bit >>> 5;
      const clear = ~(chunk[word] as number) & bitsBetween(0, bit & 31);
      const wordStart = index * CHUNK_BITS + word * 32;
      if (clear !== 0) return wordStart + 31 - Math.clz32(clear);
      s = wordStart - 1;
    }
    return s;
  }

  /** The lowest LSN at or above `lsn` whose bit is not set: a word at a time. */
  #lowestClearAtOrAbove(lsn: number): number {
    let s = lsn;
    for (;;) {
      const index = Math.floor(s / CHUNK_BITS);
      const chunk = this.#chunk(index, false);
      if (chunk === undefined) return s;
      const bit = s - index * CHUNK_BITS;
      const word = bit >>> 5;
      const clear = ~(chunk[word] as number) & bitsBetween(bit & 31, 31);
      const wordStart = index * CHUNK_BITS + word * 32;
      if (clear !== 0) return wordStart + 31 - Math.clz32(clear & -clear);
      s = wordStart + 32;
    }
  }

  /** Forget what lies wholly below `lsn` (it can no longer be asked about). */
  forgetBelow(lsn: number): void {
    const keepFrom = Math.floor(lsn / CHUNK_BITS);
    for (const index of this.#chunks.keys()) if (index < keepFrom) this.#chunks.delete(index);
    for (const index of this.#jumps.keys()) if (index < keepFrom) this.#jumps.delete(index);
    if (this.#lastIndex < keepFrom) {
      this.#lastIndex = -1;
      this.#last = undefined;
    }
    this.#long.splice(0, this.#firstEndingAtOrAfter(lsn));
  }

  /** Bytes held (for tests and memory reports). */
  get byteLength(): number {
    return (this.#chunks.size + this.#jumps.size) * CHUNK_WORDS * 4 + this.#long.length * 8;
  }

  #bit(lsn: number): boolean {
    const index = Math.floor(lsn / CHUNK_BITS);
    const chunk = this.#chunk(index, false);
    if (chunk === undefined) return false;
    const bit = lsn - index * CHUNK_BITS;
    return ((chunk[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  /** The start of the long interval holding `lsn` (the lowest start of the long spans that reach it). */
  #longFrom(lsn: number): number | undefined {
    const i = this.#firstEndingAtOrAfter(lsn);
    const from = this.#long[i];
    return from !== undefined && from <= lsn ? from : undefined;
  }

  /** The end of the long interval holding `lsn` (the highest end of the long spans that reach it). */
  #longTo(lsn: number): number | undefined {
    const i = this.#firstEndingAtOrAfter(lsn);
    const from = this.#long[i];
    return from !== undefined && from <= lsn ? this.#long[i + 1] : undefined;
  }

  #chunk(index: number, create: boolean): Uint32Array | undefined {
    if (index === this.#lastIndex) return this.#last;
    let chunk = this.#chunks.get(index);
    if (chunk === undefined) {
      if (!create) return undefined;
      chunk = new Uint32Array(CHUNK_WORDS);
      this.#chunks.set(index, chunk);
    }
    this.#lastIndex = index;
    this.#last = chunk;
    return chunk;
  }
}

/** A word with bits `from..to` (inclusive, 0..31) set. */
function bitsBetween(from: number, to: number): number {
  return ((0xffff_ffff >>> (31 - to)) & ~((1 << from) - 1)) >>> 0;
}

/**
 * The first word at or after `w` not known full, by the jumps of full words (see `#jumps`), each jump on the way
 * pointed straight at the answer so the next search takes one step. `CHUNK_WORDS` when every word from `w` is full.
 */
function notFull(jumps: Int32Array, w: number): number {
  let end = w;
  while (end < CHUNK_WORDS && (jumps[end] as number) !== 0) end = jumps[end] as number;
  while (w < end) {
    const next = jumps[w] as number;
    jumps[w] = end;
    w = next;
  }
  return end;
}
