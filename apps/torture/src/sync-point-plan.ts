/**
 * Where a `manyCommits` burst's sync points fall. A write larger than the unsynced window goes out in window-sized
 * pieces with an fdatasync between them, so, when the fsynced bytes end at `synced`, its pieces begin at
 * `synced + k × window`. A power loss that loses the first sector of such a piece while the rest lands cuts short the
 * record header the piece boundary lies in, with intact records after it; how many bytes of that header were in the
 * piece before decides what recovery sees (1 or 2: a small record's length cut short, its upper bytes zero as a lost
 * sector's). Left to uniform chance, a boundary lands 1–2 bytes into a header about once in fifteen bursts' worth of
 * boundaries, so a short run seldom sees it; this plan pads the transactions so that each boundary lands a chosen
 * number of bytes into some record's header, the number drawn from the case's seed.
 */

import { MIN_RECORD_BYTES } from "@lora/wal-codec";
import { between, type Rng, shuffle } from "./prng.js";

/** The padding each transaction's event may take, in bytes (ASCII, so one byte each in the JSON payload). */
export const MAX_PADDING = 30;

/** The deepest a boundary is aimed into a header: a boundary closer than that to the burst's start is left be. */
const MAX_HEADER_DEPTH = 20;

/** Bytes of a transaction marker (`TxBegin`, `TxCommit`): a header and a trailer, no payload. */
const MARKER_BYTES = MIN_RECORD_BYTES;

/**
 * Bytes into a header a boundary is aimed at: half the time 1 or 2 (a length cut short), otherwise 3 to 20 (the rest
 * of the 21-byte header: the length's zero upper bytes, the kind, the LSN, the begin LSN).
 */
function intoHeader(next: Rng): number {
  return next() < 0.5 ? between(next, 1, 2) : between(next, 3, MAX_HEADER_DEPTH);
}

/**
 * Paddings (0 to {@link MAX_PADDING}) for transactions of `bases[i] + padding` bytes written in order from `start`
 * (the end of the log), where the bytes from `synced` (at most `start`) on are not yet fsynced: the burst's pieces
 * then end at `synced + k × window`. Each such boundary inside the burst that has at least a window of the burst
 * after it lies a seeded 1 to 20 bytes into a record's header (a begin marker, the batch record or the commit
 * marker). Paddings not needed to aim a boundary are drawn uniformly, as before plans existed.
 */
export function planPaddings(
  bases: readonly number[],
  start: number,
  synced: number,
  window: number,
  next: Rng,
): number[] {
  const least = bases.reduce((sum, b) => sum + b, 0);
  const targets: number[] = [];
  for (let at = synced + window; at + window <= start + least; at += window) {
    if (at - start > MAX_HEADER_DEPTH) targets.push(at - intoHeader(next));
  }
  const paddings: number[] = [];
  const reach = new Reach(bases);
  let pos = start;
  let aim = 0;
  for (let i = 0; i < bases.length; i++) {
    // A target passed unhit (none is, when the plan can reach it) is given up rather than chased.
    while ((targets[aim] ?? Number.POSITIVE_INFINITY) < pos) aim++;
    const target = targets[aim];
    const base = bases[i] as number;
    let padding = between(next, 0, MAX_PADDING);
    if (target !== undefined) {
      const gap = target - pos;
      const options = shuffle(
        next,
        Array.from({ length: MAX_PADDING + 1 }, (_, p) => p),
      );
      padding = options.find((p) => reach.hits(gap, i, p) || reach.from(gap - base - p, i + 1)) ?? padding;
      if (reach.hits(gap, i, padding)) aim++;
    }
    paddings.push(padding);
    pos += base + padding;
  }
  return paddings;
}

/** Which gaps to a target the transactions from `i` on can close, remembered per (gap, transaction). */
class Reach {
  readonly #bases: readonly number[];
  readonly #known = new Map<number, boolean>();

  constructor(bases: readonly number[]) {
    this.#bases = bases;
  }

  /** Whether transaction `i`, padded by `padding` and starting `gap` bytes before the target, has a record there. */
  hits(gap: number, i: number, padding: number): boolean {
    const size = (this.#bases[i] as number) + padding;
    return gap === 0 || gap === MARKER_BYTES || gap === size - MARKER_BYTES;
  }

  /** Whether some paddings of transactions `i`… put a record start exactly `gap` bytes ahead. */
  from(gap: number, i: number): boolean {
    if (gap < 0 || i >= this.#bases.length) return false;
    const key = gap * (this.#bases.length + 1) + i;
    const known = this.#known.get(key);
    if (known !== undefined) return known;
    let found = false;
    for (let p = 0; p <= MAX_PADDING && !found; p++) {
      found = this.hits(gap, i, p) || this.from(gap - (this.#bases[i] as number) - p, i + 1);
    }
    this.#known.set(key, found);
    return found;
  }
}
