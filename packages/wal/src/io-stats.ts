/**
 * The commit pipeline's I/O counters and a small fixed-bucket histogram of fdatasync latency: cheap enough to keep
 * always (two clock reads and an array increment per sync round), and shaped like a Prometheus histogram so a
 * metrics exporter copies it as is.
 */

/** Upper bounds of the latency buckets, milliseconds (the last one, `Infinity`, counts every sample). */
export const SYNC_LATENCY_BUCKETS_MS: readonly number[] = [
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  Number.POSITIVE_INFINITY,
];

/** A latency histogram: `buckets[i].count` samples took at most `buckets[i].le` ms (cumulative, as Prometheus). */
export interface LatencyHistogram {
  readonly count: number;
  readonly sumMs: number;
  readonly maxMs: number;
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
}

/** What `wal.ioStats()` reports. Counts are since the handle opened. */
export interface IoStats {
  /** Writes the commit pipeline handed to the OS. */
  readonly writes: number;
  /** Bytes those writes carried. */
  readonly bytesWritten: number;
  /** fdatasync rounds of the commit pipeline (group commit: one per round, whatever the commits it covers). */
  readonly syncs: number;
  /** Their latency. */
  readonly syncLatency: LatencyHistogram;
  /** Bytes appended and not yet handed to the OS (the buffer's depth now). */
  readonly bufferedBytes: number;
}

export class PipelineStats {
  writes = 0;
  syncs = 0;
  bytesWritten = 0;
  #sumMs = 0;
  #maxMs = 0;
  readonly #perBucket = new Array<number>(SYNC_LATENCY_BUCKETS_MS.length).fill(0);

  recordSync(ms: number): void {
    this.#sumMs += ms;
    if (ms > this.#maxMs) this.#maxMs = ms;
    let i = 0;
    while (ms > (SYNC_LATENCY_BUCKETS_MS[i] as number)) i++;
    this.#perBucket[i] = (this.#perBucket[i] as number) + 1;
  }

  snapshot(bufferedBytes: number): IoStats {
    let cumulative = 0;
    const buckets = SYNC_LATENCY_BUCKETS_MS.map((le, i) => {
      cumulative += this.#perBucket[i] as number;
      return { le, count: cumulative };
    });
    return {
      writes: this.writes,
      bytesWritten: this.bytesWritten,
      syncs: this.syncs,
      syncLatency: { count: cumulative, sumMs: this.#sumMs, maxMs: this.#maxMs, buckets },
      bufferedBytes,
    };
  }
}
