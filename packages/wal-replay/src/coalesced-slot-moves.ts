/**
 * A follower's `confirm` writes, coalesced: one slot write at a time, and the calls made while one is running are
 * answered by one write of the highest position among them. A write costs two fsyncs (the temporary file, then the
 * slots directory), so a consumer confirming every transaction without awaiting each pays for one write per write
 * time, not one per transaction.
 */

/** A slot position: a delivered transaction's resume token. */
export interface SlotMove {
  readonly commitLsn: number;
  readonly restartLsn: number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Batch {
  move: SlotMove;
  readonly waiters: Waiter[];
}

/**
 * Guarantees, for the moves of one slot requested through one instance:
 * - writes never overlap, and each starts after the one before it settled, so the position written never moves back
 *   through this instance (a later write is of a higher or equal position, or of the same one with a higher restart
 *   point);
 * - a call resolves once a write of a position at or above its own (commit LSN and restart point) is durable, and
 *   rejects with the error of the write that was to cover it; a failed write does not stop the next one;
 * - a call made while nothing is being written starts its write at once;
 * - a call whose commit LSN is below one still being written or waiting is refused at once (see the constructor).
 */
export class CoalescedSlotMoves {
  readonly #write: (move: SlotMove) => Promise<void>;
  /** The write running, and who waits for it. */
  #running: Batch | undefined;
  /** The calls made while it runs: written together, at their highest position, once it settles. */
  #queued: Batch | undefined;

  readonly #behind: (move: SlotMove, ahead: SlotMove) => Error;

  /**
   * `write` makes `move` durable in the slot (it rejects when it cannot). `behind` is the refusal of a call whose
   * commit LSN lies below one still being written or waiting to be: the slot would refuse it once that one is written
   * (it never moves back), so it is refused at once, whether the earlier call has been written yet or not.
   */
  constructor(write: (move: SlotMove) => Promise<void>, behind: (move: SlotMove, ahead: SlotMove) => Error) {
    this.#write = write;
    this.#behind = behind;
  }

  /** Resolves once a position at or above `move` is durable in the slot. */
  request(move: SlotMove): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      const running = this.#running;
      if (running === undefined) {
        this.#start({ move, waiters: [waiter] });
        return;
      }
      // The highest position asked for: a queued batch is never below the running write (a call below that is
      // refused here, and one it does not cover is at or above its commit LSN).
      const ahead = this.#queued?.move ?? running.move;
      if (move.commitLsn < ahead.commitLsn) {
        reject(this.#behind(move, ahead));
        return;
      }
      // The write under way already covers it: no second write for a position it stores.
      if (covers(running.move, move)) {
        running.waiters.push(waiter);
        return;
      }
      const queued = this.#queued;
      if (queued === undefined) {
        this.#queued = { move, waiters: [waiter] };
        return;
      }
      // Both restart points are safe for the higher commit (a transaction open at it and begun below the other
      // restart point would have been open at that one's commit too), so the higher is kept, as advanceSlot does.
      queued.move = {
        commitLsn: Math.max(queued.move.commitLsn, move.commitLsn),
        restartLsn: Math.max(queued.move.restartLsn, move.restartLsn),
      };
      queued.waiters.push(waiter);
    });
  }

  #start(batch: Batch): void {
    this.#running = batch;
    let written: Promise<void>;
    try {
      written = this.#write(batch.move);
    } catch (error) {
      written = Promise.reject(error);
    }
    written.then(
      () => this.#settled(batch, undefined),
      (error: unknown) => this.#settled(batch, error ?? new Error("the slot write rejected with nothing")),
    );
  }

  #settled(batch: Batch, error: unknown): void {
    for (const waiter of batch.waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
    this.#running = undefined;
    const next = this.#queued;
    this.#queued = undefined;
    if (next !== undefined) this.#start(next);
  }
}

/** Whether a slot at `written` is at or above `wanted`. */
function covers(written: SlotMove, wanted: SlotMove): boolean {
  return written.commitLsn >= wanted.commitLsn && written.restartLsn >= wanted.restartLsn;
}
