/**
 * Tier F, real processes (F-proc). A writer child (follow-child.ts, real files, the Node seam) commits with
 * acknowledgements through 2 KiB segments (a rotation every few commits), some of them low-level transactions that
 * interleave with the other writers' commits, and checkpoints with truncation; the
 * parent SIGKILLs it after a seeded delay, or it kills itself after a seeded number of acknowledgements or at a
 * rotation or truncation failpoint, or it closes cleanly; then the next writer starts on the same directory. A
 * follower child runs `followDir` with a replication slot beside all of them, confirming every delivery and logging
 * it; the parent stops it (SIGSTOP, so it lags across a cycle's rotations and truncations) or kills and restarts it
 * (it resumes from its slot) at seeded cycles. Each writer process is started while the previous one runs and waits
 * for its configuration, so Node's start-up time does not separate a kill from the next open.
 *
 * The oracle: after each writer exits, the parent recovers the log (`Wal.open` at the checkpoint fence, as the
 * next writer would; readCommitted alone refuses a newest segment a writer died creating, see
 * change-feed-contract.test.ts) and reads what was committed since the last cycle with `readCommitted` from the position of a
 * replication slot of its own (`oracle`), then advances that slot: truncation never removes what the oracle has
 * not read yet, so the history is read whole even though the log keeps only its tail. The oracle's commit-LSN
 * position is exact although the log interleaves: it reads only after the writer died, and a transaction left open
 * by a dead writer can never commit, so nothing begun before that position is still to come. Each transaction read must
 * be a whole, committed, never aborted transaction of the workload, and every acknowledged commit must be there at
 * its acknowledged LSNs. At the end, after a last clean writer, the follower's deliveries (at-least-once across its
 * restarts, folded: a transaction delivered again after a restart must be the same one) must be exactly that
 * history, in order: no gap, no duplicate, every acknowledged commit delivered.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  advanceSlot,
  createSlot,
  isWalError,
  type JsonValue,
  jsonCodec,
  readCommitted,
  readSlot,
  Wal,
} from "@lora/wal";
import { errorText } from "./bounded-wait.js";
import { followChildScript } from "./follow-child-build.js";
import { checkStream, DeliveryStream, describeTx, FOLLOW_TIER, History, summarize } from "./follow-history.js";
import { type FollowerLine, parseLines, type WriterConfig, type WriterLine } from "./follow-proc-log.js";
import { between, mix, rng } from "./prng.js";
import type { TierResult, Violation, ViolationKind } from "./result.js";

export type FollowProcBug = "truncate-ignoring-slots";

export interface FollowProcOptions {
  readonly seed: number;
  /** Writer cycles before the last, clean one. */
  readonly cycles: number;
  readonly bug?: FollowProcBug;
  /** Stop at the first violation (planted-bug runs). */
  /** Stop at the first violation this accepts (planted-bug runs: the bug's kind of finding). */
  readonly stopWhen?: (v: Violation) => boolean;
  readonly onProgress?: (r: TierResult) => void;
}

const DEBUG = process.env.TORTURE_DEBUG === "1";
const FOLLOWER_SLOT = "follower";
const ORACLE_SLOT = "oracle";
/**
 * Liveness watchdogs (a writer that neither finishes nor dies, a follower that stops delivering): half a minute, far
 * past what a cycle takes on a loaded machine with a slow disk (well under a second here), so only a hang trips
 * them, never the machine's speed; together still under the 120 s of a test that runs the tier, so a hang is named.
 */
const WRITER_SAFETY_MS = 30_000;
const FOLLOWER_IDLE_MS = 30_000;
/** When a self-kill or a failpoint has not happened after this long, the parent kills the writer. */
const FAILPOINT_FALLBACK_MS = 200;

/** Failpoints at which a writer may kill itself: where segments are sealed, created and removed. */
const FAILPOINTS = [
  "rotate.afterSeal",
  "rotate.afterCreate",
  "rotate.afterDirFsync",
  "truncate.beforeUnlink",
  "truncate.afterUnlink",
  "truncate.afterDirFsync",
  "commit.afterWrite",
];

interface CyclePlan {
  readonly kind: "kill" | "self" | "failpoint" | "clean";
  readonly delayMs: number;
  readonly acks: number;
  readonly failpoints: string;
  readonly mode: "perCommit" | "group";
  /** SIGSTOP the follower for the whole cycle. */
  readonly stopFollower: boolean;
  /** SIGKILL the follower this many ms into the cycle and start a new one (-1: no). */
  readonly killFollowerMs: number;
}

function planCycle(seed: number, cycle: number, last: boolean): CyclePlan {
  const next = rng(mix(seed, 0xf2, cycle));
  const mode = next() < 0.7 ? "perCommit" : "group";
  const stopFollower = !last && next() < 0.2;
  const killFollowerMs = !last && !stopFollower && next() < 0.2 ? between(next, 10, 150) : -1;
  const base = { mode, stopFollower, killFollowerMs } as const;
  if (last) return { ...base, kind: "clean", delayMs: 0, acks: 0, failpoints: "" };
  // One clean close early (the follower then sees a closed mark), a kill in every other cycle.
  if (cycle === 1) return { ...base, kind: "clean", delayMs: 0, acks: 0, failpoints: "" };
  const roll = next();
  if (roll < 0.35) {
    return { ...base, kind: "self", delayMs: FAILPOINT_FALLBACK_MS, acks: between(next, 12, 45), failpoints: "" };
  }
  if (roll < 0.6) {
    const name = FAILPOINTS[between(next, 0, FAILPOINTS.length - 1)] as string;
    // A failpoint not reached soon (no truncation due, say) leaves the parent's SIGKILL after a fallback delay.
    return {
      ...base,
      kind: "failpoint",
      delayMs: FAILPOINT_FALLBACK_MS,
      acks: 0,
      failpoints: `${name}=${between(next, 1, 4)}*kill`,
    };
  }
  return { ...base, kind: "kill", delayMs: between(next, 40, 180), acks: 0, failpoints: "" };
}

/** The line of a child's stderr that names its error (a module that failed to load names the module there). */
function errorLine(stderr: string): string {
  const line = stderr.split("\n").find((l) => /Error/.test(l));
  return (line ?? stderr).trim().slice(0, 300);
}

/** The start of the name of a run's directory in the OS's temporary directory (a planted bug's name in it). */
export function followProcRootPrefix(o: { readonly seed: number; readonly bug?: string | undefined }): string {
  return `lora-torture-f-${o.seed}-${o.bug === undefined ? "" : `${o.bug}-`}`;
}

export async function runFollowProc(o: FollowProcOptions, result: TierResult): Promise<void> {
  const run = new ProcRun(o, result, await followChildScript(), await mkdtemp(join(tmpdir(), followProcRootPrefix(o))));
  try {
    await run.run();
  } finally {
    await run.cleanup();
  }
}

class ProcRun {
  readonly #o: FollowProcOptions;
  readonly #r: TierResult;
  readonly #script: string;
  readonly #root: string;
  readonly #dir: string;
  readonly #writerLog: string;
  readonly #followerLog: string;
  readonly #history = new History();
  #follower: ChildProcess | null = null;
  #followerStderr = "";
  /** Where the current follower's lines start in its log. */
  #followerLogFrom = 0;
  #followerStarts = 0;
  /** The next writer, started ahead and waiting for its configuration. */
  #spare: { child: ChildProcess; stderr: () => string } | null = null;
  #writerLinesSeen = 0;
  #cycle = 0;
  readonly #violationsAtStart: number;

  constructor(o: FollowProcOptions, result: TierResult, script: string, root: string) {
    this.#o = o;
    this.#r = result;
    this.#script = script;
    this.#root = root;
    this.#dir = join(root, "wal");
    this.#writerLog = join(root, "writer.log");
    this.#followerLog = join(root, "follower.log");
    this.#violationsAtStart = result.violations.length;
  }

  #bump(key: string, by = 1): void {
    this.#r.bump(key, by);
    this.#r.bump(`proc.${key}`, by);
  }

  #violation(kind: ViolationKind, message: string): void {
    this.#r.add({
      tier: FOLLOW_TIER,
      kind,
      caseId: `proc-${this.#cycle}`,
      message:
        this.#o.bug === undefined
          ? `F-proc cycle ${this.#cycle}: ${message} (directory kept: ${this.#root})`
          : `F-proc cycle ${this.#cycle} [planted ${this.#o.bug}]: ${message}`,
      replay: `pnpm torture -- --tier F --seed ${this.#o.seed}`,
    });
  }

  get #failed(): boolean {
    const stop = this.#o.stopWhen;
    return stop !== undefined && this.#r.violations.slice(this.#violationsAtStart).some(stop);
  }

  async cleanup(): Promise<void> {
    this.#stopFollower();
    this.#spare?.child.kill("SIGKILL");
    this.#spare = null;
    // Kept for a finding to look into; a planted bug's finding is the expected one (its runs would pile up).
    if (this.#o.bug !== undefined || this.#r.violations.length === this.#violationsAtStart)
      await rm(this.#root, { recursive: true, force: true });
  }

  async run(): Promise<void> {
    // The log and both slots exist before anyone follows: every transaction is above both slots' start (0).
    const { wal } = await Wal.open<JsonValue>(this.#dir, { codec: jsonCodec });
    await wal.close();
    await createSlot(this.#dir, FOLLOWER_SLOT);
    await createSlot(this.#dir, ORACLE_SLOT);
    this.#startFollower();
    const total = this.#o.cycles + 1;
    for (this.#cycle = 0; this.#cycle < total && !this.#failed; this.#cycle++) {
      const plan = planCycle(this.#o.seed, this.#cycle, this.#cycle === total - 1);
      const t0 = Date.now();
      await this.#runWriter(plan, this.#cycle === total - 1);
      const t1 = Date.now();
      if (!(await this.#verifyCycle())) return;
      if (DEBUG)
        process.stderr.write(
          `[F-proc] cycle ${this.#cycle} ${plan.kind}${plan.failpoints === "" ? "" : ` ${plan.failpoints}`} ${plan.mode}: writer ${t1 - t0} ms, verify ${Date.now() - t1} ms, history ${this.#history.last}\n`,
        );
      this.#r.cases++;
      this.#bump("cycles");
      this.#o.onProgress?.(this.#r);
    }
    if (this.#failed) return;
    const t = Date.now();
    await this.#drainFollower();
    if (DEBUG) process.stderr.write(`[F-proc] drain ${Date.now() - t} ms\n`);
  }

  // ---- the follower ----------------------------------------------------------------------------------------------

  #startFollower(): void {
    const child = spawn(
      process.execPath,
      [this.#script, "--role", "follower", "--dir", this.#dir, "--log", this.#followerLog, "--slot", FOLLOWER_SLOT],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.#followerStderr = "";
    this.#followerLogFrom = existsSync(this.#followerLog) ? statSync(this.#followerLog).size : 0;
    child.stderr?.on("data", (d: Buffer) => {
      this.#followerStderr += d.toString();
    });
    child.on("exit", () => {
      if (this.#follower === child) this.#follower = null;
    });
    this.#follower = child;
    this.#followerStarts++;
    if (this.#followerStarts > 1) this.#bump("followerRestarts");
  }

  #stopFollower(): void {
    this.#follower?.kill("SIGKILL");
    this.#follower = null;
  }

  /** Follower lines so far. */
  async #followerLines(): Promise<FollowerLine[]> {
    return existsSync(this.#followerLog) ? parseLines<FollowerLine>(await readFile(this.#followerLog, "utf8")) : [];
  }

  /** A follower that failed is reported (its code names what it saw) and started again from its slot. */
  async #checkFollowerAlive(): Promise<void> {
    if (this.#follower !== null) return;
    const bytes = existsSync(this.#followerLog) ? await readFile(this.#followerLog) : Buffer.alloc(0);
    const lines = parseLines<FollowerLine>(bytes.subarray(this.#followerLogFrom).toString("utf8"));
    const error = lines.findLast((l) => l.t === "error");
    this.#violation(
      error?.t === "error" && error.code === "WAL_TRUNCATED" ? "hole" : "error",
      `the follower stopped${error?.t === "error" ? ` with ${error.code}: ${error.message}` : ` with no error line: ${errorLine(this.#followerStderr)}`}`,
    );
    if (!this.#failed) this.#startFollower();
  }

  // ---- the writer ----------------------------------------------------------------------------------------------

  /** A writer process started ahead (loaded, waiting for its configuration), so a kill is followed at once. */
  #spareWriter(): { child: ChildProcess; stderr: () => string } {
    const child = spawn(
      process.execPath,
      [this.#script, "--role", "writer", "--dir", this.#dir, "--log", this.#writerLog, "--seed", String(this.#o.seed)],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    return { child, stderr: () => stderr };
  }

  async #runWriter(plan: CyclePlan, last: boolean): Promise<void> {
    const fence = this.#fence(await this.#writerLines());
    const config: WriterConfig = {
      cycle: this.#cycle,
      fence,
      mode: plan.mode,
      ops: plan.kind === "clean" ? 25 : 0,
      writers: 2,
      killAfterAcks: plan.kind === "self" ? plan.acks : 0,
      failpoints: plan.failpoints,
      bug: this.#o.bug ?? "none",
    };
    const { child, stderr } = this.#spare ?? this.#spareWriter();
    this.#spare = last ? null : this.#spareWriter();
    if (plan.stopFollower) {
      this.#follower?.kill("SIGSTOP");
      this.#bump("followerStops");
    }
    const timers: ReturnType<typeof setTimeout>[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null)
        resolve({ code: child.exitCode, signal: child.signalCode });
      else child.on("exit", (code, signal) => resolve({ code, signal }));
    });
    const safety = setTimeout(() => {
      if (plan.kind === "clean") this.#violation("error", "a clean writer did not finish");
      child.kill("SIGKILL");
    }, WRITER_SAFETY_MS);
    child.stdout?.once("data", () => {
      if (plan.kind !== "clean") timers.push(setTimeout(() => child.kill("SIGKILL"), plan.delayMs));
      if (plan.killFollowerMs >= 0) {
        timers.push(
          setTimeout(() => {
            this.#stopFollower();
            this.#bump("followerKills");
            this.#startFollower();
          }, plan.killFollowerMs),
        );
      }
    });
    child.stdin?.end(`${JSON.stringify(config)}\n`);
    const exit = await exited;
    clearTimeout(safety);
    for (const t of timers) clearTimeout(t);
    if (plan.stopFollower) this.#follower?.kill("SIGCONT");
    if (exit.signal === "SIGKILL") {
      const own = (await this.#writerLines()).slice(this.#writerLinesSeen).some((l) => l.t === "killed");
      this.#bump("kills");
      this.#bump(own ? `kills.${plan.kind}` : "kills.byParent");
    } else if (exit.code === 0) this.#bump("cleanCloses");
    else this.#violation("error", `the writer exited ${exit.code}: ${errorLine(stderr())}`);
    if (plan.kind === "clean" && exit.code !== 0)
      this.#violation("error", "a clean writer cycle did not close cleanly");
  }

  async #writerLines(): Promise<WriterLine[]> {
    return existsSync(this.#writerLog) ? parseLines<WriterLine>(await readFile(this.#writerLog, "utf8")) : [];
  }

  #fence(lines: readonly WriterLine[]): number {
    let fence = 0;
    for (const l of lines) if (l.t === "checkpoint" && l.s > fence) fence = l.s;
    return fence;
  }

  // ---- the oracle ----------------------------------------------------------------------------------------------

  /** Recover the log, read what was committed since the last cycle into the history, check the cycle's acks. */
  async #verifyCycle(): Promise<boolean> {
    const lines = await this.#writerLines();
    const fresh = lines.slice(this.#writerLinesSeen);
    this.#writerLinesSeen = lines.length;
    for (const l of fresh) {
      if (l.t === "error") this.#violation("error", `the writer failed: ${l.message}`);
      else if (l.t === "rot") this.#bump("rotations");
      else if (l.t === "rm") {
        this.#bump("truncations");
        this.#bump("segmentsRemoved", l.n);
      } else if (l.t === "raw-unlink") this.#bump("rawUnlinks", l.n);
      else if (l.t === "acked" && l.low === true) this.#bump("lowLevelAcked");
    }
    const intents = new Map<string, number>();
    const aborted = new Set<string>();
    for (const l of lines) {
      if (l.t === "intent") intents.set(l.id, l.n);
      else if (l.t === "aborted") aborted.add(l.id);
    }
    const fence = this.#fence(lines);
    try {
      const { wal } = await Wal.open<JsonValue>(this.#dir, { codec: jsonCodec, checkpointLsn: fence });
      await wal.close();
    } catch (e) {
      this.#violation("unopenable", `the log did not open at fence ${fence} after the writer's exit: ${errorText(e)}`);
      return false;
    }
    this.#r.crashStates++;
    const oracle = await readSlot(this.#dir, ORACLE_SLOT);
    const history = this.#history;
    if (oracle.confirmedLsn !== history.last) {
      this.#violation("error", `the oracle slot is at ${oracle.confirmedLsn}, the history at ${history.last}`);
    }
    try {
      for await (const tx of readCommitted<JsonValue>(this.#dir, { codec: jsonCodec, after: history.last })) {
        const t = summarize(tx);
        const n = intents.get(t.id);
        if (
          n === undefined ||
          n !== t.n ||
          !t.whole ||
          aborted.has(t.id) ||
          history.hasId(t.id) ||
          t.c <= history.last
        ) {
          this.#violation("phantom", `the log holds ${describeTx(t)}: never committed, aborted, not whole, or twice`);
        }
        if (t.c > history.last) {
          // Committed after a transaction that began later: the interleaving exact tokens exist for.
          const prev = history.txs.at(-1);
          if (prev !== undefined && t.b < prev.b) this.#bump("interleavedCommits");
          history.push(t);
        }
      }
    } catch (e) {
      this.#violation(
        isWalError(e, "WAL_TRUNCATED") ? "hole" : "error",
        `reading the log after the oracle slot's ${history.last} failed (truncation must keep what a valid slot needs): ${errorText(e)}`,
      );
      return false;
    }
    await advanceSlot(this.#dir, ORACLE_SLOT, history.last);
    // Every acknowledged commit is in the history, at its acknowledged LSNs (a SIGKILL keeps what reached the OS).
    for (const l of fresh) {
      if (l.t !== "acked") continue;
      this.#r.ackedChecked++;
      const t = history.at(l.c);
      if (t === undefined || t.id !== l.id || t.b !== l.b) {
        this.#violation(
          "lost",
          `acknowledged ${l.id}@${l.b}..${l.c} is ${t === undefined ? "missing" : `not there (${describeTx(t)})`}`,
        );
      }
    }
    await this.#checkFollowerAlive();
    return true;
  }

  /** After the last writer: wait for the follower to deliver the whole history, then compare. */
  async #drainFollower(): Promise<void> {
    const last = this.#history.last;
    let seen = -1;
    let idleSince = Date.now();
    for (;;) {
      const lines = await this.#followerLines();
      const top = lines.reduce((m, l) => (l.t === "d" && l.c > m ? l.c : m), 0);
      if (top >= last) break;
      if (this.#follower === null) {
        await this.#checkFollowerAlive();
        if (this.#failed || this.#follower === null) return;
      }
      if (lines.length !== seen) {
        seen = lines.length;
        idleSince = Date.now();
      } else if (Date.now() - idleSince > FOLLOWER_IDLE_MS) {
        this.#violation(
          "lost",
          `the follower stalled at ${top}: the log ends at ${last} (nothing delivered for ${FOLLOWER_IDLE_MS} ms)`,
        );
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.#stopFollower();
    this.#compareFollower(await this.#followerLines());
  }

  /** Fold the follower's log (restarts resume from the slot) and compare it with the history. */
  #compareFollower(lines: readonly FollowerLine[]): void {
    const stream = new DeliveryStream("the follower", 0);
    let confirmed = 0;
    let starts = 0;
    for (const l of lines) {
      if (l.t === "start") {
        if (starts++ > 0) {
          if (l.from < confirmed) {
            this.#violation(
              "lost",
              `the follower restarted at its slot's ${l.from}, below ${confirmed}, whose confirm had resolved`,
            );
            return;
          }
          const problem = stream.resumeAt(l.from);
          if (problem !== null) {
            this.#violation("hole", `the follower ${problem}`);
            return;
          }
        }
      } else if (l.t === "d") {
        const f = stream.deliver({ b: l.b, c: l.c, id: l.id, n: l.n, whole: l.whole });
        if (f !== null) {
          this.#violation(f.kind, f.message);
          return;
        }
      } else if (l.t === "c") confirmed = Math.max(confirmed, l.c);
    }
    this.#bump("deliveries", stream.received);
    this.#bump("redeliveries", stream.redelivered);
    this.#bump("deliveriesChecked", stream.count());
    this.#bump("historyTransactions", this.#history.txs.length);
    const first = checkStream(stream, this.#history, true)[0];
    if (first !== undefined) this.#violation(first.kind, first.message);
  }
}
