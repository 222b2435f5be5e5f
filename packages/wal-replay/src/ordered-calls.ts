/**
 * Calls answered in the order they were made, as an async generator answers `next()`/`return()`: while any call is
 * running or waiting, a new one waits for the previous one to settle.
 */
export class OrderedCalls {
  /** Calls running or waiting. */
  #pending = 0;
  /** Settles when the last call made so far has settled. */
  #tail: Promise<void> = Promise.resolve();
  readonly #settled = (): void => {
    this.#pending--;
  };

  /** Whether no call is running or waiting (a new call would run at once). */
  get idle(): boolean {
    return this.#pending === 0;
  }

  /** Run `call` now when nothing else is running or waiting, else once the last call before it has settled. */
  run<T>(call: () => Promise<T>): Promise<T> {
    const now = this.#pending === 0;
    this.#pending++;
    const result = now ? call() : this.#tail.then(call);
    this.#tail = result.then(this.#settled, this.#settled);
    return result;
  }
}
