/**
 * The archiver's replication slot: advanced to just below the oldest segment not yet archived, so the writer's
 * truncation keeps every segment the archive still lacks. Advancing is best-effort: a failure only means truncation
 * keeps a segment longer, and the next advance retries.
 */

import { advanceSlot } from "@lora/wal-replay";
import type { WalFileSystem } from "@lora/wal-segment";

export class ArchiveSlot {
  readonly #dir: string;
  readonly #name: string;
  readonly #fs: WalFileSystem;
  /** The highest position written by this archiver (a slot only moves forward). */
  #written = -1;

  constructor(dir: string, name: string, fs: WalFileSystem) {
    this.#dir = dir;
    this.#name = name;
    this.#fs = fs;
  }

  /** The highest position this archiver wrote (-1 before its first write). */
  get written(): number {
    return this.#written;
  }

  /** Move the slot up to `lsn` when that is higher than what was written; never throws. */
  async advance(lsn: number): Promise<void> {
    if (this.#written >= lsn) return;
    try {
      await advanceSlot(this.#dir, this.#name, lsn, { fs: this.#fs });
      this.#written = lsn;
    } catch {
      // Truncation keeps the segment a little longer; the next pass tries again.
    }
  }
}
