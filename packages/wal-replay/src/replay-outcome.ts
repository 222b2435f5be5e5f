/** The report a replay settles with once its walk ends. */

import type { ReplayFindings } from "./replay-damage.js";
import type { ReplayOutcome, SegmentSummary } from "./replay-types.js";
import type { TransactionAssembler } from "./transaction-assembler.js";

/** What the walk knows besides its assembler's counts. */
export interface WalkReport {
  /** The directory's oldest segment's base LSN, when the walk started at a later segment (a seek to `after`). */
  readonly oldestBaseLsn: number | undefined;
  readonly lastGoodOffset: number;
  readonly found: ReplayFindings;
  readonly segments: SegmentSummary[];
  /** Committed transactions not handed over because they began at or below `after`. */
  readonly skipped: number;
  /** Whether the walk ran to its end (or to damage it reports) rather than being stopped early. */
  readonly complete: boolean;
}

/** The outcome of a walk: its assembler's counts and boundaries, and what the walk found (finishes the spans). */
export function replayOutcome<E>(assembler: TransactionAssembler<E>, walk: WalkReport): ReplayOutcome {
  return {
    oldestFence: walk.oldestBaseLsn === undefined ? assembler.oldestFence : walk.oldestBaseLsn - 1,
    newestSnapshotLsn: assembler.newestSnapshot,
    transactionSpans: assembler.finishSpans(),
    maxLsn: assembler.maxLsn,
    lastGoodOffset: walk.lastGoodOffset,
    tornTail: walk.found.tornTail,
    corruption: walk.found.corruption,
    checkpointLsnObserved: assembler.checkpointObserved,
    segments: walk.segments,
    headerlessLastSegment: walk.found.headerless,
    committedTransactions: assembler.committed - walk.skipped,
    abortedTransactions: assembler.aborted,
    uncommittedTransactions: assembler.openTransactions,
    records: assembler.records,
    complete: walk.complete,
  };
}

/** How a walk settles its replay's outcome. */
export interface OutcomeSettle {
  resolve(outcome: ReplayOutcome): void;
  reject(error: unknown): void;
}

/** An outcome still to be settled, and how to settle it. */
export function pendingOutcome(): { outcome: Promise<ReplayOutcome>; settle: OutcomeSettle } {
  let settle!: OutcomeSettle;
  const outcome = new Promise<ReplayOutcome>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The outcome is optional to read; a rejection nobody asked for must not become an unhandled rejection.
  outcome.catch(() => undefined);
  return { outcome, settle };
}
