/**
 * The `group` sync mode's flusher: a timer that fsyncs what was appended since the last sync round, every
 * `intervalMs`.
 */

import type { CommitPipeline } from "./commit-pipeline.js";
import { type Failpoint, TESTING_BUILD, type WalTestingClock } from "./testing-hooks.js";

/** The group-commit timer of one handle. */
export class GroupFlusher {
  readonly #pipeline: CommitPipeline;
  readonly #failpoint: Failpoint;
  /** Whether the handle refuses a sync round now (poisoned, closed, or in a rotation or truncation). */
  readonly #paused: () => boolean;
  /** Node's timer; undefined when a test's clock runs the flusher. */
  readonly #flusher: ReturnType<typeof setInterval> | undefined;
  /** Cancels the test clock's interval (testing builds only). */
  readonly #cancelTestInterval: (() => void) | undefined;
  /** `whenDurable` calls waiting for the group flusher. */
  #durableWaits = 0;

  /** `clock`: a test's (testing builds only), which then runs the flusher in place of `setInterval`. */
  constructor(
    intervalMs: number,
    pipeline: CommitPipeline,
    failpoint: Failpoint,
    paused: () => boolean,
    clock?: WalTestingClock,
  ) {
    this.#pipeline = pipeline;
    this.#failpoint = failpoint;
    this.#paused = paused;
    const round = () => {
      if (this.#paused()) return;
      const appended = this.#pipeline.appendedLsn;
      if (appended <= this.#pipeline.syncedLsn) return;
      if (TESTING_BUILD) this.#failpoint("group.beforeFsync");
      this.#pipeline.whenSynced(appended).then(
        () => {
          if (TESTING_BUILD) this.#failpoint("group.afterFsync");
        },
        // A failure has already poisoned the handle through the pipeline.
        () => undefined,
      );
    };
    if (TESTING_BUILD && clock !== undefined) {
      this.#flusher = undefined;
      this.#cancelTestInterval = clock.interval(round, intervalMs);
      return;
    }
    this.#cancelTestInterval = undefined;
    // The timer never keeps the process alive, and an idle log is not fsynced.
    this.#flusher = setInterval(round, intervalMs);
    this.#flusher.unref();
  }

  /**
   * A `whenDurable` call starts waiting for the flusher: while someone waits on it, the timer keeps the process
   * alive, or the promise could never settle. Pair with {@link GroupFlusher.release}.
   */
  hold(): void {
    this.#durableWaits++;
    this.#flusher?.ref();
  }

  /** A `whenDurable` call stopped waiting; the last one lets the timer stop keeping the process alive. */
  release(): void {
    if (--this.#durableWaits === 0) this.#flusher?.unref();
  }

  /** Stop the timer (at close). */
  stop(): void {
    if (this.#flusher !== undefined) clearInterval(this.#flusher);
    this.#cancelTestInterval?.();
  }
}
