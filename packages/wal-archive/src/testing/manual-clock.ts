/**
 * `ManualClock`: an archiver clock (see `archiver-clock.ts`) that a test moves forward by count.
 */

import type { ArchiverClock } from "../archiver-clock.js";

interface ManualTimer {
  at: number;
  seq: number;
  readonly every: number | undefined;
  readonly callback: () => void;
}

/**
 * A clock that stands still until {@link ManualClock.advance} moves it, firing what falls due on the way in order of
 * due time (ties in the order they were armed), each callback run synchronously. `random()` is a seeded generator,
 * so two runs that arm and advance alike see the same jitter. For tests.
 */
export class ManualClock implements ArchiverClock {
  #now = 0;
  #seq = 0;
  #state: number;
  readonly #timers = new Map<number, ManualTimer>();
  /** Timers fired so far (an interval counts each time it fires). */
  fired = 0;

  /** `seed`: the random generator's seed (an unsigned 32-bit integer). */
  constructor(seed = 1) {
    this.#state = seed >>> 0 || 1;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#now;
  }

  random(): number {
    // xorshift32: small, and the same sequence on every platform.
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 2 ** 32;
  }

  timeout(callback: () => void, ms: number): () => void {
    return this.#arm(callback, ms, undefined);
  }

  interval(callback: () => void, ms: number): () => void {
    return this.#arm(callback, ms, Math.max(ms, 1));
  }

  /** Timers armed and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Move the clock `ms` forward, firing every timer that falls due by then (a timer armed meanwhile included). */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let next: [number, ManualTimer] | undefined;
      for (const entry of this.#timers) {
        const t = entry[1];
        if (t.at > until) continue;
        if (next === undefined || t.at < next[1].at || (t.at === next[1].at && t.seq < next[1].seq)) next = entry;
      }
      if (next === undefined) break;
      const [id, t] = next;
      this.#now = Math.max(this.#now, t.at);
      if (t.every === undefined) this.#timers.delete(id);
      else {
        t.at += t.every;
        t.seq = this.#seq++;
      }
      this.fired++;
      t.callback();
    }
    this.#now = until;
  }

  #arm(callback: () => void, ms: number, every: number | undefined): () => void {
    const id = this.#seq++;
    this.#timers.set(id, { at: this.#now + Math.max(ms, 0), seq: id, every, callback });
    return () => {
      this.#timers.delete(id);
    };
  }
}
