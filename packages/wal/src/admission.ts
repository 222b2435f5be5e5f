/**
 * Admission of the handle's calls that may have to wait (for a rotation, a truncation): `close()` lets the ones
 * admitted before it finish instead of failing them with `WAL_CLOSED`.
 */

/** The calls admitted and still running, and who waits for there to be none. */
export class Admission {
  /** Calls admitted before `close()` that still wait for a rotation or structural change; close lets them finish. */
  #admitted = 0;
  #onIdle: (() => void)[] = [];

  /** How many admitted calls are still running. */
  get pending(): number {
    return this.#admitted;
  }

  /**
   * Run a call that may have to wait (for a rotation, a truncation) as admitted: `close()` issued after it waits
   * until it has appended or failed, instead of failing it with `WAL_CLOSED`.
   */
  async admit<T>(work: () => Promise<T>): Promise<T> {
    this.#admitted++;
    try {
      return await work();
    } finally {
      if (--this.#admitted === 0) {
        const waiting = this.#onIdle;
        this.#onIdle = [];
        for (const wake of waiting) wake();
      }
    }
  }

  /** Resolves once no admitted call is waiting. */
  settled(): Promise<void> {
    if (this.#admitted === 0) return Promise.resolve();
    return new Promise((resolve) => this.#onIdle.push(resolve));
  }
}
