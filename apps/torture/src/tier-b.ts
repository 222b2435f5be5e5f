/**
 * Tier B: real processes on the real file system. Each cycle spawns a child writer (child.ts) on a directory
 * that persists across cycles, kills it with SIGKILL after a seeded random delay or lets a named failpoint kill
 * it (or lets it close cleanly), then reopens the log in this process and checks it against the child's ack
 * log: every acknowledged commit present (a SIGKILL is a process crash: bytes handed to the OS survive, in all
 * three modes), no phantom or partial transaction, LSNs increasing. The next cycle continues on the same log.
 * Also: a second opener in another process, and in this one while a child holds the log, gets `WAL_LOCKED`; the
 * lock of a SIGKILLed holder never blocks the next open.
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { type AckLine, parseAckLog, parseEvent } from "./ack-log.js";
import { between, mix, rng } from "./prng.js";
import { type Budget, budgetLeft, TierResult, type ViolationKind } from "./result.js";
import type { ModeName } from "./workloads.js";

const FAILPOINTS: Record<ModeName, readonly string[]> = {
  perCommit: ["commit.beforeWrite", "commit.afterWrite", "commit.beforeFsync", "commit.afterFsync"],
  group: ["commit.beforeWrite", "commit.afterWrite", "group.beforeFsync", "group.afterFsync"],
  none: ["commit.beforeWrite", "commit.afterWrite"],
};
const STRUCTURAL = [
  "rotate.afterSeal",
  "rotate.afterCreate",
  "rotate.afterDirFsync",
  "truncate.beforeUnlink",
  "truncate.afterUnlink",
  "truncate.afterDirFsync",
  "lock.afterAcquire",
];
const WRITERS: Record<ModeName, number> = { perCommit: 4, group: 16, none: 2 };
/** The `--blocking-sync` values the child cycles take turns at (`child.ts`). */
const BLOCKING_SYNC_TURNS = ["auto", "false", "true"] as const;

export interface TierBOptions {
  readonly seed: number;
  readonly budget: Budget;
  /** Run cycles 0..lastCycle only (replaying a failure). */
  readonly lastCycle?: number;
  readonly onProgress?: (r: TierResult) => void;
}

export function childScript(): string {
  return fileURLToPath(new URL("./child.js", import.meta.url));
}

interface ModeState {
  readonly mode: ModeName;
  readonly dir: string;
  readonly wal: string;
  readonly ack: string;
}

interface Plan {
  readonly kind: "kill" | "failpoint" | "clean";
  readonly delayMs: number;
  readonly failpoints: string;
}

function planCycle(seed: number, cycle: number, mode: ModeName): Plan {
  const next = rng(mix(seed, cycle, 0xb));
  const roll = next();
  if (roll < 0.1) return { kind: "clean", delayMs: 0, failpoints: "" };
  if (roll < 0.45) {
    const names = [...FAILPOINTS[mode], ...STRUCTURAL];
    const name = names[between(next, 0, names.length - 1)] as string;
    const term = STRUCTURAL.includes(name) ? "1*kill" : `${between(next, 1, 40)}*kill`;
    return { kind: "failpoint", delayMs: 1500, failpoints: `${name}=${term}` };
  }
  return { kind: "kill", delayMs: between(next, 5, 250), failpoints: "" };
}

export async function runTierB(opts: TierBOptions): Promise<TierResult> {
  const result = new TierResult("B");
  const start = Date.now();
  const root = await mkdtemp(join(tmpdir(), `lora-torture-b-${opts.seed}-`));
  const modes: ModeState[] = [];
  for (const mode of ["perCommit", "group", "none"] as const) {
    const dir = join(root, mode);
    await mkdir(dir, { recursive: true });
    modes.push({ mode, dir, wal: join(dir, "wal"), ack: join(dir, "ack.log") });
  }
  const violation = (kind: ViolationKind, cycle: number, message: string) =>
    result.add({
      tier: "B",
      kind,
      caseId: `${cycle}`,
      message: `${message} (directory kept: ${root})`,
      replay: `pnpm torture -- --tier B --seed ${opts.seed} --case ${cycle}`,
    });
  await checkCrossProcessLock(modes[0] as ModeState, opts.seed, result, (m) => violation("lock", -1, m));
  const last = opts.lastCycle ?? Number.POSITIVE_INFINITY;
  for (let cycle = 0; cycle <= last && budgetLeft(opts.budget, result.cases); cycle++) {
    const m = modes[cycle % modes.length] as ModeState;
    await runCycle(m, cycle, opts.seed, result, (k, msg) => violation(k, cycle, `${m.mode} cycle ${cycle}: ${msg}`));
    result.cases++;
    opts.onProgress?.(result);
  }
  result.ms = Date.now() - start;
  if (result.violations.length === 0) await rm(root, { recursive: true, force: true });
  return result;
}

function spawnChild(m: ModeState, args: readonly string[], failpoints: string) {
  return spawn(process.execPath, [childScript(), "--dir", m.wal, "--ack", m.ack, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WAL_FAILPOINTS: failpoints },
  });
}

async function runCycle(
  m: ModeState,
  cycle: number,
  seed: number,
  result: TierResult,
  violation: (k: ViolationKind, msg: string) => void,
): Promise<void> {
  const plan = planCycle(seed, cycle, m.mode);
  const before = existsSync(m.ack) ? parseAckLog(await readFile(m.ack, "utf8")) : [];
  const fence = fenceOf(before);
  const args = ["--mode", m.mode, "--seed", String(seed), "--cycle", String(cycle), "--fence", String(fence)];
  args.push("--writers", String(WRITERS[m.mode]), "--ops", plan.kind === "clean" ? "25" : "0");
  // Runs of three cycles take turns at where a sync round's fdatasync runs: "auto" (the default: blocking while
  // fsyncs are quick) first, then the thread pool, then blocking. Same guarantees for all three.
  args.push("--blocking-sync", BLOCKING_SYNC_TURNS[Math.floor(cycle / 3) % BLOCKING_SYNC_TURNS.length] as string);
  const child = spawnChild(m, args, plan.failpoints);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  // A liveness watchdog (a child that neither finishes nor dies): half a minute, so only a hang trips it, never a
  // loaded machine or a slow disk (a clean cycle's 25 operations take well under a second here).
  const safety = setTimeout(() => child.kill("SIGKILL"), 30_000);
  child.stdout.on("data", () => {
    if (killTimer === undefined && plan.kind !== "clean") {
      killTimer = setTimeout(() => child.kill("SIGKILL"), plan.delayMs);
    }
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  clearTimeout(safety);
  if (killTimer !== undefined) clearTimeout(killTimer);
  const lines = parseAckLog(await readFile(m.ack, "utf8"));
  const error = lines.find((l, i) => i >= before.length && l.t === "error");
  if (error !== undefined && error.t === "error") violation("error", `the child failed: ${error.message}`);
  if (exit.code !== null && exit.code !== 0)
    violation("error", `the child exited ${exit.code}: ${stderr.slice(0, 400)}`);
  if (plan.kind === "clean" && exit.code !== 0) violation("error", "a clean cycle did not close cleanly");
  if (exit.signal === "SIGKILL") {
    const byFailpoint = lines.slice(before.length).some((l) => l.t === "killed");
    result.bump(byFailpoint ? "failpointKills" : "randomKills");
  } else result.bump("cleanCloses");
  await verify(m, lines, result, violation);
}

function fenceOf(lines: readonly AckLine[]): number {
  let fence = 0;
  for (const l of lines) if (l.t === "checkpoint" && l.s > fence) fence = l.s;
  return fence;
}

/**
 * Check the log a cycle left against the child's acknowledgement log: it opens at the fence, every transaction is a
 * whole one the child committed and never aborted, LSNs increase, and every acknowledged commit is there.
 */
export async function verify(
  m: Pick<ModeState, "wal">,
  lines: readonly AckLine[],
  result: TierResult,
  violation: (k: ViolationKind, msg: string) => void,
): Promise<void> {
  const fence = fenceOf(lines);
  const intents = new Map<string, number>();
  const aborted = new Set<string>();
  const acked = new Map<string, { b: number; c: number }>();
  for (const l of lines) {
    if (l.t === "intent") intents.set(l.id, l.n);
    else if (l.t === "aborted") aborted.add(l.id);
    else if (l.t === "acked") acked.set(l.id, { b: l.b, c: l.c });
  }
  const txs: { beginLsn: number; commitLsn: number; events: JsonValue[] }[] = [];
  let wal: Wal<JsonValue>;
  try {
    ({ wal } = await Wal.open<JsonValue>(m.wal, {
      codec: jsonCodec,
      checkpointLsn: fence,
      onTransaction: (t) => void txs.push(t),
    }));
  } catch (e) {
    violation(
      "unopenable",
      `the log did not open after the kill: ${isWalError(e) ? `${e.code}: ${e.message}` : String(e)}`,
    );
    return;
  }
  await wal.close();
  result.crashStates++;
  const present = new Set<string>();
  let prev = 0;
  for (const t of txs) {
    if (t.beginLsn >= t.commitLsn || t.commitLsn <= prev)
      violation("lsn", `LSNs out of order at ${t.beginLsn}..${t.commitLsn}`);
    prev = t.commitLsn;
    const parsed = t.events.map(parseEvent);
    const id = parsed[0]?.id;
    const whole = id !== undefined && parsed.every((p, i) => p !== null && p.id === id && p.i === i);
    if (id === undefined || !whole || !intents.has(id) || intents.get(id) !== t.events.length || aborted.has(id)) {
      violation(
        "phantom",
        `transaction ${t.beginLsn}..${t.commitLsn} (${String(t.events[0]).slice(0, 30)}) was never committed, was aborted, or is not whole`,
      );
      continue;
    }
    if (present.has(id)) {
      violation("phantom", `${id} recovered twice, the second time at ${t.beginLsn}..${t.commitLsn}`);
      continue;
    }
    const a = acked.get(id);
    if (a !== undefined && (a.b !== t.beginLsn || a.c !== t.commitLsn)) {
      violation("lsn", `${id} recovered at ${t.beginLsn}..${t.commitLsn}, acknowledged at ${a.b}..${a.c}`);
    }
    present.add(id);
  }
  const missing: string[] = [];
  for (const [id, a] of acked) {
    if (a.b <= fence) continue;
    result.ackedChecked++;
    if (!present.has(id)) missing.push(id);
  }
  if (missing.length > 0) {
    violation(
      "lost",
      `${missing.length} acknowledged commit(s) missing after the kill: ${missing.slice(0, 5).join(", ")}`,
    );
  }
}

async function checkCrossProcessLock(
  m: ModeState,
  seed: number,
  result: TierResult,
  fail: (message: string) => void,
): Promise<void> {
  // Opened with the fence the cycles so far reached: a checkpoint may have truncated the log below any lower one.
  const checkpointLsn = existsSync(m.ack) ? fenceOf(parseAckLog(await readFile(m.ack, "utf8"))) : 0;
  // This process holds the log: a child must get WAL_LOCKED.
  const held = await Wal.open(m.wal, { codec: jsonCodec, checkpointLsn });
  const probe = spawnChild(m, ["--probe-lock"], "");
  await new Promise((resolve) => probe.on("exit", resolve));
  await held.wal.close();
  const lines = parseAckLog(await readFile(m.ack, "utf8"));
  const code = lines.findLast((l) => l.t === "lock");
  if (code?.t !== "lock" || code.code !== "WAL_LOCKED")
    fail(`a second opener in another process got ${code?.t === "lock" ? code.code : "nothing"}, not WAL_LOCKED`);
  // A child holds the log: this process must get WAL_LOCKED; after the child's SIGKILL, the next open succeeds at once.
  const child = spawnChild(
    m,
    ["--mode", "perCommit", "--seed", String(seed), "--cycle", "999999", "--writers", "1"],
    "",
  );
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  try {
    const second = await Wal.open(m.wal, { codec: jsonCodec, checkpointLsn, lockRetryMs: 20 });
    await second.wal.close();
    fail("a second opener in this process was not refused while a child held the log");
  } catch (e) {
    if (!isWalError(e, "WAL_LOCKED")) fail(`a second opener got ${String(e)}, not WAL_LOCKED`);
  }
  child.kill("SIGKILL");
  await new Promise((resolve) => child.on("exit", resolve));
  const t0 = Date.now();
  // The child may have checkpointed (and truncated) before its kill: the fence its acknowledgement log reached.
  const fence = fenceOf(parseAckLog(await readFile(m.ack, "utf8")));
  const after = await Wal.open(m.wal, { codec: jsonCodec, checkpointLsn: fence });
  await after.wal.close();
  result.extra.staleLockReopenMs = Date.now() - t0;
  result.bump("lockChecks", 2);
}
