/**
 * Harness sensitivity (RELIABILITY-PLAN §3.4): each planted bug of the handle is switched on in turn and a
 * focused, fast subset of the harness runs against it; it must report at least one violation. A bug the
 * harness misses means the harness is blind somewhere.
 */

import type { PlantedBug } from "@lora/wal";
import { runFaults } from "./faults.js";
import type { TierName } from "./result.js";
import { runTierA } from "./tier-a.js";
import { runTierC } from "./tier-c.js";
import { MODES, OPS, type Op, VARIANTS, workloadCount } from "./workloads.js";

export const PLANTED_BUGS: readonly PlantedBug[] = [
  "ack-before-fsync",
  "truncate-on-any-crc-error",
  "skip-dir-fsync-on-create",
  "retry-fsync-after-eio",
  "next-lsn-from-max-only",
  "rotate-inside-transaction",
  "fence-off-by-one",
  "drop-pending-on-close",
];

export interface BugVerdict {
  readonly bug: PlantedBug;
  readonly caught: boolean;
  readonly tier: TierName | null;
  readonly example: string | null;
  readonly ms: number;
}

/** The index of the workload running `ops` in `mode` with variant `variant` (the inverse of `workloadAt`). */
export function caseIndex(ops: readonly Op[], mode: (typeof MODES)[number], variant: number): number {
  let digits = 0;
  for (let i = ops.length - 1; i >= 0; i--) digits = digits * OPS.length + OPS.indexOf(ops[i] as Op);
  return workloadCount(ops.length - 1) + (digits * VARIANTS.length + variant) * MODES.length + MODES.indexOf(mode);
}

/** Focused Tier A cases: short workloads in every mode and variant that exercise each mechanism. */
function focusedCases(): number[] {
  const seqs: Op[][] = [
    ["commitSmall"],
    ["lowLevel", "reopen"],
    ["commitSmall", "checkpoint"],
    ["commitLarge", "commitLarge", "commitSmall"],
    ["commitSmall", "sync"],
  ];
  const out: number[] = [];
  for (const ops of seqs)
    for (const mode of MODES) for (let v = 0; v < VARIANTS.length; v++) out.push(caseIndex(ops, mode, v));
  return out;
}

export async function runPlantedBug(bug: PlantedBug, seed: number, budgetMs: number): Promise<BugVerdict> {
  const start = Date.now();
  const budget = () => ({ deadline: start + budgetMs, maxCases: Number.MAX_SAFE_INTEGER });
  const common = { seed, bugs: [bug], stopOnFirst: true } as const;
  const tiers: [TierName, () => Promise<{ violations: { message: string }[] }>][] = [
    ["A", () => runTierA({ ...common, budget: budget(), maxLen: 3, maxImages: 6, cases: focusedCases() })],
    ["faults", () => runFaults({ ...common, budget: budget() })],
    ["C", () => runTierC({ ...common, budget: budget() })],
  ];
  for (const [tier, run] of tiers) {
    const r = await run();
    const first = r.violations[0];
    if (first !== undefined) return { bug, caught: true, tier, example: first.message, ms: Date.now() - start };
  }
  return { bug, caught: false, tier: null, example: null, ms: Date.now() - start };
}

export async function runPlantedBugs(seed: number, budgetMsEach: number): Promise<BugVerdict[]> {
  const out: BugVerdict[] = [];
  for (const bug of PLANTED_BUGS) out.push(await runPlantedBug(bug, seed, budgetMsEach));
  return out;
}
