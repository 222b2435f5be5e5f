/** What every tier reports: counters for the verdict table and the JSON report, and each violation found. */

export type TierName = "A" | "B" | "C" | "D" | "F" | "R" | "faults" | "misuse";

export type ViolationKind =
  | "lost" // I1: an acknowledged commit is missing
  | "phantom" // I2: an aborted, uncommitted or never-attempted transaction is visible, or one is not whole
  | "hole" // I3: a later commit is present while an earlier one is missing
  | "lsn" // I4: LSNs not increasing, reused, or a transaction split across segments
  | "silent-truncation" // I5: damage opened with fewer records and nothing reported
  | "poison" // I6: an acknowledgement after a failed fsync or write
  | "lock" // I7: a second opener was not refused
  | "idempotence" // I8: recovering again, or writing after recovery, changed the history
  | "unopenable" // I11: the log did not open after a crash with no media fault
  | "accepted-misuse" // M1: a call (or open) the handle must refuse was accepted
  | "refused-valid" // M2: a valid call (or open) was refused
  | "wrong-code" // M3: a refusal with another code than the contract names
  | "refusal-wrote" // M4: a refused call moved nextLsn or changed the directory's bytes
  | "usable-fence" // M5: safeCheckpointLsn() or a refusal's usableFence names a fence that is not accepted
  | "sync-order" // D: a traced acknowledgement before the fsync (file or directory) its bytes or entry need
  | "error"; // the harness or the workload failed in a way the contract does not allow

export interface Violation {
  readonly tier: TierName;
  readonly kind: ViolationKind;
  readonly caseId: string;
  readonly message: string;
  /** A one-line command that reruns exactly this case. */
  readonly replay: string;
}

export class TierResult {
  readonly tier: TierName;
  cases = 0;
  crashStates = 0;
  ackedChecked = 0;
  lost = 0;
  phantom = 0;
  silentTruncations = 0;
  /** Damage cases reported loudly, out of all damage cases (Tier C; bit flips separately). */
  corruptionDetected = 0;
  corruptionTotal = 0;
  readonly violations: Violation[] = [];
  /** Tier-specific figures (cycles, images, skipped duplicates, ...). */
  readonly extra: Record<string, number> = {};
  /** Observations that are not violations (Tier D: what the traces show about the real seam). */
  readonly notes: string[] = [];
  ms = 0;

  constructor(tier: TierName) {
    this.tier = tier;
  }

  add(v: Violation): void {
    if (v.kind === "lost") this.lost++;
    else if (v.kind === "phantom" || v.kind === "hole") this.phantom++;
    else if (v.kind === "silent-truncation") this.silentTruncations++;
    this.violations.push(v);
  }

  bump(key: string, by = 1): void {
    this.extra[key] = (this.extra[key] ?? 0) + by;
  }
}

/** Cap on violations printed per tier (all are counted). */
export const MAX_PRINTED_VIOLATIONS = 10;

/**
 * How much work a tier does: stop starting new work after `maxCases` (or at `deadline`, ms since epoch, which every
 * run passes as infinity: verdicts are bounded by count; the deadline serves tests of a tier alone).
 */
export interface Budget {
  readonly deadline: number;
  readonly maxCases: number;
}

export function budgetLeft(b: Budget, cases: number): boolean {
  return cases < b.maxCases && Date.now() < b.deadline;
}
