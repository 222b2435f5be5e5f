/**
 * The lowest begin LSN among the open transactions a walk keeps in a map (begin LSN to events), for resume tokens.
 * Begins enter the map in rising LSN order (LSNs rise through a walk), so the lowest one still open is the first one
 * added that the map still holds: a pointer moves past the closed ones, each once. Looking at every open transaction
 * at every commit instead made a log with many transactions left open (a crashed writer's, which never commit) cost
 * their count at each later commit: quadratic in the log.
 */
export class LowestOpenBegin {
  readonly #open: ReadonlyMap<number, unknown>;
  /** Begins in the order added (rising); those before `#head` are closed. */
  #order: number[] = [];
  #head = 0;

  constructor(open: ReadonlyMap<number, unknown>) {
    this.#open = open;
  }

  /** `begin` was just put in the map: it lies above every begin put there before. */
  added(begin: number): void {
    this.#order.push(begin);
    // Closed begins behind an open one wait for the pointer: dropped once they outnumber the open ones, so the list
    // stays proportional to what is open, at a constant cost per begin added (amortized).
    if (this.#order.length - this.#head > 2 * this.#open.size + 64) {
      this.#order = this.#order.slice(this.#head).filter((b) => this.#open.has(b));
      this.#head = 0;
    }
  }

  /** The lowest begin the map holds; Infinity when it holds none. */
  get lowest(): number {
    const order = this.#order;
    let head = this.#head;
    while (head < order.length && !this.#open.has(order[head] as number)) head++;
    if (head === order.length) {
      order.length = 0;
      head = 0;
    }
    this.#head = head;
    return head < order.length ? (order[head] as number) : Number.POSITIVE_INFINITY;
  }
}
