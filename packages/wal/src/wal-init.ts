/** What the `Wal` handle is constructed from: `Wal.open`'s checked options and what recovery left. */

import type { PayloadCodec } from "@lora/wal-codec";
import type { HeldLock } from "@lora/wal-lock";
import type { TransactionSpans } from "@lora/wal-replay";
import type { SegmentWriter, WalFileSystem } from "@lora/wal-segment";
import type { SegmentLifecycle } from "./segment-lifecycle.js";
import type { SyncMode } from "./sync-mode.js";
import type { BlockingSyncInput } from "./sync-placement.js";
import type { Failpoint, PlantedBug, WalTestingClock } from "./testing-hooks.js";

/** The private constructor's argument (see `Wal.open`). */
export interface WalInit<E> {
  dir: string;
  fs: WalFileSystem;
  codec: PayloadCodec<E>;
  syncMode: SyncMode;
  blockingSync: BlockingSyncInput;
  target: number;
  lock: HeldLock;
  writer: SegmentWriter;
  nextLsn: number;
  /**
   * `nextLsn` lies above the next LSN of the active segment (a fence above the log's end): the first record goes
   * into a new segment, so LSNs within a segment rise by one.
   */
  rotateBeforeFirstRecord: boolean;
  durableLsn: number;
  segments: SegmentLifecycle;
  floor: number;
  /** The oldest segment's base LSN minus one (the lowest fence the log can serve). */
  oldestFence: number;
  spans: TransactionSpans;
  failpoint: Failpoint;
  bugs: ReadonlySet<PlantedBug>;
  /** A test's clock for the group flusher and the sync rounds (testing builds only); Node's when undefined. */
  clock: WalTestingClock | undefined;
  /** Committed transactions the open replayed (planted bug `double-batch-after-recovery` only). */
  replayedTransactions: number;
}
