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

// The timers module's own setImmediate, not the global: test suites' fake timers replace the global, and a round
// or a turn waiting on a faked setImmediate would never run (these are turns of the event loop, not timers).
import { setImmediate } from "node:timers";

/** While a spill is held back, an append gives the event loop a turn once per this many more bytes pending. */
export const SPILL_TURN_STEP_BYTES = 64 * 1024;

export class SpillTurns {
  /** A turn is scheduled and has not run: other appends meanwhile resolve at once. */
  #turnDue = false;
  /** Bytes pending when the last turn was taken. */
  #lastTurnAt = 0;
  /** The writer's bytes written then: a spill since makes the next hold-back a new one. */
  #writtenAtLastTurn = -1;

  /**
   * For an append that left `pendingBytes` in the buffer with its spill held back, the writer having written
   * `writtenBytes` so far: a promise of `lsn` that resolves after one event-loop turn in which `spill` ran again, or
   * `undefined` when this append should resolve at once (a turn is already on its way, or the buffer grew less than
   * a step since the last turn of this hold-back). The promise rejects with what `spill` throws (the write's error;
   * the pipeline has failed then). An append that takes a turn resolves after later appends that did not: the LSNs
   * keep call order, the settling of fire-and-forget promises does not.
   */
  turn(lsn: number, pendingBytes: number, writtenBytes: number, spill: () => void): Promise<number> | undefined {
    if (this.#turnDue) return undefined;
    const sameHoldBack = writtenBytes === this.#writtenAtLastTurn;
    if (sameHoldBack && pendingBytes < this.#lastTurnAt + SPILL_TURN_STEP_BYTES) return undefined;
    this.#lastTurnAt = pendingBytes;
    this.#writtenAtLastTurn = writtenBytes;
    this.#turnDue = true;
    return new Promise<number>((resolve, reject) => {
      setImmediate(() => {
        this.#turnDue = false;
        try {
          spill();
          resolve(lsn);
        } catch (error) {
          reject(error);
        }
      });
    });
  }
}
