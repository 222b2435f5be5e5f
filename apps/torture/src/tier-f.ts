/**
 * Tier F: the change feed (followers). Two parts, both bounded by count, never by a deadline:
 *
 * - F-sim (tier-f-sim.ts): seeded writer workloads on SimFS with consumers following concurrently (`wal.follow`,
 *   `followDir` with and without a replication slot, one restarting at every rotation, one syncing for itself);
 *   crashes at exact file-system operations (power loss, process crash, a process crash inside a segment write),
 *   clean reopens, lagging consumers overtaken by truncation. Checks the durable-only guarantee against every crash
 *   image, that each consumer's deliveries are exactly the committed history after its start (no gap, no duplicate,
 *   nothing recovery dropped), and resuming from any delivered token (`readCommitted`, a fresh `followDir`, a fresh
 *   `wal.follow`).
 * - F-proc (tier-f-proc.ts): a real writer process SIGKILLed at seeded points and restarted, many rotations and
 *   truncations, and a real follower process with a slot; its deliveries must be exactly the history the parent
 *   reads independently, every acknowledged commit included. Needs the packages built (skipped with a note
 *   otherwise, as tier D is without strace).
 *
 * Planted bugs (implemented in this tier, never in the packages): `follow-lying-durability` (a follower whose
 * source reports the written LSN as durable), `follow-durable-one-past` (one whose source reports one LSN past the
 * fsynced one), `follow-lost-position-at-rotation` (a consumer that resumes from the
 * new segment's base LSN when the log rotates), `truncate-ignoring-slots` (the writer unlinks the segments the
 * fence alone allows, behind the handle's back, ignoring the slots).
 */

import { EXPECTED_TIERS } from "./expected-tiers.js";
import { FOLLOW_TIER } from "./follow-history.js";
import { SIM_BUG_CONSUMER } from "./follow-sim-consumer.js";
import { type TierName, TierResult, type Violation } from "./result.js";
import { runFollowProc } from "./tier-f-proc.js";
import { runFollowSim } from "./tier-f-sim.js";

export interface TierFOptions {
  readonly seed: number;
  /** F-sim cases (each a fresh SimFS and workload). */
  readonly simCases: number;
  /** Writer operations per F-sim case (at most; at least three quarters of it). */
  readonly simOps: number;
  /** Run only these F-sim cases (replaying one); F-proc then does not run. */
  readonly simCaseList?: readonly number[];
  /** F-proc writer cycles before the last, clean one; 0 skips F-proc. */
  readonly procCycles: number;
  readonly onProgress?: (r: TierResult) => void;
}

/**
 * The bounded runs, by count. Default: 8 F-sim cases of up to 40 operations and 22 F-proc writer cycles (one clean
 * close, 21 kills) plus a last clean one, for 20+ kills, rotations and truncations (measured on a 2-core machine
 * under a load average of about 10: 7 s + 15 s); `--smoke` 4 cases and 8 cycles; `--long` 40 cases of up to 60
 * operations and 60 cycles.
 */
export function tierFOptions(seed: number, smoke: boolean, long: boolean): TierFOptions {
  return {
    seed,
    simCases: long ? 40 : smoke ? 4 : 8,
    simOps: long ? 60 : smoke ? 30 : 40,
    procCycles: long ? 60 : smoke ? 8 : 22,
  };
}

export async function runTierF(options: TierFOptions): Promise<TierResult> {
  const result = new TierResult(FOLLOW_TIER);
  const start = Date.now();
  let t = Date.now();
  await runFollowSim(
    {
      seed: options.seed,
      cases: options.simCases,
      ops: options.simOps,
      ...(options.simCaseList === undefined ? {} : { caseList: options.simCaseList }),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    },
    result,
  );
  result.extra["sim.ms"] = Date.now() - t;
  if (options.procCycles > 0 && options.simCaseList === undefined) {
    t = Date.now();
    await runFollowProc(
      {
        seed: options.seed,
        cycles: options.procCycles,
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      },
      result,
    );
    result.extra["proc.ms"] = Date.now() - t;
  }
  finish(result, start);
  return result;
}

/** The figures every F run reports, zero when nothing counted them. */
const FIGURES = ["operations", "deliveriesChecked", "crashImages", "resumes", "kills", "rotations", "truncations"];

function finish(result: TierResult, start: number): void {
  for (const key of FIGURES) result.extra[key] ??= 0;
  result.extra.violations = result.violations.length;
  result.ms = Date.now() - start;
}

// ---- planted bugs ------------------------------------------------------------------------------------------------

export const FOLLOW_BUGS = [
  "follow-lying-durability",
  "follow-durable-one-past",
  "follow-lost-position-at-rotation",
  "follow-commit-only-token",
  "truncate-ignoring-slots",
] as const;
export type FollowBug = (typeof FOLLOW_BUGS)[number];

/** The same shape as planted-bugs.ts's BugVerdict, for tier F's own bugs. */
export interface FollowBugVerdict {
  readonly bug: FollowBug;
  /** Which other tiers see it. */
  readonly otherTiers: string;
  readonly caught: boolean;
  readonly tier: TierName | null;
  /** The tiers expected to catch it (expected-tiers.ts): tier F. */
  readonly expectedTiers: readonly TierName[];
  readonly example: string | null;
  readonly ms: number;
}

/** No other tier runs a follower, or has a replication slot for truncation to ignore. */
const OTHER_TIERS: Record<FollowBug, string> = {
  "follow-lying-durability":
    "none: tiers A-D, faults and misuse never run a follower (the writer's own durability is right; the lie is in the feed)",
  "follow-durable-one-past":
    "none: tiers A-D, faults and misuse never run a follower (the writer's own durability is right; the error is in the feed)",
  "follow-lost-position-at-rotation": "none: no other tier follows the log across rotations",
  "follow-commit-only-token":
    "none: no other tier resumes a follower, and only tier F interleaves transactions around a resume token",
  "truncate-ignoring-slots":
    "none: no other tier has replication slots, and the segments removed hold only records at or below the checkpoint fence, which recovery at the fence never reads",
};

/** F-sim cases a planted-bug run goes through (to its first attributable violation), and F-proc's cycles. */
export const FOLLOW_BUG_SIM_CASES = 32;
export const FOLLOW_BUG_PROC_CYCLES = 10;

/**
 * Run one planted bug through tier F and attribute what it reports: a violation counts when it is on the consumer
 * the bug lives in (F-sim: the `engine` consumer's source, the `rotation` consumer's token) or is a truncation gap
 * (F-proc), and the same case (same seed) with the bug off, where that consumer runs with the correct source or
 * token, reports no violation of that kind there. Bounded by count: a fixed list of cases or cycles, to the first attributable finding.
 */
export async function runFollowBug(bug: FollowBug, seed: number): Promise<FollowBugVerdict> {
  const start = Date.now();
  const verdict = (found: Violation | null, note: string | null): FollowBugVerdict => ({
    bug,
    otherTiers: OTHER_TIERS[bug],
    caught: found !== null,
    tier: found === null ? null : FOLLOW_TIER,
    expectedTiers: EXPECTED_TIERS[bug],
    example: found?.message ?? note,
    ms: Date.now() - start,
  });
  if (bug === "truncate-ignoring-slots") {
    const r = new TierResult(FOLLOW_TIER);
    await runFollowProc({ seed, cycles: FOLLOW_BUG_PROC_CYCLES, bug, stopWhen: (v) => v.kind === "hole" }, r);
    const found = r.violations.find((v) => v.kind === "hole") ?? null;
    if (found === null) return verdict(null, r.violations[0]?.message ?? "no violation");
    const control = new TierResult(FOLLOW_TIER);
    await runFollowProc({ seed, cycles: FOLLOW_BUG_PROC_CYCLES }, control);
    const shared = control.violations.find((v) => v.kind === "hole");
    return shared === undefined ? verdict(found, null) : verdict(null, `the clean writer shares it: ${shared.message}`);
  }
  // The consumer the bug lives in: a violation must name it to be the bug's.
  const consumer = SIM_BUG_CONSUMER[bug];
  const mine = (v: Violation) => v.message.includes(`${consumer} `) || v.message.includes(`: ${consumer}`);
  const shared: string[] = [];
  for (let index = 0; index < FOLLOW_BUG_SIM_CASES; index++) {
    const r = new TierResult(FOLLOW_TIER);
    await runFollowSim({ seed, cases: 1, caseList: [index], ops: 40, bug, stopWhen: mine }, r);
    const found = r.violations.find(mine);
    if (found === undefined) continue;
    const control = new TierResult(FOLLOW_TIER);
    await runFollowSim({ seed, cases: 1, caseList: [index], ops: 40 }, control);
    const same = control.violations.find((v) => v.kind === found.kind && mine(v));
    if (same === undefined) return verdict(found, null);
    shared.push(same.message);
  }
  return verdict(null, shared.length === 0 ? null : `only findings the clean run shares: ${shared.join(" | ")}`);
}

export async function runFollowBugs(seed: number): Promise<FollowBugVerdict[]> {
  const out: FollowBugVerdict[] = [];
  for (const bug of FOLLOW_BUGS) out.push(await runFollowBug(bug, seed));
  return out;
}
