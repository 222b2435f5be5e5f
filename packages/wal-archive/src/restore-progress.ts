/**
 * A restore's progress reports: the convention `@lora/wal-replay`'s `onProgress` set (bytes done of a total known at
 * the start, at most one call per MiB and one at the end), counted in what a restore does: objects fetched from the
 * store and checked against their keys.
 */

/** How far a restore is (see `RestoreOptions.onProgress`). */
export interface RestoreProgress {
  /**
   * Bytes fetched from the store and checked against their keys (size and CRC-32) so far. Never decreases; at the
   * last call it equals `totalBytes`.
   */
  readonly bytes: number;
  /**
   * The sum of the sizes of the objects the restore fetches, as the archive's listing names them when it starts:
   * the sealed object of each segment in the range, and the newest segment's pieces when it is not sealed. A
   * segment cut at `toLsn` is fetched (and counted) whole. The next segment's first object, fetched for its header
   * when `toLsn` lies past the last restored record, is not in the range and not counted here, nor is a piece left
   * beside a segment's object, fetched to be compared with it (the result's `objects` counts both).
   */
  readonly totalBytes: number;
  /** Objects fetched and checked so far, of `totalObjects`. Never decreases. */
  readonly objects: number;
  /** The number of those objects. */
  readonly totalObjects: number;
  /** Segments fetched, checked and written to their temporary file so far, of `totalSegments`. Never decreases. */
  readonly segments: number;
  /** The segments of the range (the empty successor a restore may create not counted). */
  readonly totalSegments: number;
  /** True at the last call, once the restored segments are in place. */
  readonly done: boolean;
}

/** `onProgress` is called at most once per this many bytes fetched (and once at the end), as replay's is. */
export const PROGRESS_EVERY_BYTES = 1 << 20;

/** What a restore tells its progress as it goes. */
export interface RestoreProgressCounter {
  /** An object of `bytes` bytes was fetched and checked. */
  fetched(bytes: number): void;
  /** A segment was written to its temporary file. */
  written(): void;
  /** The restore has finished: the one call with `done: true`. */
  finish(): void;
}

/** The totals a restore knows once it has planned what to fetch. */
export interface RestoreTotals {
  readonly totalBytes: number;
  readonly totalObjects: number;
  readonly totalSegments: number;
}

const SILENT: RestoreProgressCounter = {
  fetched: () => undefined,
  written: () => undefined,
  finish: () => undefined,
};

/**
 * Count a restore's progress and report it to `onProgress` each time the bytes fetched cross the next MiB, so the
 * calls are bounded by the bytes (at most `floor(totalBytes / 1 MiB)` before the last one), not by the number of
 * objects (an active segment can be thousands of small pieces) nor by time.
 */
export function restoreProgressCounter(
  onProgress: ((progress: RestoreProgress) => void) | undefined,
  totals: RestoreTotals,
): RestoreProgressCounter {
  if (onProgress === undefined) return SILENT;
  let bytes = 0;
  let objects = 0;
  let segments = 0;
  let nextAt = PROGRESS_EVERY_BYTES;
  const { totalBytes, totalObjects, totalSegments } = totals;
  const report = (done: boolean) =>
    onProgress({ bytes, totalBytes, objects, totalObjects, segments, totalSegments, done });
  return {
    fetched(n) {
      bytes += n;
      objects++;
      if (bytes < nextAt) return;
      nextAt = (Math.floor(bytes / PROGRESS_EVERY_BYTES) + 1) * PROGRESS_EVERY_BYTES;
      report(false);
    },
    written() {
      segments++;
    },
    finish() {
      report(true);
    },
  };
}
