/**
 * When each durable LSN became durable, for the archiver's lag (`status().lagMs`): the age of the oldest LSN that is
 * durable and not archived yet.
 */

/** Entries kept at most; past it, neighbours merge (see {@link DurableTimes.add}). */
export const DURABLE_TIMES_KEPT = 1024;

/** (lsn, when it became durable) pairs, oldest first, in bounded memory. */
export class DurableTimes {
  #lsns: number[] = [];
  #ats: number[] = [];

  /** Entries held now. */
  get size(): number {
    return this.#lsns.length;
  }

  /**
   * `lsn` became durable at `at` (both at least the previous ones). Once {@link DURABLE_TIMES_KEPT} are held (a store
   * down for long, nothing archived), each pair of neighbours merges into one entry with the later LSN and the
   * earlier time: the lag can then read older than it is, by at most the time between two merged entries, never
   * younger.
   */
  add(lsn: number, at: number): void {
    if (this.#lsns.length >= DURABLE_TIMES_KEPT) this.#mergeNeighbours();
    this.#lsns.push(lsn);
    this.#ats.push(at);
  }

  #mergeNeighbours(): void {
    const lsns = this.#lsns;
    const ats = this.#ats;
    let kept = 0;
    for (let i = 0; i < lsns.length; i += 2) {
      lsns[kept] = lsns[Math.min(i + 1, lsns.length - 1)] as number;
      ats[kept] = ats[i] as number;
      kept++;
    }
    lsns.length = kept;
    ats.length = kept;
  }

  /** Forget the LSNs at or below `archivedLsn`. */
  archivedThrough(archivedLsn: number): void {
    let keepFrom = 0;
    while (keepFrom < this.#lsns.length && (this.#lsns[keepFrom] as number) <= archivedLsn) keepFrom++;
    if (keepFrom === 0) return;
    this.#lsns = this.#lsns.slice(keepFrom);
    this.#ats = this.#ats.slice(keepFrom);
  }

  /** When the oldest LSN above `archivedLsn` became durable; `undefined` when none is held. */
  oldestAbove(archivedLsn: number): number | undefined {
    for (let i = 0; i < this.#lsns.length; i++) if ((this.#lsns[i] as number) > archivedLsn) return this.#ats[i];
    return undefined;
  }
}
