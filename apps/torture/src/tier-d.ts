/**
 * Tier D: crash states computed from the real process's system calls (the ALICE method, Pillai et al., OSDI 2014).
 * Writers (dist/trace-child.js: commits in the three sync modes, rotations, a checkpoint with truncation, opens that
 * repair a torn tail or a sealed segment with no successor, the kv-store example) run under `strace` on a real
 * directory with the real Node seam (trace-record.ts); each trace becomes logical operations (trace-parse.ts), the
 * static checks run on them, and crash states under the strict and the ordered persistence models
 * (trace-model.ts) are materialised as real directories and opened with the real `Wal.open` (trace-check.ts).
 * A trace with any violation is saved for an exact replay (trace-saved.ts, `--trace-file`).
 *
 * strace is installed with apt-get when missing; when it cannot be, the tier is skipped (extra.skipped = 1).
 */

import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import type { PlantedBug } from "@lora/wal/testing";
import { TierResult, type Violation } from "./result.js";
import { checkKvState, checkWalState, commitsOf, requiredAt } from "./trace-check.js";
import {
  type CrashState,
  crashStatesAt,
  materialise,
  type RedundantSync,
  type StateFile,
  staticCheck,
} from "./trace-model.js";
import { type LogicalOp, parseTrace } from "./trace-parse.js";
import { ensureStrace, recordTrace, writerDir } from "./trace-record.js";
import { loadTrace, replayCommand, type SavedTrace, saveTrace } from "./trace-saved.js";
import { type SeamBug, TRACE_SYNC_MODES, type TraceSyncMode, type TraceWorkload } from "./trace-workload.js";

export { ensureStrace } from "./trace-record.js";

export interface TierDOptions {
  readonly seed: number;
  /** WAL traces to record (each a fresh writer; trace t in sync mode t % 3). */
  readonly traces: number;
  readonly commits: number;
  /** Strict-model subsets sampled per crash point. */
  readonly strictSamples: number;
  /** Cap on distinct crash states checked per trace (seeded choice beyond it). */
  readonly maxStates: number;
  readonly bug?: SeamBug;
  /** A planted bug of the handle, switched on in the traced writer's opens (the WAL workloads). */
  readonly planted?: PlantedBug;
  readonly stopOnFirst?: boolean;
  /** False: the static findings are counted (extra.staticFindings) but not violations, so only crash states judge. */
  readonly staticViolations?: boolean;
  /** Traces of a reopen that repairs damage (after the WAL traces: heal-torn, heal-sealed, heal-torn-large, heal-sealed, in turn). */
  readonly healTraces?: number;
  /** Traces of the kv-store example (after those), its crash states checked by KvStore.open. */
  readonly kvTraces?: number;
  /** Only these trace indices (a new recording of them). */
  readonly cases?: readonly number[];
  /** Check this saved trace again instead of recording (an exact replay). */
  readonly traceFile?: string;
}

/**
 * The bounded run: one WAL trace per sync mode, both heal workloads, the kv-store, each with a count-bounded number
 * of distinct crash states (6 traces: 40 states each in the default run, 25 with --smoke, about 10 s and 7 s).
 * `--tier D` alone checks more: 8 traces (four heal cases, one of them a torn record larger than the unsynced window),
 * up to 300 states each; --long 12 traces, 1000. That large torn record (`heal-torn-large`) stays out of the default
 * run and the smoke: as a seventh smoke trace it added about 30 % to the tier's CPU time (seeds 11 and 12: 2.2 s to
 * 2.8 s over 7.2 s to 7.9 s; its 1.5 MiB torn record makes a larger trace and larger states to write), and the
 * planted-bug phase runs it anyway (TIER_D_FOCUS), where `one-step-tail-cut` must be caught by it.
 */
export function tierDOptions(seed: number, smoke: boolean, long: boolean, alone: boolean): TierDOptions {
  return {
    seed,
    traces: long ? 6 : 3,
    healTraces: long || alone ? 4 : 2,
    kvTraces: 1,
    commits: 24,
    strictSamples: 4,
    maxStates: long ? 1000 : alone ? 300 : smoke ? 25 : 40,
  };
}

/** The heal traces' workloads, in turn: the third is a torn record larger than the unsynced window. */
const HEAL_CYCLE: readonly TraceWorkload[] = ["heal-torn", "heal-sealed", "heal-torn-large", "heal-sealed"];

/** Trace t of a run: its workload and sync mode. */
export function tracePlan(o: TierDOptions): { t: number; workload: TraceWorkload; mode: TraceSyncMode }[] {
  const heal = o.healTraces ?? 0;
  const total = o.traces + heal + (o.kvTraces ?? 0);
  return Array.from({ length: total }, (_, t) => {
    const mode = TRACE_SYNC_MODES[t % 3] as TraceSyncMode;
    if (t < o.traces) return { t, workload: "wal", mode };
    if (t < o.traces + heal)
      return { t, workload: HEAL_CYCLE[(t - o.traces) % HEAL_CYCLE.length] as TraceWorkload, mode };
    return { t, workload: "kv", mode: "perCommit" };
  });
}

/**
 * Where crash states are materialised: a RAM file system when there is one. They are opened in-process only, so
 * their fsyncs (recovery's, the check commit's) protect nothing, and on a disk they cost most of a state's check.
 */
function stateScratch(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return mkdtempSync("/dev/shm/lora-wal-tierd-state-");
  } catch {
    return mkdtempSync(join(tmpdir(), "lora-wal-tierd-state-"));
  }
}

function stateKey(files: readonly StateFile[]): string {
  return files
    .map((f) => `${f.path}:${f.bytes.byteLength}:${crc32(f.bytes)}`)
    .sort()
    .join("|");
}

/** Beyond the cap, lost-cut states (trace-model.ts) are checked first, up to 1/LOST_CUT_SHARE of it. */
const LOST_CUT_SHARE = 4;

/** What the run learns across traces, for the notes. */
interface Lessons {
  readonly redundant: RedundantSync[];
  readonly mkdirs: Set<string>;
  /** Files written and never fsynced in a trace: path -> writes, summed over traces. */
  readonly neverSynced: Map<string, number>;
}

/** The files of a trace that were written and never fsynced (whatever their name), with their write counts. */
function neverSynced(ops: readonly LogicalOp[], names: ReadonlyMap<number, string>): Map<string, number> {
  const writes = new Map<number, number>();
  const synced = new Set<number>();
  for (const op of ops) {
    if (op.kind === "write") writes.set(op.ino, (writes.get(op.ino) ?? 0) + 1);
    else if (op.kind === "fsync") synced.add(op.ino);
  }
  const out = new Map<string, number>();
  for (const [ino, n] of writes) if (!synced.has(ino)) out.set(names.get(ino) ?? String(ino), n);
  return out;
}

/** Parses, checks statically, enumerates and checks the crash states of one trace; returns its violations. */
async function checkTrace(r: TierResult, s: SavedTrace, lessons: Lessons, stopOnFirst: boolean) {
  const found: Omit<Violation, "replay">[] = [];
  const add = (kind: Violation["kind"], message: string) =>
    found.push({ tier: "D", kind, caseId: String(s.case), message: message.replaceAll(s.root, "") });
  const begun = Date.now();
  const parsed = parseTrace(s.trace, s.root, s.ackPath);
  const ops = parsed.ops;
  r.cases++;
  r.bump("traces");
  r.bump(`workload.${s.workload}`);
  if (s.workload !== "kv") r.bump(`mode.${s.mode}`);
  r.bump("syscalls", parsed.syscalls);
  r.bump("relevantSyscalls", parsed.relevant);
  r.bump("logicalOps", parsed.ops.length);
  for (const op of ops)
    if (op.kind === "ack" || op.kind === "wrote" || op.kind === "synced") r.bump(`claims.${op.kind}`);
  const failure = ops.find((op) => op.kind === "note" && op.text.startsWith("error"));
  if (s.status !== 0 || failure !== undefined)
    add(
      "error",
      `the traced writer failed (exit ${s.status}): ${failure?.kind === "note" ? failure.text : "no error line"}`,
    );
  if (!ops.some((op) => op.kind === "ack" || op.kind === "synced")) add("error", "the traced writer claimed nothing");
  if (parsed.truncatedWrites > 0) add("error", `${parsed.truncatedWrites} write(s) longer than strace -s`);
  for (const u of parsed.unmodelled) add("error", `a call the model does not follow: ${u}`);
  const ignore = new Set([...parsed.names].filter(([, p]) => basename(p).startsWith(".")).map(([ino]) => ino));
  const st = staticCheck(ops, parsed.names, ignore);
  r.bump("staticFindings", st.findings.length);
  r.bump("redundantSyncs", st.redundantSyncs.length);
  lessons.redundant.push(...st.redundantSyncs.map((x) => ({ ...x, path: x.path.replaceAll(s.root, "") })));
  for (const m of st.mkdirWithoutParentSync) lessons.mkdirs.add(m.replaceAll(s.root, ""));
  for (const [path, n] of neverSynced(ops, parsed.names)) {
    const at = path.replaceAll(s.root, "");
    lessons.neverSynced.set(at, (lessons.neverSynced.get(at) ?? 0) + n);
  }
  if (s.staticViolations) for (const f of st.findings) add("sync-order", `static: ${f.message}`);
  const commits = commitsOf(ops);
  r.bump(
    "lsnOrderNotCallOrder",
    commits.order.filter((index, p) => p > 0 && index < (commits.order[p - 1] as number)).length,
  );
  // Where the reopen of a heal workload starts: states after it test the repair.
  const healFrom = ops.findIndex((op) => op.kind === "note" && /^(damaged|sealed) /.test(op.text));
  if (stopOnFirst && found.length > 0) return found;
  // Crash states at every point, deduplicated by content and expectation; a seeded choice beyond maxStates.
  const seen = new Set<string>();
  // The same persisted operations give the same files: most states of one point recur at the next ones.
  const keyOfOps = new Map<string, string>();
  const distinct = { strict: new Set<string>(), ordered: new Set<string>() };
  const todo: { state: CrashState; desc: string; req: ReturnType<typeof requiredAt>; lostCut: boolean }[] = [];
  for (let point = 1; point <= ops.length; point++) {
    const req = requiredAt(ops, point, commits);
    for (const state of crashStatesAt(ops, point, s.seed + s.case, s.strictSamples)) {
      r.bump(state.model === "strict" ? "strictStates" : "orderedStates");
      r.crashStates++;
      const persisted = state.persisted.map((p) =>
        p.sizeLost === true ? `${p.op}z` : p.sectors === null ? p.op : `${p.op}:${p.sectors.join(".")}`,
      );
      if (state.persisted.some((p) => p.sizeLost === true)) r.bump("lostCutStates");
      const opsKey = persisted.join(",");
      let content = keyOfOps.get(opsKey);
      if (content === undefined) {
        content = stateKey(materialise(ops, state));
        keyOfOps.set(opsKey, content);
      }
      const key = `${req.fence}|${req.commits.size}|${content}`;
      distinct[state.model].add(key);
      if (seen.has(key)) continue;
      seen.add(key);
      const lostCut = state.persisted.some((p) => p.sizeLost === true);
      todo.push({ state, req, lostCut, desc: `crash before op ${point}, ${state.description}` });
    }
  }
  r.bump("distinctStates", todo.length);
  r.bump("modelMs", Date.now() - begun); // parse, static checks, enumeration
  r.bump("distinct.strict", distinct.strict.size);
  r.bump("distinct.ordered", distinct.ordered.size);
  r.bump("distinct.lostCut", todo.filter((t) => t.lostCut).length);
  let pick = todo;
  if (todo.length > s.maxStates) {
    // Lost cuts are few and each one a state no other choice makes: they go first (at most a quarter of the cap).
    const first = todo.filter((t) => t.lostCut).slice(0, Math.floor(s.maxStates / LOST_CUT_SHARE));
    const chosen = new Set(first);
    const rest = todo.filter((t) => !chosen.has(t));
    const room = s.maxStates - first.length;
    // Seeded choice of the rest: every k-th from a seeded offset, so the whole trace stays covered.
    const step = rest.length / room;
    const off = (s.seed % 997) / 997;
    pick = [
      ...first,
      ...Array.from({ length: room }, (_, i) => rest[Math.floor((i + off) * step)] as (typeof todo)[number]),
    ];
  }
  const checking = Date.now();
  const scratch = stateScratch();
  try {
    let n = 0;
    for (const { state, req, desc } of pick) {
      const dir = join(scratch, `s${n++}`);
      mkdirSync(dir);
      for (const f of materialise(ops, state)) {
        const p = join(dir, f.path.slice(s.root.length));
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, f.bytes);
      }
      const at = writerDir(dir, s.workload);
      const v = s.workload === "kv" ? await checkKvState(at, req) : await checkWalState(at, req, commits);
      r.bump("statesChecked");
      if (healFrom >= 0 && state.point > healFrom) r.bump("healStatesChecked");
      r.ackedChecked += v.acked;
      for (const p of v.problems) add(p.kind, `${desc}: ${p.message}`);
      rmSync(dir, { recursive: true, force: true });
      if (stopOnFirst && found.length > 0) break;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  r.bump("checkMs", Date.now() - checking);
  return found;
}

/** What the traces showed about the real seam, beyond violations. */
function lessonNotes(r: TierResult, lessons: Lessons): void {
  const by = (next: RedundantSync["next"]) => lessons.redundant.filter((x) => x.next === next).length;
  if (lessons.redundant.length > 0) {
    const example = lessons.redundant[0] as RedundantSync;
    r.notes.push(
      `${lessons.redundant.length} redundant fsync/fdatasync (nothing written to the file since its last sync) in ${r.extra.traces} traces: ${by("header")} right before a sealed-header write (seal syncs records a commit already synced), ${by("nothing")} as the file's last sync (close syncs what is synced), ${by("other")} before other writes; e.g. ${example.syscall} of ${example.path} (op ${example.op})`,
    );
  }
  if (lessons.neverSynced.size > 0)
    r.notes.push(
      `written and never fsynced (in the crash states, any of their writes may be missing): ${[...lessons.neverSynced].map(([p, n]) => `${p} (${n} writes)`).join(", ")}`,
    );
  if (lessons.mkdirs.size > 0)
    r.notes.push(`mkdir without an fsync of its parent (modelled as durable): ${[...lessons.mkdirs].join(", ")}`);
  if ((r.extra.lsnOrderNotCallOrder ?? 0) > 0)
    r.notes.push(`${r.extra.lsnOrderNotCallOrder} group-mode commit(s) got an LSN below one started before them`);
}

/** The replay field of a finding of a planted bug: its trace is not kept (the seed runs the planted phase again). */
export const PLANTED_NOT_KEPT =
  "a planted bug: no trace kept; pnpm torture -- --smoke runs the planted-bug phase again";

export async function runTierD(o: TierDOptions): Promise<TierResult> {
  const start = Date.now();
  const r = new TierResult("D");
  const lessons: Lessons = { redundant: [], mkdirs: new Set(), neverSynced: new Map() };
  const report = (found: Omit<Violation, "replay">[], s: SavedTrace, path: string | undefined) => {
    if (found.length === 0) return;
    // A bug planted on purpose is the planted-bug phase checking that this tier catches it: a finding is expected,
    // and a trace kept for each would pile up in the temporary directory with every run (and test run).
    const planted = path === undefined && (s.bug !== "none" || s.planted !== undefined);
    const replay = planted ? PLANTED_NOT_KEPT : replayCommand(path ?? saveTrace(s));
    for (const v of found) r.add({ ...v, replay });
  };
  if (o.traceFile !== undefined) {
    const s = loadTrace(o.traceFile);
    r.bump("replayed");
    report(await checkTrace(r, s, lessons, o.stopOnFirst === true), s, o.traceFile);
  } else {
    const strace = ensureStrace();
    if (strace.path === null) {
      r.bump("skipped");
      r.notes.push(`tier D skipped: ${strace.why}`);
      r.ms = Date.now() - start;
      return r;
    }
    for (const { t, workload, mode } of tracePlan(o)) {
      if (o.cases !== undefined && !o.cases.includes(t)) continue;
      const root = mkdtempSync(join(tmpdir(), "lora-wal-tierd-"));
      try {
        // The seed moves the commit count, so other seeds put rotations, waves and checkpoints elsewhere.
        const commits = o.commits + ((o.seed + t) % 4) * 4;
        const run = {
          workload,
          mode,
          commits,
          bug: o.bug ?? ("none" as const),
          ...(o.planted === undefined ? {} : { planted: o.planted }),
        };
        const recording = Date.now();
        const { trace, status } = recordTrace(strace.path, root, run);
        r.bump("recordMs", Date.now() - recording);
        const s: SavedTrace = {
          ...run,
          seed: o.seed,
          case: t,
          root,
          ackPath: join(root, "acks"),
          strictSamples: o.strictSamples,
          maxStates: o.maxStates,
          staticViolations: o.staticViolations !== false,
          status,
          trace,
        };
        report(await checkTrace(r, s, lessons, o.stopOnFirst === true), s, undefined);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
      if (o.stopOnFirst === true && r.violations.length > 0) break;
    }
  }
  lessonNotes(r, lessons);
  r.ms = Date.now() - start;
  return r;
}
