/**
 * Which tier is meant to catch each planted bug. "Every planted bug caught" says little if a bug can slip from the
 * tier built to see it to another that meets it by accident, or if a tier silently stops running the case that caught
 * it: so each bug names its tier(s) here, the planted-bug run searches those first, and the run fails unless one of
 * them caught it.
 */

import type { PlantedBug } from "@lora/wal/testing";
import type { TierName } from "./result.js";
import type { FollowBug } from "./tier-f.js";
import type { SeamBug } from "./trace-workload.js";

/** Every bug a planted-bug run plants: the handle's, the Node seam's (tier D) and the follower's (tier F). */
export type AnyPlantedBug = PlantedBug | SeamBug | FollowBug;

/**
 * The tier(s) expected to catch each planted bug, at least one of which must. Every bug of the three lists is named
 * (a bug added to any of them without an entry does not compile), each with the tier whose check was built for it
 * (docs/crash-testing.md, "Planted bugs").
 */
export const EXPECTED_TIERS: Readonly<Record<AnyPlantedBug, readonly TierName[]>> = {
  // The handle's crash bugs: Tier A's crash images after each I/O step.
  "ack-before-fsync": ["A"],
  "skip-dir-fsync-on-create": ["A"],
  "next-lsn-from-max-only": ["A"],
  "rotate-inside-transaction": ["A"],
  "fence-off-by-one": ["A"],
  "drop-pending-on-close": ["A"],
  "seal-over-zero-tail": ["A"],
  // Only Tier A's syncRace starts a commit while a sync round runs.
  "sync-covers-later-writes": ["A"],
  // Only Tier A's manyCommits and commitHuge write more than its 4 KiB window at once, and its captures always hold
  // the tear at the first write after a sync.
  "unsynced-window-ignored": ["A"],
  // Tier A's second open after the write-after-recovery compares content.
  "double-batch-after-recovery": ["A"],
  // On-disk damage (a segment deleted from the middle) is Tier C's.
  "truncate-on-any-crc-error": ["C"],
  // Refusals, their codes and the fences: the misuse tier's.
  "accept-unknown-tx": ["misuse"],
  "tx-none-is-minus-one": ["misuse"],
  "unchecked-checkpoint-fence": ["misuse"],
  "unchecked-retained-fence": ["misuse"],
  // Injected fsync failures: the faults tier's (the background-sync cases for the second).
  "retry-fsync-after-eio": ["faults"],
  "sync-beside-background-sync": ["faults"],
  // Only Tier R checks the archived line after each flush.
  "durable-event-one-short": ["R"],
  // A crash state of a real file system's cut (the size change lost, the zeroed block landed): Tier D's lost cut.
  "one-step-tail-cut": ["D"],
  // Below the handle, in the Node seam: only tier D's traces of the real process see them.
  "syncdir-noop": ["D"],
  "datasync-wrong-fd": ["D"],
  "create-without-dir-fsync": ["D"],
  "snapshot-rename-before-fsync": ["D"],
  // The change feed's: only tier F runs followers.
  "follow-lying-durability": ["F"],
  "follow-durable-one-past": ["F"],
  "follow-lost-position-at-rotation": ["F"],
  "follow-commit-only-token": ["F"],
  "truncate-ignoring-slots": ["F"],
};

/** What the check needs of a planted bug's verdict. */
export interface CaughtBy {
  readonly caught: boolean;
  readonly tier: TierName | null;
  readonly expectedTiers: readonly TierName[];
}

/** The bug was caught, and by one of the tiers expected to catch it. */
export function caughtByExpectedTier(v: CaughtBy): boolean {
  return v.caught && v.tier !== null && v.expectedTiers.includes(v.tier);
}
