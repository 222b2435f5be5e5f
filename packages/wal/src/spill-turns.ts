/**
 * Event-loop turns for a run of buffered appends whose spill is held back by the unsynced window.
 *
 * A spill writes the buffer once it holds half a MiB, but only while the bytes written and not yet fdatasynced stay
 * within the window; the previous spill's fdatasync usually makes room long before the next buffer fills. Its
 * completion, though, reaches the handle only when the event loop turns, and a loop of awaited appends that each
 * resolve at once never lets it turn: it went on buffering until the hold-back (2 MiB), then waited, idle, for
 * writes and syncs the disk had long been ready for (a third of a buffered run's time on a 2-core VM).
 *
 * So while a spill is held back, one append in every {@link SPILL_TURN_STEP_BYTES} of growth resolves after one
 * turn (`setImmediate`), and the spill is tried again in that turn before the append resolves. When the sync has
 * landed, the next spill writes at once; when it has not, the appends go on buffering (no append waits for the
 * sync itself) until the next step or the hold-back.
 */

/** While a spill is held back, an append gives the event loop a turn once per this many more bytes pending. */
export const SPILL_TURN_STEP_BYTES = 64 * 1024;

export class SpillTurns {
  /** The turn scheduled and not yet run: other appends meanwhile resolve at once. */
  #turn: Promise<void> | undefined;
  /** Bytes pending when the last turn was taken. */
  #lastTurnAt = 0;

  /**
   * For an append that left `pendingBytes` in the buffer with its spill held back: a promise of `lsn` that resolves
   * after one event-loop turn in which `spill` ran again, or `undefined` when this append should resolve at once
   * (a turn is already on its way, or the buffer grew less than a step since the last one).
   * The promise rejects with what `spill` throws (the write's error; the pipeline has failed then).
   */
  turn(lsn: number, pendingBytes: number, spill: () => void): Promise<number> | undefined {
    if (this.#turn !== undefined) return undefined;
    // A buffer smaller than at the last turn was written in between: this is a new hold-back.
    if (pendingBytes >= this.#lastTurnAt && pendingBytes < this.#lastTurnAt + SPILL_TURN_STEP_BYTES) return undefined;
    this.#lastTurnAt = pendingBytes;
    const turn = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.#turn = undefined;
        try {
          spill();
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
    this.#turn = turn;
    return turn.then(() => lsn);
  }
}
