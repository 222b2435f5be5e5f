/**
 * Harness sensitivity (docs/crash-testing.md): each planted bug of the handle is switched on in turn and focused,
 * fixed subsets of the harness run against it (the tiers expected to catch it first, from expected-tiers.ts, then the
 * others in the order Tier A, Tier C, the misuse tier, the faults, Tier R, Tier D's traced writer, each to its first
 * violation); one of the expected ones must report a violation that the bug caused (a catch by another tier is reported, and fails the run).
 * Every subset is a fixed list of cases run to the end, never cut by a deadline, so "caught" does not depend on the
 * machine's speed.
 *
 * Attribution: the case that reported the violation is run again on the clean build, with the same options. Only
 * when it passes there is the violation the planted bug's (the runs are deterministic: without the bug's effect the
 * two would be identical). When it fails there too, the library has a bug of its own in that case, which the harness
 * sees without the planted one: the search goes on with the next cases. A bug the harness misses means it is blind
 * somewhere.
 */

import type { PlantedBug } from "@lora/wal/testing";
import { EXPECTED_TIERS } from "./expected-tiers.js";
import { faultCases, runFaults } from "./faults.js";
import { runMisuse } from "./misuse.js";
import type { TierName, TierResult, Violation } from "./result.js";
import { runTierA } from "./tier-a.js";
import { runTierC } from "./tier-c.js";
import { ensureStrace, runTierD, type TierDOptions, tracePlan } from "./tier-d.js";
import type { FollowBug } from "./tier-f.js";
import { runTierR } from "./tier-r.js";
import { traceChildBuilt } from "./trace-record.js";
import { SEAM_BUGS, type SeamBug, workloadOf } from "./trace-workload.js";
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
  "accept-unknown-tx",
  "tx-none-is-minus-one",
  "unchecked-checkpoint-fence",
  "unchecked-retained-fence",
  "seal-over-zero-tail",
  "sync-covers-later-writes",
  "sync-beside-background-sync",
  "double-batch-after-recovery",
  "durable-event-one-short",
  "one-step-tail-cut",
  "unsynced-window-ignored",
];

/** Planted bugs that only tier D's traced writer reaches (a crash state of a real file system's cut). */
export const TIER_D_ONLY: ReadonlySet<PlantedBug> = new Set(["one-step-tail-cut"]);

/** Misuse sequences per planted-bug run (cases 0..n-1 of the run's seed, without the wrong-codec opens). */
export const MISUSE_FOCUS_SEQUENCES = 8;
/** Tier C damage cases per planted-bug run: the structured ones (cuts, stale copies, sectors) and the first flips. */
export const TIER_C_FOCUS_CASES = 200;
/** Tier R cases (archive, crash, restore) per planted-bug run, of up to this many operations each. */
export const TIER_R_FOCUS_CASES = 6;
export const TIER_R_FOCUS_OPS = 30;
/**
 * Tier D per planted-bug run: the heal traces up to the one whose torn record is larger than the unsynced window
 * (only it is checked), its lost cuts first. Without strace, tier D is skipped and so is a bug only it catches.
 */
export const TIER_D_FOCUS = { traces: 0, healTraces: 3, kvTraces: 0, commits: 24, strictSamples: 2, maxStates: 150 };

export interface BugVerdict {
  readonly bug: PlantedBug | SeamBug | FollowBug;
  /** Which other tiers see it (seam bugs: none, by construction). */
  readonly otherTiers?: string;
  /** Not run (tier D without strace). */
  readonly skipped?: boolean;
  readonly caught: boolean;
  /** The tier that caught it (null when none did): the run passes only when it is one of `expectedTiers`. */
  readonly tier: TierName | null;
  /** The tiers expected to catch it (expected-tiers.ts). */
  readonly expectedTiers: readonly TierName[];
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
export function focusedCases(): number[] {
  const seqs: Op[][] = [
    ["commitSmall"],
    ["lowLevel", "reopen"],
    ["commitSmall", "checkpoint"],
    ["commitLarge", "commitLarge", "commitSmall"],
    ["commitSmall", "sync"],
    ["syncRace", "commitSmall"],
    // Several windows written at once: only in one segment (the one-segment variant) do they go out in pieces.
    ["commitHuge"],
    ["manyCommits"],
  ];
  const out: number[] = [];
  for (const ops of seqs)
    for (const mode of MODES) for (let v = 0; v < VARIANTS.length; v++) out.push(caseIndex(ops, mode, v));
  return out;
}

/** Findings the clean build shares after which a tier's attribution search gives up (see firstAttributable). */
const MAX_SHARED_PER_TIER = 3;

/**
 * The clean build's verdict on one control run, by tier, seed, focus and case. The clean build is the same for every
 * planted bug and its runs are deterministic, so each control runs once per process: in one run of the planted bugs,
 * three misuse bugs stop on the same first sequence, and three seam bugs on the same clean WAL trace.
 */
const cleanFindings = new Map<string, Promise<Violation | null>>();

/** The first violation the clean build reports in the control run named `key` (null: it passes). */
function cleanFinding(key: string, control: () => Promise<TierResult>): Promise<Violation | null> {
  let finding = cleanFindings.get(key);
  if (finding === undefined) {
    finding = control().then((r) => r.violations[0] ?? null);
    cleanFindings.set(key, finding);
  }
  return finding;
}

/** The bounded run of one tier: with `bugs` on, over `cases` (in order), stopping at the first violation. */
type FocusedRun = (bugs: readonly PlantedBug[], cases: readonly number[]) => Promise<TierResult>;

const unbounded = { deadline: Number.POSITIVE_INFINITY, maxCases: Number.MAX_SAFE_INTEGER };

/** Why tier D cannot run here (no strace, or the traced writer not built), or null when it can. */
function tierDMissing(): string | null {
  const strace = ensureStrace();
  if (strace.path === null) return strace.why;
  return traceChildBuilt() ? null : "the traced writer (dist/trace-child.js) is not built";
}

/**
 * A smaller focus, for tests of the verdict itself (planted-bugs.test.ts), never for a run that must catch a bug:
 * `cases` picks the cases each tier runs from its focused list (the whole list when it is absent), and tier D checks
 * at most `tierDStates` crash states of its trace (TIER_D_FOCUS.maxStates when absent).
 */
export interface FocusSample {
  readonly cases?: (tier: TierName, focused: readonly number[]) => readonly number[];
  readonly tierDStates?: number;
}

function focusedTiers(seed: number, sample: FocusSample = {}): [TierName, readonly number[], FocusedRun][] {
  const tiers = allFocusedTiers(seed, sample.tierDStates ?? TIER_D_FOCUS.maxStates);
  const pick = sample.cases;
  return pick === undefined ? tiers : tiers.map(([tier, cases, run]) => [tier, pick(tier, cases), run]);
}

function allFocusedTiers(seed: number, tierDStates: number): [TierName, readonly number[], FocusedRun][] {
  const count = (n: number) => Array.from({ length: n }, (_, i) => i);
  const tierD = tierDMissing() === null;
  const tierDFocus = { ...TIER_D_FOCUS, maxStates: tierDStates };
  return [
    [
      "A",
      focusedCases(),
      (bugs, cases) => runTierA({ seed, bugs, stopOnFirst: true, budget: unbounded, maxLen: 3, maxImages: 6, cases }),
    ],
    [
      "C",
      count(TIER_C_FOCUS_CASES),
      (bugs, cases) => runTierC({ seed, bugs, stopOnFirst: true, budget: unbounded, cases }),
    ],
    [
      "misuse",
      count(MISUSE_FOCUS_SEQUENCES),
      (bugs, cases) =>
        runMisuse({
          seed,
          bugs,
          stopOnFirst: true,
          sequences: cases.length,
          cases,
          wrongCodec: false,
          commitAfterClose: false,
        }),
    ],
    [
      "faults",
      count(faultCases(seed).length),
      (bugs, cases) => runFaults({ seed, bugs, stopOnFirst: true, budget: unbounded, cases }),
    ],
    [
      "R",
      count(TIER_R_FOCUS_CASES),
      (bugs, cases) =>
        runTierR({ seed, bugs, stopOnFirst: true, cases: cases.length, caseList: cases, ops: TIER_R_FOCUS_OPS }),
    ],
    [
      "D",
      tierD ? tracePlan({ seed, ...tierDFocus }).flatMap((p) => (p.workload === "heal-torn-large" ? [p.t] : [])) : [],
      (bugs, cases) => {
        const o: TierDOptions = { seed, ...tierDFocus, cases, stopOnFirst: true };
        return runTierD(bugs[0] === undefined ? o : { ...o, planted: bugs[0] });
      },
    ],
  ];
}

/**
 * The first violation in `cases` that the planted bug causes: the same case passes on the clean build. Returns it,
 * or null, with the violations of cases that fail on the clean build too (the library's own bugs).
 */
async function firstAttributable(
  bug: PlantedBug,
  cases: readonly number[],
  run: FocusedRun,
  cleanKey: string,
): Promise<{ found: Violation | null; shared: Violation[] }> {
  const shared: Violation[] = [];
  let rest = cases;
  while (rest.length > 0) {
    const r = await run([bug], rest);
    const first = r.violations[0];
    if (first === undefined) break;
    // Tier R names its cases `r-<index>`; the others by the index alone.
    const index = Number(first.caseId.replace(/^r-/, ""));
    const at = rest.indexOf(index);
    if ((await cleanFinding(`${cleanKey}:${index}`, () => run([], [index]))) === null) return { found: first, shared };
    shared.push(first);
    // A clean build that fails case after case would make this search rerun the tier over and over: past a few
    // shared findings, the tier cannot attribute anything and the next one takes over.
    if (at < 0 || shared.length >= MAX_SHARED_PER_TIER) break;
    rest = rest.slice(at + 1);
  }
  return { found: null, shared };
}

/**
 * Run one planted bug: the tiers in `expected` first (its entry in EXPECTED_TIERS unless given), then the others, to
 * the first that attributes a violation to it. `sample` (tests of the verdict only) runs fewer cases of each tier.
 */
export async function runPlantedBug(
  bug: PlantedBug,
  seed: number,
  expected: readonly TierName[] = EXPECTED_TIERS[bug] ?? [],
  sample: FocusSample = {},
): Promise<BugVerdict> {
  // A bug only tier D's traced writer reaches is not judged where tier D cannot run.
  const missing = tierDMissing();
  if (missing !== null && TIER_D_ONLY.has(bug))
    return {
      bug,
      caught: false,
      tier: null,
      expectedTiers: expected,
      example: `tier D skipped: ${missing}`,
      ms: 0,
      skipped: true,
    };
  const start = Date.now();
  const shared: Violation[] = [];
  const all = focusedTiers(seed, sample);
  const ordered = [
    ...expected.flatMap((name) => all.filter(([tier]) => tier === name)),
    ...all.filter(([tier]) => !expected.includes(tier)),
  ];
  for (const [tier, cases, run] of ordered) {
    const r = await firstAttributable(bug, cases, run, `${tier}:${seed}:${sample.tierDStates ?? ""}`);
    shared.push(...r.shared);
    if (r.found !== null)
      return { bug, caught: true, tier, expectedTiers: expected, example: r.found.message, ms: Date.now() - start };
  }
  const note =
    shared.length === 0
      ? null
      : `only findings the clean build shares: ${shared.map((v) => `[${v.tier}] ${v.message}`).join(" | ")}`;
  return { bug, caught: false, tier: null, expectedTiers: expected, example: note, ms: Date.now() - start };
}

/**
 * Tiers A, C, misuse and faults run the handle over SimFS and tier B kills a process whose page cache survives: a bug
 * in the Node seam's syncs changes nothing they can observe.
 */
const SEAM_BUG_OTHER_TIERS =
  "none: A, C, misuse and faults run over SimFS (not the Node seam); B's SIGKILL loses nothing from the page cache";

/**
 * A planted seam bug (a wrapper of the Node seam in the traced writer): tier D must report a violation on its trace,
 * where the clean seam's trace of the same workload (same seed, same case) reports none. The example then says
 * whether the crash states alone (no static check) see it too, a third trace; `statesAlone: false` leaves that out
 * (the tests, which judge only the verdict).
 */
export async function runSeamBug(
  bug: SeamBug,
  seed: number,
  { statesAlone = true }: { readonly statesAlone?: boolean } = {},
): Promise<BugVerdict> {
  const start = Date.now();
  const strace = ensureStrace();
  const expectedTiers = EXPECTED_TIERS[bug];
  if (strace.path === null)
    return {
      bug,
      caught: false,
      tier: null,
      expectedTiers,
      example: strace.why,
      ms: 0,
      skipped: true,
      otherTiers: SEAM_BUG_OTHER_TIERS,
    };
  const kv = workloadOf(bug) === "kv";
  const focus = {
    seed,
    traces: kv ? 0 : 1,
    kvTraces: kv ? 1 : 0,
    commits: 24,
    strictSamples: 2,
    maxStates: 150,
    stopOnFirst: true,
  };
  const r = await runTierD({ ...focus, bug });
  const first = r.violations[0];
  if (first === undefined)
    return {
      bug,
      caught: false,
      tier: null,
      expectedTiers,
      example: null,
      ms: Date.now() - start,
      otherTiers: SEAM_BUG_OTHER_TIERS,
    };
  // The three seam bugs of the WAL workload share its clean trace: its control runs once per process.
  const shared = await cleanFinding(`seam:${JSON.stringify(focus)}`, () => runTierD(focus));
  const caught = shared === null;
  // Do the crash states alone (no static check) see it too?
  let byStates = "";
  if (caught && statesAlone) {
    const v = (await runTierD({ ...focus, bug, staticViolations: false })).violations[0];
    byStates = v === undefined ? " | crash states alone: not caught" : ` | crash states alone: ${v.kind}: ${v.message}`;
  }
  return {
    bug,
    caught,
    tier: caught ? "D" : null,
    expectedTiers,
    example: caught ? `${first.message}${byStates}` : `the clean seam fails too: ${shared?.message ?? ""}`,
    ms: Date.now() - start,
    otherTiers: SEAM_BUG_OTHER_TIERS,
  };
}

export async function runPlantedBugs(seed: number): Promise<BugVerdict[]> {
  const out: BugVerdict[] = [];
  for (const bug of PLANTED_BUGS) out.push(await runPlantedBug(bug, seed));
  for (const bug of SEAM_BUGS) out.push(await runSeamBug(bug, seed));
  return out;
}
