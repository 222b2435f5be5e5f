/**
 * Progress accounting of a replay: bytes of the range read, reported through `onProgress` at most once per MiB and
 * once at the end.
 */

import type { RangeBytes } from "./replay-plan.js";
import type { ReplayProgress } from "./replay-types.js";

/** `onProgress` is called at most once per this many bytes of the range read (and once at the end). */
const PROGRESS_EVERY_BYTES = 1 << 20;

/**
 * Counts the bytes of the range read and calls `onProgress` when they cross the next MiB, or at the end. Each
 * segment is counted up to its size when the replay started, so bytes never pass `totalBytes`.
 */
export class ProgressMeter {
  readonly #onProgress: (progress: ReplayProgress) => void;
  /** Where the record count comes from (the transaction assembler). */
  readonly #counter: { readonly records: number };
  /** Where each segment starts in the range, and the range's size (see {@link RangeBytes}). */
  #rangeStarts: readonly number[] = [];
  #totalBytes = 0;
  /** Bytes of the range before the segment being read, and that segment's size when the replay started. */
  #bytesBefore = 0;
  #segmentBytes = 0;
  #nextProgressAt = PROGRESS_EVERY_BYTES;

  constructor(onProgress: (progress: ReplayProgress) => void, counter: { readonly records: number }) {
    this.#onProgress = onProgress;
    this.#counter = counter;
  }

  /** Take the range measured when the plan was made. */
  setRange(range: RangeBytes): void {
    this.#rangeStarts = range.starts;
    this.#totalBytes = range.totalBytes;
  }

  /** The walk enters the planned segment `index`. */
  enterSegment(index: number): void {
    this.#bytesBefore = this.#rangeStarts[index] ?? 0;
    this.#segmentBytes = (this.#rangeStarts[index + 1] ?? this.#totalBytes) - this.#bytesBefore;
  }

  /** A record was read up to `position` in the current segment (called per record: keep it cheap). */
  advance(position: number): void {
    const bytes = this.#bytesBefore + Math.min(position, this.#segmentBytes);
    // The MiB check is made here rather than in `#report`, so a record that crosses nothing costs this call only.
    if (bytes >= this.#nextProgressAt) this.#report(bytes, false);
  }

  /**
   * The walk completed: damage ends it at `lastGoodOffset` of the current segment; otherwise the range was read to
   * its end (the rest is above `upto`).
   */
  finish(lastGoodOffset: number, damaged: boolean): void {
    const reached = this.#bytesBefore + Math.min(lastGoodOffset, this.#segmentBytes);
    this.#report(damaged ? reached : this.#totalBytes, true);
  }

  /** Report `bytes` of the range read (they have crossed the next MiB, or the walk is `done`). */
  #report(bytes: number, done: boolean): void {
    this.#nextProgressAt = (Math.floor(bytes / PROGRESS_EVERY_BYTES) + 1) * PROGRESS_EVERY_BYTES;
    this.#onProgress({ bytes, totalBytes: this.#totalBytes, records: this.#counter.records, done });
  }
}
