/**
 * The archiver's replication slot: advanced to just below the oldest segment not yet archived, so the writer's
 * truncation keeps every segment the archive still lacks. Advancing is best-effort: a failure only means truncation
 * keeps a segment longer, and the next advance retries.
 *
 * The slot has one consumer, the archiver, and nothing else may move it: a slot found past the position the archiver
 * asked for (another consumer confirmed it further, or it was created again there) or invalidated no longer keeps
 * what the archive lacks from truncation by another process or after a restart. That is not retried away but kept
 * as {@link ArchiveSlot.problem} until a write puts the slot back at the archiver's position; a slot found missing
 * (dropped, which is the remedy) is created again at that position.
 */

import { isWalError, WalError } from "@lora/wal-codec";
import { advanceSlot, createSlot, readSlot, type SlotState } from "@lora/wal-replay";
import type { WalFileSystem } from "@lora/wal-segment";

export class ArchiveSlot {
  readonly #dir: string;
  readonly #name: string;
  readonly #fs: WalFileSystem;
  /** The highest position written by this archiver (a slot only moves forward). */
  #written = -1;
  /** The highest position asked for: where the slot belongs (at or below what the archive holds). */
  #wanted = -1;
  #problem: WalError | null = null;
  /** The slot's operations, one at a time: a look must not take this archiver's write in flight for another's. */
  #queue: Promise<void> = Promise.resolve();

  constructor(dir: string, name: string, fs: WalFileSystem) {
    this.#dir = dir;
    this.#name = name;
    this.#fs = fs;
  }

  /** The highest position this archiver wrote (-1 before its first write). */
  get written(): number {
    return this.#written;
  }

  /**
   * Why the slot does not keep what the archive lacks, as the last write or look found it: `WAL_SLOT_MOVED` (past
   * the archiver's position) or `WAL_SLOT_INVALIDATED`; `null` when it does (or a failure said nothing either way).
   * The same object for as long as the same problem is found.
   */
  get problem(): WalError | null {
    return this.#problem;
  }

  /** Move the slot up to `lsn` when that is higher than what was written; never throws. */
  advance(lsn: number): Promise<void> {
    return this.#serial(async () => {
      this.#wanted = Math.max(this.#wanted, lsn);
      if (this.#written >= lsn) return;
      try {
        await advanceSlot(this.#dir, this.#name, lsn, { fs: this.#fs });
        this.#written = lsn;
        this.#problem = null;
      } catch (error) {
        await this.#understand(error);
      }
    });
  }

  /**
   * Look whether the slot is still where this archiver put it (nothing before its first write); never throws. A
   * missing slot is created again there.
   */
  look(): Promise<void> {
    return this.#serial(async () => {
      if (this.#written < 0) return;
      try {
        this.#found(await readSlot(this.#dir, this.#name, { fs: this.#fs }));
      } catch (error) {
        await this.#understand(error);
      }
    });
  }

  /** The slot was invalidated (the handle's `slotInvalidated` lifecycle event said so). */
  invalidated(retainedBytes: number): void {
    if (this.#problem?.code === "WAL_SLOT_INVALIDATED") return;
    this.#problem = this.#invalidatedError(`it held back ${retainedBytes} bytes of log`);
  }

  /** A failed read or write: a problem when the slot says so, a missing slot made again, otherwise nothing. */
  async #understand(error: unknown): Promise<void> {
    if (isWalError(error, "WAL_SLOT_NOT_FOUND")) {
      // Dropped: created again where it belongs. Anything going wrong here is retried by the next write or look.
      if (this.#wanted < 0) return;
      try {
        this.#written = await this.#create();
        this.#problem = null;
      } catch {
        // Truncation keeps this process's hold meanwhile; the next pass tries again.
      }
      return;
    }
    if (isWalError(error, "WAL_SLOT_INVALIDATED")) {
      if (this.#problem?.code !== "WAL_SLOT_INVALIDATED") this.#problem = this.#invalidatedError("", error);
      return;
    }
    // "Cannot move back" is one answer among others (an I/O error, a damaged file): the slot itself tells.
    try {
      this.#found(await readSlot(this.#dir, this.#name, { fs: this.#fs }));
    } catch {
      // A transient failure says nothing about who moves the slot: what was found before stands.
    }
  }

  /**
   * Create the slot at the position this archiver wants; resolves with the position written. When truncation has
   * gone past it (the hold was given up: a gap the archive counts), createSlot refuses it, and the slot is created
   * without a position: at 0 it holds back the whole log, which is never past this archiver's position, until the
   * next advance moves it.
   */
  async #create(): Promise<number> {
    try {
      return (await createSlot(this.#dir, this.#name, { fs: this.#fs, confirmedLsn: this.#wanted })).confirmedLsn;
    } catch (error) {
      if (!isWalError(error, "WAL_TRUNCATED")) throw error;
      return (await createSlot(this.#dir, this.#name, { fs: this.#fs })).confirmedLsn;
    }
  }

  #found(slot: SlotState): void {
    if (slot.invalidated !== null) {
      if (this.#problem?.code !== "WAL_SLOT_INVALIDATED")
        this.#problem = this.#invalidatedError(slot.invalidated.reason);
      return;
    }
    // Past the highest position asked for: this archiver never wrote that, nor did an earlier archiver of the store
    // (its slot is at most what the store held), so another consumer did.
    const mine = Math.max(this.#written, this.#wanted);
    if (slot.confirmedLsn <= mine) {
      this.#problem = null;
      return;
    }
    // Found again where it was: the same problem (one report for as long as it lasts).
    if (this.#problem?.code === "WAL_SLOT_MOVED" && this.#problem.details.lsn === slot.confirmedLsn) return;
    this.#problem = new WalError(
      "WAL_SLOT_MOVED",
      `the archiver's replication slot "${this.#name}" of ${this.#dir} is at lsn ${slot.confirmedLsn}, past the archiver's position ${mine} (below the oldest segment the archive lacks): another consumer moved it (a follower opened with slot "${this.#name}", advanceSlot, or the slot created again further on), so truncation by another process or after a restart may delete segments the archive does not hold yet. Give that consumer a slot of its own, then drop this one (lora-wal slots <dir> drop ${this.#name}): the archiver creates it again at its position`,
      { details: { slot: this.#name, lsn: slot.confirmedLsn } },
    );
  }

  #invalidatedError(why: string, cause?: unknown): WalError {
    return new WalError(
      "WAL_SLOT_INVALIDATED",
      `the archiver's replication slot "${this.#name}" of ${this.#dir} was invalidated${why === "" ? "" : ` (${why})`}: truncation no longer keeps the segments the archive lacks for it in another process or after a restart (nor in this one once the handle's maxSlotRetainedBytes dropped the archiver's hold); one truncated before it was archived is a gap, counted in skippedSegments. Drop the slot (lora-wal slots <dir> drop ${this.#name}): the archiver creates it again at its position`,
      { cause, details: { slot: this.#name } },
    );
  }

  #serial(step: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(step);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
