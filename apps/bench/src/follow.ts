/**
 * The change-feed measurements (`--only follow`), run in child processes like the cases:
 *
 * - **latency**: one writer commits one transaction at a time (`perCommit`), and the next only once the follower
 *   delivered the last; each sample is the time from the writer's acknowledgement (`commitTx` resolving) to the
 *   follower's delivery. In-process: `wal.follow()` in the writer's process. Cross-process: `followDir` in a second
 *   process (the {@link runPeer} side of this file), which stamps each delivery and sends it back over the IPC
 *   channel. Both processes read the same clock, `process.hrtime` (CLOCK_MONOTONIC, one clock for the whole machine
 *   on Linux); a ping-pong before the run checks that and bounds any offset between the two processes.
 * - **catch-up**: a follower starting at `after = 0` on a prepared log until it delivered the last commit, beside
 *   `replayDir` and `readCommitted` over the same files; each system in its own child, one untimed pass first, then
 *   the median of three warm passes.
 * - **writer cost**: 64 closed-loop writers (the `durable-concurrent-64` case's shape) in blocks of a fixed number of
 *   commits, each block paired with a block without a follower right next to it in the same process, so drift of
 *   the disk over seconds hits both alike: with an in-process follower, with a cross-process follower on a
 *   replication slot it confirms every N commits, and a handle opened with `publishDurableLsn: false`.
 */

import { type ChildProcess, fork } from "node:child_process";
import * as fs from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { bytesCodec } from "@lora/wal-codec";
import { advanceSlot, createSlot, type Follower, followDir, readCommitted, replayDir } from "@lora/wal-replay";
import { pairedBlocks } from "./paired-blocks.js";
import { makePayload } from "./payload.js";
import { startRawTail } from "./raw-tail.js";
import { closedLoop } from "./timing.js";

/** Nanoseconds on CLOCK_MONOTONIC, the clock every process on the machine shares (exact below 2^53 ns ≈ 104 days). */
const hrNow = (): number => Number(process.hrtime.bigint());
/** Wall-clock milliseconds as this process sees them (its time origin plus its monotonic time since then). */
const wallNow = (): number => performance.timeOrigin + performance.now();

export type CatchUpSystem = "replayDir" | "readCommitted" | "followDir" | "walFollow";
/** `control` is a second block without any follower: the A/A pair that shows what the measurement itself resolves. */
export type CostCondition = "base" | "inProcess" | "crossProcess" | "rawTail" | "noMark" | "control";

export type FollowJob =
  | {
      readonly kind: "latency";
      readonly mode: "inProcess" | "crossProcess";
      readonly dir: string;
      readonly commits: number;
      readonly warmup: number;
      /** The recorded commits stop early once this much time has passed (a round that hits it has fewer samples). */
      readonly timeLimitMs: number;
    }
  | {
      readonly kind: "catchUp";
      readonly system: CatchUpSystem;
      readonly dataDir: string;
      readonly workDir: string;
      /** Commit LSN of the last transaction of the log (3 × transactions: `commitTx` layout from LSN 1). */
      readonly lastCommitLsn: number;
      readonly transactions: number;
    }
  | {
      readonly kind: "writerCost";
      readonly dir: string;
      readonly cycles: number;
      readonly warmupCycles: number;
      readonly blockCommits: number;
      readonly concurrency: number;
      readonly confirmEvery: number;
    }
  | { readonly kind: "peer" };

/** 1-, 5- and 15-minute load averages. */
export type Load = readonly [number, number, number];

/** One ping-pong with the follower process: writer send, follower receipt, writer receipt. */
export interface ClockProbe {
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
}

export interface LatencyResult {
  readonly kind: "latency";
  readonly mode: "inProcess" | "crossProcess";
  /** Acknowledgement → delivery, nanoseconds on the shared clock (negative: delivered before the writer resumed). */
  readonly ackToDeliveryNs: readonly number[];
  /** The same from each process's wall clock (`performance.timeOrigin + performance.now()`), milliseconds. */
  readonly ackToDeliveryWallMs: readonly number[];
  /** `commitTx` call → acknowledgement (the fsync round), nanoseconds: context. */
  readonly commitToAckNs: readonly number[];
  /** Cross-process only: the ping-pongs that check the shared clock. */
  readonly probes: readonly ClockProbe[];
  readonly seconds: number;
  readonly load: { readonly start: Load; readonly end: Load };
}

export interface CatchUpResult {
  readonly kind: "catchUp";
  readonly system: CatchUpSystem;
  readonly transactions: number;
  /** The median of the {@link WARM_PASSES} warm passes (by time): the timed figure. */
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** Start of the median warm pass → first transaction delivered. */
  readonly firstSeconds: number;
  /** The first warm pass alone (see {@link WARM_PASSES}). */
  readonly firstWarmSeconds: number;
  /** Minor page faults during the first warm pass and during the median one. */
  readonly firstWarmPageFaults: number;
  readonly pageFaults: number;
  /** The first (cold-JIT) pass, which also gives the RSS figure. */
  readonly coldSeconds: number;
  /** Peak RSS during the first pass minus RSS before it, first thing in a fresh process; null for walFollow. */
  readonly rssGrowthBytes: number | null;
  readonly load: { readonly start: Load; readonly end: Load };
}

export interface CostBlock {
  readonly cycle: number;
  /** The condition this block's pair measures (its base block carries the same). */
  readonly pair: Exclude<CostCondition, "base">;
  readonly condition: CostCondition;
  readonly commits: number;
  readonly seconds: number;
  /** Writer-process CPU seconds during the block. */
  readonly cpuSeconds: number;
  readonly syncs: number;
  /** The follower's own CPU seconds during the block (cross-process: the follower process; otherwise 0). */
  readonly followerCpuSeconds: number;
  /** Follower start → its first delivery (the segment read up to the live end), ms; 0 without a follower. */
  readonly followerStartMs: number;
  /** Block end → the follower delivered the block's last commit, ms. */
  readonly followerDrainMs: number;
  /** Slot confirmations the follower made during the block. */
  readonly confirms: number;
}

export interface WriterCostResult {
  readonly kind: "writerCost";
  readonly warmupCycles: number;
  readonly blocks: readonly CostBlock[];
  readonly load: { readonly start: Load; readonly end: Load };
}

export interface PeerResult {
  readonly kind: "peer";
}

export type FollowChildResult = LatencyResult | CatchUpResult | WriterCostResult | PeerResult;

const load = (): Load => loadavg() as unknown as Load;

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

// ---- the follower process --------------------------------------------------------------------------------------

/** Writer → follower process. */
type PeerCommand =
  | { readonly op: "ping"; readonly t1: number; readonly w1: number }
  | {
      readonly op: "follow";
      readonly dir: string;
      /** Follow from this LSN; or, with `slot`, advance the slot to it first and follow from the slot. */
      readonly from: number;
      readonly slot?: string;
      readonly confirmEvery: number;
      /** Send a `delivered` message per transaction (latency runs). */
      readonly report: boolean;
      /** Tail the files by hand instead (`raw-tail.ts`, the floor): no slot, no report. */
      readonly raw?: boolean;
    }
  | { readonly op: "await"; readonly lsn: number }
  | { readonly op: "stopAt"; readonly lsn: number }
  | { readonly op: "exit" };

/** Follower process → writer. */
type PeerMessage =
  | { readonly op: "ready" }
  | { readonly op: "pong"; readonly t1: number; readonly w1: number; readonly t2: number; readonly w2: number }
  | { readonly op: "following" }
  | {
      readonly op: "delivered";
      readonly beginLsn: number;
      readonly commitLsn: number;
      readonly t: number;
      readonly w: number;
    }
  | { readonly op: "reached"; readonly lsn: number; readonly startMs: number }
  | { readonly op: "stopped"; readonly delivered: number; readonly confirms: number; readonly cpuSeconds: number }
  | { readonly op: "error"; readonly error: string };

/**
 * The follower process: follows a directory with `followDir` as the writer process asks, stamps deliveries, confirms
 * a slot every `confirmEvery` transactions. Commands are handled one at a time, in order.
 */
async function runPeer(): Promise<PeerResult> {
  const send = (m: PeerMessage): void => {
    process.send?.(m);
  };
  let follower: Follower<Uint8Array> | undefined;
  let abort: AbortController | undefined;
  let loop: Promise<void> | undefined;
  let position = 0;
  let delivered = 0;
  let confirms = 0;
  /** Transactions since the last confirmation (counted across follow sessions, as one consumer would). */
  let sinceConfirm = 0;
  let startedAt = 0;
  let firstAt = 0;
  let cpu0 = process.cpuUsage();
  let waitFor: { lsn: number; resolve: () => void } | undefined;
  let stopAt: number | undefined;

  const reach = (): void => {
    if (waitFor !== undefined && position >= waitFor.lsn) {
      const w = waitFor;
      waitFor = undefined;
      w.resolve();
    }
  };

  /** A new follow session from `from`: its counters, its clock and its CPU from now. */
  const startSession = (from: number): void => {
    position = from;
    delivered = 0;
    confirms = 0;
    stopAt = undefined;
    startedAt = performance.now();
    firstAt = 0;
    cpu0 = process.cpuUsage();
  };

  const tailByHand = (c: Extract<PeerCommand, { op: "follow" }>): void => {
    abort = new AbortController();
    const signal = abort.signal;
    startSession(c.from);
    const tail = startRawTail(c.dir, c.from);
    follower = undefined;
    loop = new Promise<void>((resolve) => {
      const end = () => {
        tail.stop();
        resolve();
      };
      tail.onProgress = () => {
        if (firstAt === 0) firstAt = performance.now();
        position = tail.position;
        reach();
        if (stopAt !== undefined && position >= stopAt) end();
      };
      signal.addEventListener("abort", end, { once: true });
    });
  };

  const follow = async (c: Extract<PeerCommand, { op: "follow" }>): Promise<void> => {
    if (c.raw === true) return tailByHand(c);
    abort = new AbortController();
    if (c.slot !== undefined) await advanceSlot(c.dir, c.slot, c.from);
    const f = followDir(c.dir, {
      codec: bytesCodec,
      signal: abort.signal,
      ...(c.slot === undefined ? { after: c.from } : { slot: c.slot }),
    });
    follower = f;
    startSession(c.from);
    loop = (async () => {
      for await (const tx of f) {
        const t = hrNow();
        const w = wallNow();
        if (firstAt === 0) firstAt = performance.now();
        if (c.report) send({ op: "delivered", beginLsn: tx.beginLsn, commitLsn: tx.commitLsn, t, w });
        position = tx.commitLsn;
        delivered++;
        if (c.slot !== undefined && ++sinceConfirm >= c.confirmEvery) {
          await f.confirm(tx.commitLsn);
          confirms++;
          sinceConfirm = 0;
        }
        reach();
        if (stopAt !== undefined && position >= stopAt) break;
      }
    })();
    loop.catch((error: unknown) => send({ op: "error", error: String(error) }));
  };

  const handle = async (c: PeerCommand): Promise<boolean> => {
    switch (c.op) {
      case "ping":
        send({ op: "pong", t1: c.t1, w1: c.w1, t2: hrNow(), w2: wallNow() });
        return true;
      case "follow":
        await follow(c);
        send({ op: "following" });
        return true;
      case "await":
        await new Promise<void>((resolve) => {
          waitFor = { lsn: c.lsn, resolve };
          reach();
        });
        send({ op: "reached", lsn: c.lsn, startMs: firstAt === 0 ? 0 : firstAt - startedAt });
        return true;
      case "stopAt":
        if (position >= c.lsn) abort?.abort();
        else stopAt = c.lsn;
        await loop;
        await follower?.return();
        send({ op: "stopped", delivered, confirms, cpuSeconds: cpuSecondsSince(cpu0) });
        return true;
      case "exit":
        abort?.abort();
        await loop?.catch(() => undefined);
        return false;
    }
  };

  return await new Promise<PeerResult>((resolve, reject) => {
    let chain = Promise.resolve(true);
    process.on("message", (m: PeerCommand) => {
      chain = chain.then(async (open) => {
        if (!open) return false;
        const more = await handle(m);
        if (!more) resolve({ kind: "peer" });
        return more;
      });
      chain.catch((error: unknown) => {
        send({ op: "error", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        reject(error);
      });
    });
    send({ op: "ready" });
  });
}

/** The writer's side of the follower process. */
class Peer {
  readonly #child: ChildProcess;
  readonly #waiters: { op: PeerMessage["op"]; resolve: (m: PeerMessage) => void }[] = [];
  #failure: Error | undefined;
  readonly #exited: Promise<void>;
  onDelivered: ((m: Extract<PeerMessage, { op: "delivered" }>) => void) | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (m: PeerMessage | { ok: boolean; error?: string }) => {
      if (!("op" in m)) {
        if (!m.ok) this.#fail(new Error(`follower process: ${m.error ?? "failed"}`));
        return;
      }
      if (m.op === "delivered") {
        this.onDelivered?.(m);
        return;
      }
      if (m.op === "error") {
        this.#fail(new Error(`follower process: ${m.error}`));
        return;
      }
      const i = this.#waiters.findIndex((w) => w.op === m.op);
      if (i === -1) return;
      const [w] = this.#waiters.splice(i, 1);
      w?.resolve(m);
    });
    this.#exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        if (code !== 0) this.#fail(new Error(`follower process exited with ${signal ?? code}`));
        resolve();
      });
    });
  }

  /** Fork this bench's entry point as a follower process and wait until it listens. */
  static async start(): Promise<Peer> {
    const child = fork(
      process.argv[1] as string,
      ["--child", JSON.stringify({ kind: "follow", job: { kind: "peer" } })],
      {
        execArgv: [],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      },
    );
    const peer = new Peer(child);
    await peer.#next("ready");
    return peer;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const w of this.#waiters.splice(0)) w.resolve({ op: "error", error: error.message });
  }

  #next<Op extends PeerMessage["op"]>(op: Op): Promise<Extract<PeerMessage, { op: Op }>> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiters.push({
        op,
        resolve: (m) => (m.op === "error" ? reject(this.#failure ?? new Error(m.error)) : resolve(m as never)),
      });
    });
  }

  /** Send a command and wait for the answer of kind `op`. */
  request<Op extends PeerMessage["op"]>(command: PeerCommand, op: Op): Promise<Extract<PeerMessage, { op: Op }>> {
    const answer = this.#next(op);
    this.#child.send(command);
    return answer;
  }

  async exit(): Promise<void> {
    if (this.#child.exitCode === null && this.#failure === undefined) this.#child.send({ op: "exit" });
    await this.#exited;
    if (this.#failure !== undefined) throw this.#failure;
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill("SIGKILL");
  }
}

// ---- latency ---------------------------------------------------------------------------------------------------

/** Deliveries by begin LSN, and a wait for one. */
class Deliveries {
  readonly #seen = new Map<number, { t: number; w: number }>();
  #waiting: { lsn: number; resolve: (d: { t: number; w: number }) => void } | undefined;
  #failure: unknown;
  #reject: ((e: unknown) => void) | undefined;

  deliver(beginLsn: number, t: number, w: number): void {
    const waiting = this.#waiting;
    if (waiting !== undefined && waiting.lsn === beginLsn) {
      this.#waiting = undefined;
      this.#reject = undefined;
      waiting.resolve({ t, w });
    } else this.#seen.set(beginLsn, { t, w });
  }

  fail(error: unknown): void {
    this.#failure = error;
    this.#reject?.(error);
  }

  of(beginLsn: number): Promise<{ t: number; w: number }> {
    const seen = this.#seen.get(beginLsn);
    if (seen !== undefined) {
      this.#seen.delete(beginLsn);
      return Promise.resolve(seen);
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiting = { lsn: beginLsn, resolve };
      this.#reject = reject;
    });
  }
}

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `commitTx` of one event, whose result is never null (only an empty transaction resolves to null). */
async function commitOne(wal: Wal<Uint8Array>, payload: Uint8Array): Promise<{ beginLsn: number; commitLsn: number }> {
  const info = await wal.commitTx([payload]);
  if (info === null) throw new Error("commitTx of one event resolved to null");
  return info;
}

async function runLatency(job: Extract<FollowJob, { kind: "latency" }>): Promise<LatencyResult> {
  const start = load();
  fs.mkdirSync(job.dir, { recursive: true });
  const deliveries = new Deliveries();
  const probes: ClockProbe[] = [];
  let peer: Peer | undefined;
  const abort = new AbortController();
  let loop: Promise<void> | undefined;
  const { wal } = await Wal.open(job.dir, { codec: bytesCodec, syncMode: "perCommit" });
  try {
    if (job.mode === "crossProcess") {
      peer = await Peer.start();
      // The clock check: 200 sequential ping-pongs, the follower process stamping each with both clocks.
      for (let i = 0; i < 200; i++) {
        const t1 = hrNow();
        const w1 = wallNow();
        const pong = await peer.request({ op: "ping", t1, w1 }, "pong");
        probes.push({ t1, t2: pong.t2, t3: hrNow(), w1, w2: pong.w2, w3: wallNow() });
      }
      peer.onDelivered = (m) => deliveries.deliver(m.beginLsn, m.t, m.w);
      await peer.request({ op: "follow", dir: job.dir, from: 0, confirmEvery: 0, report: true }, "following");
    } else {
      const follower = wal.follow({ signal: abort.signal });
      loop = (async () => {
        for await (const tx of follower) deliveries.deliver(tx.beginLsn, hrNow(), wallNow());
      })();
      loop.catch((error: unknown) => deliveries.fail(error));
    }
    const payload = makePayload();
    const ackToDeliveryNs: number[] = [];
    const ackToDeliveryWallMs: number[] = [];
    const commitToAckNs: number[] = [];
    const once = async (record: boolean): Promise<void> => {
      const c0 = hrNow();
      const { beginLsn } = await commitOne(wal, payload);
      const ack = hrNow();
      const ackWall = wallNow();
      const d = await deliveries.of(beginLsn);
      if (record) {
        ackToDeliveryNs.push(d.t - ack);
        ackToDeliveryWallMs.push(d.w - ackWall);
        commitToAckNs.push(ack - c0);
      }
      // Let the follower go back to waiting before the next commit (one commit at a time, each latency its own).
      await yieldTurn();
    };
    // The warm-up is bounded by a tenth of the time limit as well: a follower that sometimes waits for a fallback
    // timer would otherwise stretch it.
    const t0 = performance.now();
    for (let i = 0; i < job.warmup && performance.now() < t0 + job.timeLimitMs / 10; i++) await once(false);
    const t1 = performance.now();
    for (let i = 0; i < job.commits && performance.now() < t1 + job.timeLimitMs; i++) await once(true);
    const seconds = (performance.now() - t1) / 1000;
    if (peer !== undefined) await peer.request({ op: "stopAt", lsn: wal.nextLsn() - 1 }, "stopped");
    return {
      kind: "latency",
      mode: job.mode,
      ackToDeliveryNs,
      ackToDeliveryWallMs,
      commitToAckNs,
      probes,
      seconds,
      load: { start, end: load() },
    };
  } finally {
    abort.abort();
    await loop?.catch(() => undefined);
    await peer?.exit().catch(() => peer?.kill());
    await wal.close();
    fs.rmSync(job.dir, { recursive: true, force: true });
  }
}

// ---- catch-up --------------------------------------------------------------------------------------------------

interface Pass {
  readonly transactions: number;
  readonly seconds: number;
  readonly pageFaults: number;
  readonly cpuSeconds: number;
  readonly firstSeconds: number;
}

/** Time `source` from its first `next()` until it yielded the transaction committed at `lastCommitLsn`. */
async function timeToLast(
  source: AsyncIterable<{ readonly commitLsn: number; readonly events: readonly unknown[] }>,
  lastCommitLsn: number,
): Promise<Pass> {
  const cpu0 = process.cpuUsage();
  const faults0 = process.resourceUsage().minorPageFault;
  const t0 = performance.now();
  let first = Number.NaN;
  let transactions = 0;
  for await (const tx of source) {
    if (transactions === 0) first = performance.now();
    transactions++;
    if (tx.events.length !== 1) throw new Error(`transaction ${tx.commitLsn} has ${tx.events.length} events`);
    if (tx.commitLsn >= lastCommitLsn) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const pageFaults = process.resourceUsage().minorPageFault - faults0;
  return { transactions, seconds, pageFaults, cpuSeconds: cpuSecondsSince(cpu0), firstSeconds: (first - t0) / 1000 };
}

/**
 * Warm passes after the cold one; the median is the timed figure. A follower's first warm pass was 50 – 90 ms slower
 * than the next ones (on a ~180 ms pass) in most processes: V8 grows its young generation (8 → 16 MiB semi-spaces) during
 * that pass, and first touches of the new memory cost ~3,500 more page faults there (this VM makes each one expensive).
 * A one-off of the process's heap sizing, not a cost per transaction: `replayDir`, which allocates less, grows it
 * during its cold pass instead. One warm pass alone measured that event as often as the steady rate.
 */
const WARM_PASSES = 3;

async function runCatchUp(job: Extract<FollowJob, { kind: "catchUp" }>): Promise<CatchUpResult> {
  const start = load();
  let wal: Wal<Uint8Array> | undefined;
  let dir = job.dataDir;
  if (job.system === "walFollow") {
    // The handle needs a directory it may lock and write: a copy, opened (replayed) before anything is timed.
    dir = join(job.workDir, "copy");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(job.workDir, { recursive: true });
    fs.cpSync(job.dataDir, dir, { recursive: true });
    ({ wal } = await Wal.open(dir, { codec: bytesCodec, onTransaction: () => undefined }));
  }
  const handle = wal;
  const pass = (): Promise<Pass> => {
    switch (job.system) {
      case "replayDir":
        return timeToLast(replayDir(dir, { codec: bytesCodec }), job.lastCommitLsn);
      case "readCommitted":
        return timeToLast(readCommitted(dir, { codec: bytesCodec, after: 0 }), job.lastCommitLsn);
      case "followDir":
        return timeToLast(followDir(dir, { codec: bytesCodec, after: 0 }), job.lastCommitLsn);
      case "walFollow":
        return timeToLast((handle as Wal<Uint8Array>).follow({ after: 0 }), job.lastCommitLsn);
    }
  };
  try {
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    const cold = await pass();
    const rssGrowthBytes = job.system === "walFollow" ? null : process.resourceUsage().maxRSS * 1024 - rssBefore;
    const warmPasses: Pass[] = [];
    for (let i = 0; i < WARM_PASSES; i++) warmPasses.push(await pass());
    const warm = [...warmPasses].sort((a, b) => a.seconds - b.seconds)[WARM_PASSES >> 1] as Pass;
    for (const p of [cold, ...warmPasses]) {
      if (p.transactions !== job.transactions) {
        throw new Error(`${job.system} delivered ${p.transactions} of ${job.transactions} transactions`);
      }
    }
    return {
      kind: "catchUp",
      system: job.system,
      transactions: warm.transactions,
      seconds: warm.seconds,
      cpuSeconds: warm.cpuSeconds,
      firstSeconds: warm.firstSeconds,
      firstWarmSeconds: (warmPasses[0] as Pass).seconds,
      firstWarmPageFaults: (warmPasses[0] as Pass).pageFaults,
      pageFaults: warm.pageFaults,
      coldSeconds: cold.seconds,
      rssGrowthBytes,
      load: { start, end: load() },
    };
  } finally {
    await wal?.close();
    if (job.system === "walFollow") fs.rmSync(job.workDir, { recursive: true, force: true });
  }
}

// ---- writer cost -----------------------------------------------------------------------------------------------

/** An in-process follower that counts what it delivers and can be waited on. */
function startWalFollower(
  wal: Wal<Uint8Array>,
  after: number,
): { reach(lsn: number): Promise<void>; stop(): Promise<number> } {
  const abort = new AbortController();
  const follower = wal.follow({ after, signal: abort.signal });
  let position = after;
  let delivered = 0;
  let failure: unknown;
  let waiting: { lsn: number; resolve: () => void; reject: (e: unknown) => void } | undefined;
  const loop = (async () => {
    for await (const tx of follower) {
      position = tx.commitLsn;
      delivered++;
      if (waiting !== undefined && position >= waiting.lsn) {
        const w = waiting;
        waiting = undefined;
        w.resolve();
      }
    }
  })();
  loop.catch((error: unknown) => {
    failure = error;
    waiting?.reject(error);
  });
  return {
    reach: (lsn) => {
      if (failure !== undefined) return Promise.reject(failure);
      if (position >= lsn) return Promise.resolve();
      return new Promise((resolve, reject) => {
        waiting = { lsn, resolve, reject };
      });
    },
    stop: async () => {
      abort.abort();
      await loop;
      return delivered;
    },
  };
}

const SLOT = "bench";

async function runWriterCost(job: Extract<FollowJob, { kind: "writerCost" }>): Promise<WriterCostResult> {
  const start = load();
  const dirMark = join(job.dir, "mark");
  const dirNoMark = join(job.dir, "no-mark");
  const { wal } = await Wal.open(dirMark, { codec: bytesCodec, syncMode: "perCommit" });
  const { wal: noMark } = await Wal.open(dirNoMark, {
    codec: bytesCodec,
    syncMode: "perCommit",
    publishDurableLsn: false,
  });
  await createSlot(dirMark, SLOT);
  const peer = await Peer.start();
  const payload = makePayload();
  const blocks: CostBlock[] = [];
  const timed = async (w: Wal<Uint8Array>) => {
    const io0 = w.ioStats();
    const r = await closedLoop({ count: job.blockCommits, concurrency: job.concurrency, timeLimitMs: 120_000 }, () =>
      w.commitTx([payload]),
    );
    return { ...r, syncs: w.ioStats().syncs - io0.syncs };
  };
  const block = async (condition: CostCondition): Promise<Omit<CostBlock, "cycle" | "pair">> => {
    const w = condition === "noMark" ? noMark : wal;
    const from = w.nextLsn() - 1;
    const extra = { followerCpuSeconds: 0, followerStartMs: 0, followerDrainMs: 0, confirms: 0 };
    // Every block starts after one untimed commit; with a follower, once the follower delivered it (its start-up,
    // reading the active segment up to the live end, is then behind it). After the block, the time until the
    // follower delivered the block's last commit.
    let r: Awaited<ReturnType<typeof timed>>;
    if (condition === "inProcess") {
      const t0 = performance.now();
      const f = startWalFollower(wal, from);
      await f.reach((await commitOne(w, payload)).commitLsn);
      extra.followerStartMs = performance.now() - t0;
      r = await timed(w);
      const t1 = performance.now();
      await f.reach(w.nextLsn() - 1);
      extra.followerDrainMs = performance.now() - t1;
      await f.stop();
    } else if (condition === "crossProcess" || condition === "rawTail") {
      const t0 = performance.now();
      const follow: PeerCommand =
        condition === "rawTail"
          ? { op: "follow", dir: dirMark, from, confirmEvery: 0, report: false, raw: true }
          : { op: "follow", dir: dirMark, from, slot: SLOT, confirmEvery: job.confirmEvery, report: false };
      await peer.request(follow, "following");
      await peer.request({ op: "await", lsn: (await commitOne(w, payload)).commitLsn }, "reached");
      extra.followerStartMs = performance.now() - t0;
      r = await timed(w);
      const t1 = performance.now();
      await peer.request({ op: "await", lsn: w.nextLsn() - 1 }, "reached");
      extra.followerDrainMs = performance.now() - t1;
      const stopped = await peer.request({ op: "stopAt", lsn: w.nextLsn() - 1 }, "stopped");
      extra.followerCpuSeconds = stopped.cpuSeconds;
      extra.confirms = stopped.confirms;
    } else {
      await w.commitTx([payload]);
      r = await timed(w);
    }
    return { condition, commits: r.ops, seconds: r.seconds, cpuSeconds: r.cpuSeconds, syncs: r.syncs, ...extra };
  };
  const pairs: Exclude<CostCondition, "base">[] = ["inProcess", "crossProcess", "rawTail", "noMark", "control"];
  try {
    for (const { cycle, pair, condition } of pairedBlocks(pairs, job.warmupCycles + job.cycles)) {
      const b = await block(condition);
      if (cycle >= job.warmupCycles) blocks.push({ cycle: cycle - job.warmupCycles, pair, ...b });
    }
    return { kind: "writerCost", warmupCycles: job.warmupCycles, blocks, load: { start, end: load() } };
  } finally {
    await peer.exit().catch(() => peer.kill());
    await wal.close();
    await noMark.close();
    fs.rmSync(job.dir, { recursive: true, force: true });
  }
}

/** A child's work for the change-feed group. */
export async function runFollowJob(job: FollowJob): Promise<FollowChildResult> {
  switch (job.kind) {
    case "latency":
      return await runLatency(job);
    case "catchUp":
      return await runCatchUp(job);
    case "writerCost":
      return await runWriterCost(job);
    case "peer":
      return await runPeer();
  }
}
