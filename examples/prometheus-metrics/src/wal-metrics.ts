/**
 * @lora/wal's observability as Prometheus metrics: counters and histograms fed by the handle's
 * `node:diagnostics_channel` events, and gauges read from `wal.ioStats()` when Prometheus scrapes.
 */

import { subscribe, unsubscribe } from "node:diagnostics_channel";
import {
  WAL_CHANNELS,
  type Wal,
  type WalCommitMessage,
  type WalRecoverMessage,
  type WalSyncMessage,
  type WalTruncateMessage,
} from "@lora/wal";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface WalMetrics {
  /** Read the gauges of `ioStats()` from this handle (opened on the same `dir`) at each scrape. */
  observe(wal: Wal<unknown>): void;
  /** Stop listening and remove the metrics from the registry. */
  close(): void;
}

/**
 * Register metrics for the log in `dir` (as given to `Wal.open`; it labels every series) in `registry`. Call it
 * before `Wal.open` so the open's recovery is measured too, then `observe(wal)`.
 */
export function walMetrics(dir: string, registry: Registry): WalMetrics {
  let wal: Wal<unknown> | undefined;
  const labelNames = ["dir"] as const;
  const registers = [registry];
  const commits = new Counter({
    name: "lora_wal_commits_total",
    help: "Transactions acknowledged",
    labelNames,
    registers,
  });
  const events = new Counter({ name: "lora_wal_events_total", help: "Events committed", labelNames, registers });
  const syncSeconds = new Histogram({
    name: "lora_wal_fdatasync_seconds",
    help: "fdatasync latency of the commit pipeline",
    labelNames,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const rotations = new Counter({ name: "lora_wal_rotations_total", help: "Segments sealed", labelNames, registers });
  const removed = new Counter({
    name: "lora_wal_segments_removed_total",
    help: "Segments removed by truncation",
    labelNames,
    registers,
  });
  const poisoned = new Gauge({
    name: "lora_wal_poisoned",
    help: "1 once a failure poisoned the log",
    labelNames,
    registers,
  });
  const recoverSeconds = new Gauge({
    name: "lora_wal_recovery_seconds",
    help: "Duration of the last open's replay and healing",
    labelNames,
    registers,
  });
  // Registered by construction; read at each scrape through collect().
  new Gauge({
    name: "lora_wal_bytes_written",
    help: "Bytes the commit pipeline wrote since open (from ioStats)",
    labelNames,
    registers,
    collect() {
      if (wal !== undefined) this.set({ dir }, wal.ioStats().bytesWritten);
    },
  });
  new Gauge({
    name: "lora_wal_buffered_bytes",
    help: "Bytes appended and not yet written (from ioStats)",
    labelNames,
    registers,
    collect() {
      if (wal !== undefined) this.set({ dir }, wal.ioStats().bufferedBytes);
    },
  });
  poisoned.set({ dir }, 0);

  const mine = (message: unknown): boolean => (message as { dir?: unknown }).dir === dir;
  const handlers: [string, (message: unknown) => void][] = [
    [
      WAL_CHANNELS.commit,
      (m) => {
        if (!mine(m)) return;
        commits.inc({ dir });
        events.inc({ dir }, (m as WalCommitMessage).events);
      },
    ],
    [WAL_CHANNELS.sync, (m) => mine(m) && syncSeconds.observe({ dir }, (m as WalSyncMessage).durationMs / 1000)],
    [WAL_CHANNELS.rotate, (m) => mine(m) && rotations.inc({ dir })],
    [WAL_CHANNELS.truncate, (m) => mine(m) && removed.inc({ dir }, (m as WalTruncateMessage).removedSegmentIds.length)],
    [WAL_CHANNELS.poison, (m) => mine(m) && poisoned.set({ dir }, 1)],
    [WAL_CHANNELS.recover, (m) => mine(m) && recoverSeconds.set({ dir }, (m as WalRecoverMessage).durationMs / 1000)],
  ];
  for (const [name, handler] of handlers) subscribe(name, handler);
  const names = [
    "lora_wal_commits_total",
    "lora_wal_events_total",
    "lora_wal_fdatasync_seconds",
    "lora_wal_rotations_total",
    "lora_wal_segments_removed_total",
    "lora_wal_poisoned",
    "lora_wal_recovery_seconds",
    "lora_wal_bytes_written",
    "lora_wal_buffered_bytes",
  ];
  return {
    observe(handle) {
      wal = handle;
    },
    close() {
      for (const [name, handler] of handlers) unsubscribe(name, handler);
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
