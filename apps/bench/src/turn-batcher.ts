/**
 * What an expert writes to give a synchronous-commit store many concurrent writers: every write asked for during
 * one event-loop turn goes into one transaction, committed once, and every writer is answered when it is durable.
 * For a store whose batch write is itself asynchronous, one batch is in flight at a time and the writes asked for
 * meanwhile form the next one (LevelDB's own writer queue does the same inside).
 */

/** Commit `items` as one durable batch (synchronously or not). */
export type BatchCommit<T> = (items: readonly T[]) => void | Promise<void>;

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

export class TurnBatcher<T> {
  readonly #commit: BatchCommit<T>;
  #items: T[] = [];
  #waiters: Waiter[] = [];
  #scheduled = false;
  #inFlight = false;

  constructor(commit: BatchCommit<T>) {
    this.#commit = commit;
  }

  /** Resolves once `item` was committed in a batch. */
  write(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#items.push(item);
      this.#waiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const items = this.#items;
    const waiters = this.#waiters;
    if (items.length === 0) return;
    this.#items = [];
    this.#waiters = [];
    this.#inFlight = true;
    try {
      await this.#commit(items);
      for (const w of waiters) w.resolve();
    } catch (error) {
      for (const w of waiters) w.reject(error);
    } finally {
      this.#inFlight = false;
      if (this.#items.length > 0) this.#schedule();
    }
  }
}
