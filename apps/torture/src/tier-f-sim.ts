/**
 * Tier F, simulated part (F-sim): the change feed under seeded writer workloads on SimFS, with several consumers
 * following concurrently (follow-sim-consumer.ts). Each case runs a seeded sequence of writer operations
 * (`commitTx` bursts, low-level transactions, aborts, `sync`, `checkpoint(safeCheckpointLsn())` with truncation,
 * rotation through a small `segmentTargetBytes`, pauses of a consumer so it lags behind truncation, clean reopens,
 * and crashes at an exact file-system operation of the writer: a power loss, a process crash, a process crash
 * inside a segment write).
 *
 * At each crash and clean close the state is settled (follow-history.ts): the image is recovered with the real
 * `Wal.open` (on a copy) and
 * - every transaction a consumer has delivered must be in it (the durable-only guarantee: a power loss's image is
 *   the durable state, or any state between it and the volatile one), except the in-process followers in `none`
 *   mode, where the handle's durable LSN is the written one by contract: there, what a power loss takes back must be
 *   a suffix of the deliveries (counted as `noneModeRetractions`);
 * - the recovered transactions extend the committed history: whole, known, not aborted, no hole, every commit the
 *   writer was told is durable among them; the history settled earlier is still there.
 * After a restart, consumers resume from their position (a slot consumer from its slot: what it delivered after it
 * comes again and must be identical), and in the end each consumer's deliveries, epoch by epoch, must be exactly
 * the history after its start. At every clean close and at the end, tokens are drawn among the delivered commit
 * LSNs and `readCommitted(dir, { after })`, a fresh `followDir` and (after the reopen) a fresh `wal.follow` from
 * each must give exactly the history's suffix; a token truncation overtook must be refused with `WAL_TRUNCATED`.
 */

import {
  createSlot,
  dropSlot,
  isWalError,
  type JsonValue,
  jsonCodec,
  oldestRetainedLsn,
  readCommitted,
  readSlot,
  Wal,
} from "@lora/wal";
import { followDir } from "@lora/wal-replay";
import { listSegments, SegmentReader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { eventOf } from "./ack-log.js";
import { errorText, turn, within } from "./bounded-wait.js";
import { FsView } from "./follow-fs-view.js";
import {
  checkStream,
  describeTx,
  type Finding,
  FOLLOW_TIER,
  History,
  sameTx,
  summarize,
  type TxSummary,
} from "./follow-history.js";
import { type ConsumerKind, FOLLOW_DIR, SimConsumer, type WriterRef } from "./follow-sim-consumer.js";
import { between, mix, type Rng, rng } from "./prng.js";
import type { TierResult, Violation, ViolationKind } from "./result.js";

export type FollowSimBug =
  | "follow-lying-durability"
  | "follow-durable-one-past"
  | "follow-lost-position-at-rotation"
  | "follow-commit-only-token";

export interface FollowSimOptions {
  readonly seed: number;
  /** Cases 0..cases-1 (each a fresh SimFS), unless `caseList` names them. */
  readonly cases: number;
  readonly caseList?: readonly number[];
  /** Writer operations per case (a seeded count between 3/4 of it and it). */
  readonly ops: number;
  readonly bug?: FollowSimBug;
  /** Stop at the first violation this accepts (planted-bug runs: the bug's kind of finding). */
  readonly stopWhen?: (v: Violation) => boolean;
  readonly onProgress?: (r: TierResult) => void;
}

const MODES = ["perCommit", "group", "none"] as const;
type Mode = (typeof MODES)[number];
const SLOT = "slot";
/** An exact resume token: a delivered commit LSN and its restart point. */
interface Token {
  readonly c: number;
  readonly r: number;
}

/** A token checked on the closed log, for the `wal.follow` check after the reopen (see `#tokenChecks`). */
interface CheckedToken extends Token {
  /** The oldest segment's base LSN when it was checked. */
  readonly oldest: number;
  /** Where a read from it must fail `WAL_TRUNCATED` (the one-missing-LSN cut), or null. */
  readonly cutAt: number | null;
}
/** Event-loop turns a bounded wait allows (a liveness watchdog counted in turns, never a deadline). */
const WAIT_TURNS = 3000;
/** Turns the consumers get to read a commit past the durable edge before the power loss (see #commitPastDurableEdge). */
const EDGE_TURNS = 30;

interface Writer extends WriterRef {
  readonly view: FsView;
  readonly wal: Wal<JsonValue>;
  dead: boolean;
  closed: boolean;
}

/** What the writer did in its current session (since the last settle). */
interface Session {
  /** Commits whose call resolved: id → LSNs. */
  readonly resolved: Map<string, { b: number; c: number }>;
  /** The highest LSN a completed fsync (or a perCommit acknowledgement) covered. */
  durableClaim: number;
}

export async function runFollowSim(o: FollowSimOptions, result: TierResult): Promise<void> {
  const list = o.caseList ?? Array.from({ length: o.cases }, (_, i) => i);
  for (const index of list) {
    const before = result.violations.length;
    await new SimCase(o, index, result).run();
    result.bump("sim.cases");
    result.cases++;
    o.onProgress?.(result);
    if (o.stopWhen !== undefined && result.violations.slice(before).some(o.stopWhen)) break;
  }
}

class SimCase {
  readonly #o: FollowSimOptions;
  readonly #index: number;
  readonly #r: TierResult;
  readonly #next: Rng;
  readonly #seed: number;
  readonly #mode: Mode;
  readonly #target: number;
  readonly #maxSlot: number;
  #raw = new SimFS();
  #writer: Writer | null = null;
  #writers = 0;
  /** Every writer process's view: their hard links (slot markers linked into place) are counted at the end. */
  readonly #writerViews: FsView[] = [];
  readonly #history = new History();
  #session: Session = { resolved: new Map(), durableClaim: 0 };
  /** Every commit attempted: id → event count. */
  readonly #intents = new Map<string, number>();
  readonly #aborted = new Set<string>();
  readonly #consumers: SimConsumer[] = [];
  readonly #pausedUntil = new Map<SimConsumer, number>();
  #lastCheckpoint = 0;
  #rotationsSeen = 0;
  #tx = 0;
  #crashes = 0;
  #opIndex = 0;
  readonly #violationsAtStart: number;

  constructor(o: FollowSimOptions, index: number, result: TierResult) {
    this.#o = o;
    this.#index = index;
    this.#r = result;
    this.#seed = mix(o.seed, 0xf5, index);
    this.#next = rng(this.#seed);
    this.#mode = MODES[index % MODES.length] as Mode;
    this.#target = between(this.#next, 300, 1400);
    // A quarter of the cases, and case 3 of every eight (so a default run of 8 has one), limit what the slot may
    // hold back: the writer's truncation invalidates it there (see #lagSlot).
    const limited = this.#next() < 0.25 || index % 8 === 3;
    this.#maxSlot = limited ? this.#target * 2 : Number.POSITIVE_INFINITY;
    this.#violationsAtStart = result.violations.length;
  }

  #bump(key: string, by = 1): void {
    this.#r.bump(key, by);
    this.#r.bump(`sim.${key}`, by);
  }

  #violation(kind: ViolationKind, message: string): void {
    const tag = `${this.#mode}, target ${this.#target} B${Number.isFinite(this.#maxSlot) ? `, maxSlotRetainedBytes ${this.#maxSlot}` : ""}`;
    this.#r.add({
      tier: FOLLOW_TIER,
      kind,
      caseId: `sim-${this.#index}`,
      message: `F-sim case ${this.#index} (${tag}) op ${this.#opIndex}: ${message}`,
      replay: `pnpm torture -- --tier F --seed ${this.#o.seed} --case ${this.#index}`,
    });
  }

  #finding(f: Finding): void {
    this.#violation(f.kind, f.message);
  }

  get #failed(): boolean {
    const stop = this.#o.stopWhen;
    return stop !== undefined && this.#r.violations.slice(this.#violationsAtStart).some(stop);
  }

  async run(): Promise<void> {
    try {
      if (!(await this.#openWriter())) return;
      const w = this.#writer as Writer;
      await createSlot(FOLLOW_DIR, SLOT, { fs: w.view });
      const kinds: ConsumerKind[] = ["inproc", "dir", SLOT, "rotation", "engine"];
      if (this.#next() < 0.35) kinds.push("selfsync");
      for (const kind of kinds) {
        // The consumer takes the bug only when it lives in its kind.
        const c = new SimConsumer(kind, kind, 0, (f) => this.#finding(f), this.#o.bug ?? null);
        this.#consumers.push(c);
        c.start(this.#raw, w, 0);
      }
      const total = between(this.#next, Math.ceil((this.#o.ops * 3) / 4), this.#o.ops);
      for (this.#opIndex = 0; this.#opIndex < total && !this.#failed; this.#opIndex++) {
        if (!(await this.#step())) return;
        for (let i = between(this.#next, 1, 4); i > 0; i--) await turn();
        await this.#handleConsumerErrors();
        for (const [c, until] of this.#pausedUntil) {
          if (until <= this.#opIndex) {
            c.resume();
            this.#pausedUntil.delete(c);
          }
        }
        this.#bump("operations");
      }
      if (!this.#failed) await this.#finish();
    } catch (e) {
      this.#violation("error", `the harness failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    } finally {
      for (const c of this.#consumers) await within(c.stop(), WAIT_TURNS);
      const w = this.#writer;
      if (w !== null && !w.closed) w.wal.close().catch(() => undefined);
      this.#bump(
        "markerLinks",
        this.#writerViews.reduce((sum, v) => sum + v.links, 0),
      );
    }
  }

  // ---- the writer -------------------------------------------------------------------------------------------

  async #openWriter(): Promise<boolean> {
    const view = new FsView(this.#raw, `writer${this.#writers++}`);
    this.#writerViews.push(view);
    try {
      const { wal } = await Wal.open<JsonValue>(FOLLOW_DIR, {
        codec: jsonCodec,
        fs: view,
        syncMode: this.#mode === "group" ? { mode: "group", intervalMs: 2_000_000_000 } : this.#mode,
        segmentTargetBytes: this.#target,
        checkpointLsn: this.#lastCheckpoint,
        maxSlotRetainedBytes: this.#maxSlot,
      });
      const w: Writer = {
        view,
        wal,
        dead: false,
        closed: false,
        ended: () => w.dead || w.closed,
      };
      wal.onLifecycle((e) => {
        if (e.type === "sealed") {
          this.#bump("rotations");
          this.#rotationsSeen++;
        } else if (e.type === "removed") {
          this.#bump("truncations");
          this.#bump("segmentsRemoved", e.segments.length);
        } else if (e.type === "slotInvalidated") this.#bump("slotInvalidations");
      });
      this.#writer = w;
      this.#session = { resolved: new Map(), durableClaim: 0 };
      return true;
    } catch (e) {
      this.#violation(
        "unopenable",
        `the writer could not open the log at fence ${this.#lastCheckpoint}: ${errorText(e)}`,
      );
      return false;
    }
  }

  #newTx(): { id: string; events: string[] } {
    const id = `f${this.#index}t${this.#tx++}`;
    const n = between(this.#next, 1, 3);
    const pad = this.#next() < 0.1 ? between(this.#next, 300, 700) : between(this.#next, 0, 80);
    return { id, events: Array.from({ length: n }, (_, i) => eventOf(id, i, pad)) };
  }

  async #commit(w: Writer): Promise<void> {
    const { id, events } = this.#newTx();
    this.#intents.set(id, events.length);
    const info = await w.wal.commitTx(events);
    if (info === null) throw new Error("commitTx resolved null for a non-empty transaction");
    this.#session.resolved.set(id, { b: info.beginLsn, c: info.commitLsn });
    if (this.#mode === "perCommit") this.#claim(info.commitLsn);
  }

  #claim(lsn: number): void {
    if (lsn > this.#session.durableClaim) this.#session.durableClaim = lsn;
  }

  async #burst(w: Writer): Promise<void> {
    const k = between(this.#next, 2, 5);
    await Promise.all(Array.from({ length: k }, () => this.#commit(w)));
  }

  async #lowLevel(w: Writer): Promise<void> {
    const { id, events } = this.#newTx();
    this.#intents.set(id, events.length);
    const b = await w.wal.begin();
    for (const e of events) await w.wal.append(b, e);
    const c = await w.wal.commit(b);
    await w.wal.flush();
    this.#session.resolved.set(id, { b, c });
    if (this.#mode === "perCommit") this.#claim(c);
  }

  /**
   * Two low-level transactions interleaved (begun one after the other, their appends alternating, committed in a
   * seeded order), so deliveries straddle each other's begins and exact resume tokens matter; now and then the
   * second is left open for good, as a writer that dies (or closes) with a transaction open leaves it: its begin
   * must not hold tokens back once a new session starts.
   */
  async #interleaved(w: Writer): Promise<void> {
    const first = this.#newTx();
    const second = this.#newTx();
    const leaveOpen = this.#next() < 0.15;
    this.#intents.set(first.id, first.events.length);
    if (!leaveOpen) this.#intents.set(second.id, second.events.length);
    const b1 = await w.wal.begin();
    const b2 = await w.wal.begin();
    const longest = Math.max(first.events.length, second.events.length);
    for (let i = 0; i < longest; i++) {
      const e1 = first.events[i];
      const e2 = second.events[i];
      if (e1 !== undefined) await w.wal.append(b1, e1);
      if (e2 !== undefined) await w.wal.append(b2, e2);
    }
    const secondFirst = this.#next() < 0.5;
    const commits: [string, number][] = [];
    if (!leaveOpen && secondFirst) commits.push([second.id, b2]);
    commits.push([first.id, b1]);
    if (!leaveOpen && !secondFirst) commits.push([second.id, b2]);
    const done: [string, { b: number; c: number }][] = [];
    for (const [id, b] of commits) done.push([id, { b, c: await w.wal.commit(b) }]);
    // Buffered until the flush, which writes them (and makes them durable in perCommit), as #lowLevel's.
    await w.wal.flush();
    for (const [id, at] of done) this.#session.resolved.set(id, at);
    if (this.#mode === "perCommit") this.#claim(Math.max(...done.map(([, at]) => at.c)));
    this.#bump(leaveOpen ? "leftOpen" : "interleaved");
  }

  async #abort(w: Writer): Promise<void> {
    const { id, events } = this.#newTx();
    this.#aborted.add(id);
    const b = await w.wal.begin();
    await w.wal.appendBatch(b, events);
    await w.wal.abort(b);
  }

  async #sync(w: Writer): Promise<void> {
    const upTo = w.wal.nextLsn() - 1;
    await w.wal.sync();
    this.#claim(upTo);
  }

  async #checkpoint(w: Writer): Promise<void> {
    // In `none` the handle's durable LSN (which bounds safeCheckpointLsn) is the written one: sync first, so the
    // history settled below the fence is durable, as it is in the other modes.
    if (this.#mode === "none") await this.#sync(w);
    const s = w.wal.safeCheckpointLsn();
    await this.#settleUpTo(s);
    const info = await w.wal.checkpoint(s);
    this.#claim(info.markerLsn);
    if (s > this.#lastCheckpoint) this.#lastCheckpoint = s;
    this.#bump("checkpoints");
  }

  /** One of the writer's data operations, chosen from the seed. */
  #dataOp(w: Writer): Promise<void> {
    const roll = this.#next();
    if (roll < 0.4) return this.#burst(w);
    if (roll < 0.65) return this.#commit(w);
    if (roll < 0.7) return this.#lowLevel(w);
    if (roll < 0.75) return this.#interleaved(w);
    if (roll < 0.8) return this.#abort(w);
    if (roll < 0.9) return this.#sync(w);
    return this.#checkpoint(w);
  }

  /** Run a writer call; a failure while no fault is injected is a violation. */
  async #call(what: string, work: Promise<void>): Promise<void> {
    try {
      await work;
    } catch (e) {
      if (this.#writer?.view.isDead === true) return;
      this.#violation("error", `${what} failed with no fault injected: ${errorText(e)}`);
    }
  }

  // ---- the workload ------------------------------------------------------------------------------------------

  /** One seeded operation; false when the case cannot go on (the log did not open again). */
  async #step(): Promise<boolean> {
    const w = this.#writer as Writer;
    const roll = this.#next();
    if (roll < 0.62) {
      await this.#call("a write", this.#dataOp(w));
      return true;
    }
    if (roll < 0.68) {
      // Where the slot has a retention limit, most of these lag it behind truncation instead.
      if (Number.isFinite(this.#maxSlot) && this.#next() < 0.75) return await this.#lagSlot();
      this.#pauseSomeone();
      return true;
    }
    if (roll < 0.72) {
      for (let i = between(this.#next, 5, 30); i > 0; i--) await turn();
      return true;
    }
    if (roll < 0.74) return await this.#commitPastDurableEdge();
    if (roll < 0.82) return await this.#crash("power");
    if (roll < 0.88) return await this.#crash("process");
    if (roll < 0.92) return await this.#crash("torn");
    if (roll < 0.95) return await this.#straddleRestart();
    return await this.#reopen();
  }

  /**
   * A low-level transaction open across a rotation and a writer restart that its followers learn of before they
   * read its commit: begun, then commits (forced across a rotation) made durable and delivered while it is open;
   * the followers in other processes stopped (SIGSTOP); it commits; the writer's process dies; the new session
   * publishes its mark; the followers continue. Their first look shows a new session, and they must read the
   * transaction again from its begin, in the segment before the one they stopped in: the session that committed it
   * ended after what they had read.
   */
  async #straddleRestart(): Promise<boolean> {
    const w = this.#writer as Writer;
    const t = this.#newTx();
    this.#intents.set(t.id, t.events.length);
    const b = await w.wal.begin();
    await w.wal.appendBatch(b, t.events);
    const rotationsBefore = this.#rotationsSeen;
    for (let i = 0; i < 40 && this.#rotationsSeen === rotationsBefore; i++) await this.#commit(w);
    await this.#commit(w);
    await this.#sync(w);
    // The followers in other processes catch up with it (count-bounded; one that is paused or failed does not).
    const followers = this.#consumers.filter((c) => !c.inWriter);
    const upTo = w.wal.durableLsn();
    const behind = (c: SimConsumer) => !c.paused && c.error === undefined && c.position < upTo;
    for (let turns = 0; turns < WAIT_TURNS && followers.some(behind); turns++) await turn();
    // SIGSTOP, not a pause of the consumer's loop: a follower waiting in `next()` would read on meanwhile.
    for (const c of followers) c.view?.stop();
    try {
      const commitLsn = await w.wal.commit(b);
      await w.wal.flush();
      this.#session.resolved.set(t.id, { b, c: commitLsn });
      if (this.#mode === "perCommit") this.#claim(commitLsn);
      if (!(await this.#crash("process"))) return false;
      await this.#call("a sync after a restart", this.#sync(this.#writer as Writer));
    } finally {
      // SIGCONT also when the case cannot go on: the consumers are stopped at its end and must be able to.
      for (const f of followers) f.view?.resume();
    }
    this.#bump("straddledRestarts");
    return true;
  }

  /**
   * A commit record exactly one past the durable LSN, then a power loss that keeps only the durable state. A
   * low-level transaction's begin and batch are synced, its commit only written (in `group` and `none`; `perCommit`
   * makes it durable too); the consumers get a fixed number of turns to read it, then the machine loses power. A
   * consumer that delivered it handed out what recovery takes back: a follower must not count the durable LSN as
   * exclusive.
   */
  async #commitPastDurableEdge(): Promise<boolean> {
    const w = this.#writer as Writer;
    const { id, events } = this.#newTx();
    this.#intents.set(id, events.length);
    const b = await w.wal.begin();
    await w.wal.appendBatch(b, events);
    await this.#sync(w);
    const c = await w.wal.commit(b);
    await w.wal.flush();
    this.#session.resolved.set(id, { b, c });
    if (this.#mode === "perCommit") this.#claim(c);
    if (c === w.wal.fsyncedLsn() + 1) this.#bump("commitsPastDurableEdge");
    for (let i = 0; i < EDGE_TURNS; i++) await turn();
    return await this.#crash("power", { atOnce: true });
  }

  /**
   * The slot's consumer stops confirming (paused) while the writer commits across four rotations, then a checkpoint
   * truncates: the slot holds back more than the limit, so the writer invalidates it, writing its marker under a
   * temporary name, fsyncing it and linking it into place (the seam's `link`, which every view forwards). Half the
   * time the machine loses power or the writer's process dies at a seeded file operation of that checkpoint, inside
   * the invalidation or around it; the resumed consumer must then find the slot valid or invalidated with its whole
   * marker (see `#handleConsumerErrors`).
   */
  async #lagSlot(): Promise<boolean> {
    const w = this.#writer as Writer;
    const c = this.#consumers.find((x) => x.kind === SLOT) as SimConsumer;
    if (!c.paused) c.pause();
    this.#pausedUntil.set(c, this.#opIndex + between(this.#next, 1, 4));
    const rotations = this.#rotationsSeen;
    for (let i = 0; i < 80 && this.#rotationsSeen < rotations + 4 && !w.ended(); i++) {
      await this.#call("a write", this.#commit(w));
    }
    this.#bump("slotLags");
    const crash = this.#next();
    if (crash < 0.25) return await this.#crash("power", { op: (x) => this.#checkpoint(x) });
    if (crash < 0.5) return await this.#crash("process", { op: (x) => this.#checkpoint(x) });
    await this.#call("a checkpoint", this.#checkpoint(w));
    return true;
  }

  #pauseSomeone(): void {
    const candidates = this.#consumers;
    const c = candidates[between(this.#next, 0, candidates.length - 1)] as SimConsumer;
    if (c.paused) {
      c.resume();
      this.#pausedUntil.delete(c);
      return;
    }
    c.pause();
    this.#pausedUntil.set(c, this.#opIndex + between(this.#next, 3, 15));
    this.#bump("pauses");
  }

  // ---- crashes -------------------------------------------------------------------------------------------------

  /**
   * Crash the writer at an exact point: after its n-th mutating file operation from now, inside a seeded operation.
   * `power`: the machine loses power (every process dies; the image is the durable state or a seeded crash image
   * between it and the volatile state); `process`: only the writer's process dies (the volatile state survives, the
   * followDir consumers keep running); `torn`: the same, dying inside a segment write with a prefix of it landed.
   */
  async #crash(
    kind: "power" | "process" | "torn",
    o: { atOnce?: boolean; op?: (w: Writer) => Promise<void> } = {},
  ): Promise<boolean> {
    const w = this.#writer as Writer;
    let image: { fs: SimFS; description: string } | null = null;
    let where = "at the end of the operation";
    let claim = 0;
    const die = (why: string) => {
      where = why;
      w.dead = true;
      claim = Math.max(this.#session.durableClaim, this.#mode === "none" ? 0 : w.wal.durableLsn());
      if (kind === "power") {
        for (const c of this.#consumers) c.view?.kill();
        image =
          o.atOnce === true ? { fs: this.#raw.durableImage(), description: "[drop all unsynced]" } : this.#pickImage();
      }
    };
    if (o.atOnce === true) {
      // Now, before any other operation: the durable state alone survives.
      w.view.kill();
      die("right after the operation");
    } else {
      w.view.dieAfter(between(this.#next, 1, 16), die, kind === "torn" ? between(this.#next, 1, 900) : undefined);
      const inner = await within((o.op ?? ((x: Writer) => this.#dataOp(x)))(w), WAIT_TURNS);
      if (!w.view.isDead) {
        if (!inner.settled) this.#violation("error", `a writer call did not settle in ${WAIT_TURNS} turns`);
        else if (inner.error !== undefined)
          this.#violation("error", `a writer call failed with no fault injected: ${errorText(inner.error)}`);
        w.view.kill();
        die("at the end of the operation");
      }
    }
    if (where.includes("torn write")) this.#bump("tornWrites");
    this.#crashes++;
    this.#bump("kills");
    this.#bump(`kills.${kind}`);
    // Processes that died: the writer's (its in-process consumers with it), and with a power loss every one.
    const victims = this.#consumers.filter((c) => kind === "power" || c.inWriter);
    for (const c of victims) {
      if (!(await within(c.stop(), WAIT_TURNS)).settled) this.#violation("error", `${c.name} did not stop`);
      c.error = undefined;
    }
    w.wal.close().catch(() => undefined);
    const chosen = image as { fs: SimFS; description: string } | null;
    const probe = chosen === null ? this.#raw.clone() : chosen.fs.clone();
    const cause = `${kind} crash ${where}${chosen === null ? "" : ` (image ${chosen.description.slice(0, 160)})`}`;
    if (!(await this.#settle(probe, cause, kind === "power" ? claim : Number.POSITIVE_INFINITY))) return false;
    if (chosen !== null) this.#raw = chosen.fs;
    if (!(await this.#openWriter())) return false;
    for (const c of victims) await this.#restart(c, kind === "power");
    return true;
  }

  #pickImage(): { fs: SimFS; description: string } {
    if (this.#next() < 0.5) return { fs: this.#raw.durableImage(), description: "[drop all unsynced]" };
    const images = [...this.#raw.crashImages({ maxImages: 6, seed: mix(this.#seed, this.#crashes) })];
    this.#bump("crashImagesEnumerated", images.length);
    return images[between(this.#next, 0, images.length - 1)] as { fs: SimFS; description: string };
  }

  /**
   * Recover a copy of the crash (or close) state with the real `Wal.open` and settle the history with it.
   * `claim`: every commit of the session at or below it must have survived (Infinity: every resolved one).
   */
  async #settle(probe: SimFS, cause: string, claim: number): Promise<boolean> {
    const recovered: TxSummary[] = [];
    let observed: number | null = null;
    try {
      const r = await Wal.open<JsonValue>(FOLLOW_DIR, {
        codec: jsonCodec,
        fs: probe,
        checkpointLsn: 0,
        allowTruncatedHistory: true,
        segmentTargetBytes: this.#target,
        onTransaction: (t) => void recovered.push(summarize(t)),
      });
      observed = r.checkpointLsnObserved;
      await r.wal.close();
    } catch (e) {
      this.#violation("unopenable", `after the ${cause}: ${errorText(e)}`);
      return false;
    }
    this.#bump("crashImages");
    this.#r.crashStates++;
    const oldest = (await oldestRetainedLsn(FOLLOW_DIR, { fs: probe })) ?? 0;
    const history = this.#history;
    const byCommit = new Map(recovered.map((t) => [t.c, t]));
    // The history settled before is still there (what truncation kept of it).
    for (const h of history.txs) {
      if (h.b < oldest) continue;
      const t = byCommit.get(h.c);
      if (t === undefined || !sameTx(t, h)) {
        this.#violation(
          "lost",
          `after the ${cause}, settled ${describeTx(h)} is ${t === undefined ? "missing" : `now ${describeTx(t)}`}`,
        );
      }
    }
    const fresh = recovered.filter((t) => t.c > history.last);
    const freshIds = new Set(fresh.map((t) => t.id));
    for (const [id, at] of this.#session.resolved) {
      if (history.hasId(id) || freshIds.has(id) || at.c > claim) continue;
      this.#violation(
        "lost",
        `after the ${cause}, ${id}@${at.b}..${at.c} is missing though covered by an fsync or acknowledged (claim ${claim})`,
      );
    }
    this.#r.ackedChecked += this.#session.resolved.size;
    // The durable-only guarantee: everything any consumer was handed is in what recovery kept.
    const freshByCommit = new Map(fresh.map((t) => [t.c, t]));
    for (const c of this.#consumers) {
      if (c.tainted) continue;
      const pending = c.stream.pendingAbove(history.last);
      const missing = pending.filter((t) => {
        const f = freshByCommit.get(t.c);
        return f === undefined || !sameTx(f, t);
      });
      this.#bump("durableOnlyChecked", pending.length);
      if (missing.length === 0) continue;
      c.tainted = true;
      this.#violation(
        "phantom",
        `durable-only: ${c.name} delivered ${missing.map(describeTx).slice(0, 3).join(", ")}${missing.length > 3 ? ` (+${missing.length - 3})` : ""}, which recovery after the ${cause} does not have`,
      );
    }
    this.#extend(fresh, `recovery after the ${cause}`);
    this.#lastCheckpoint = observed ?? 0;
    for (const c of this.#consumers) this.#checkConsumer(c, false);
    return true;
  }

  /**
   * Append transactions read from the log (commit LSNs above the history's last, in order) to the history: each a
   * whole transaction of the workload, committed once and never aborted, and no commit the writer made before the
   * last of them missing (a hole).
   */
  #extend(txs: readonly TxSummary[], source: string): void {
    const history = this.#history;
    const ids = new Set<string>();
    for (const t of txs) {
      const n = this.#intents.get(t.id);
      if (n === undefined || n !== t.n || !t.whole || this.#aborted.has(t.id) || history.hasId(t.id) || ids.has(t.id)) {
        this.#violation("phantom", `${source} has ${describeTx(t)}: never committed, aborted, not whole, or twice`);
      }
      ids.add(t.id);
    }
    const top = txs.at(-1);
    if (top !== undefined) {
      for (const [id, at] of this.#session.resolved) {
        if (at.c < top.c && !ids.has(id) && !history.hasId(id)) {
          this.#violation(
            "hole",
            `${source}: ${id}@${at.b}..${at.c} is missing while the later ${describeTx(top)} is there`,
          );
        }
      }
    }
    for (const t of txs) if (t.c > history.last) history.push(t);
  }

  /**
   * Before truncation at `fence`: settle the transactions at or below it into the history, read beside the live
   * writer (they are durable, and truncation is about to delete some of them, so no later recovery would show
   * them).
   */
  async #settleUpTo(fence: number): Promise<void> {
    if (fence <= this.#history.last) return;
    const view = new FsView(this.#raw, "settle-reader");
    const txs: TxSummary[] = [];
    // From the oldest segment kept: a transaction that began before the history's last commit and committed after
    // it (interleaved) began above every truncation fence, so its begin is still there.
    const oldest = (await oldestRetainedLsn(FOLLOW_DIR, { fs: view })) ?? 1;
    const last = this.#history.last;
    for await (const tx of readCommitted(FOLLOW_DIR, {
      codec: jsonCodec,
      fs: view,
      after: last,
      restartLsn: Math.min(last + 1, Math.max(1, oldest)),
      upto: fence,
    }))
      txs.push(summarize(tx));
    this.#extend(txs, `the durable log up to the checkpoint fence ${fence}`);
    this.#bump("settledBeforeTruncation", txs.length);
  }

  // ---- consumers ---------------------------------------------------------------------------------------------

  /** Start a stopped consumer again: from its position, or (slot) from its slot, checking the slot kept its word. */
  async #restart(c: SimConsumer, newProcess: boolean): Promise<void> {
    const w = this.#writer as Writer;
    if (newProcess) c.view = null;
    if (c.kind === SLOT) {
      const view = new FsView(this.#raw, "slot-reader");
      const slot = await readSlot(FOLLOW_DIR, SLOT, { fs: view });
      if (slot.confirmedLsn < c.confirmed) {
        this.#violation(
          "lost",
          `slot ${SLOT} is at ${slot.confirmedLsn} after the restart, below ${c.confirmed}, whose confirm had resolved`,
        );
      }
      const problem = c.stream.resumeAt(slot.confirmedLsn);
      if (problem !== null) this.#violation("hole", `${c.name} ${problem}`);
      c.confirmed = slot.confirmedLsn;
    }
    c.start(this.#raw, w, c.position);
    this.#bump("resumes");
  }

  /**
   * Whether `e` is a legitimate `WAL_TRUNCATED` for consumer `c`: it has no slot, the records it needed are really
   * gone (the oldest retained segment starts above its position + 1), and only up to the last checkpoint fence.
   */
  #overtakenByTruncation(c: { kind: string; stream: { restart: number } }, e: unknown): boolean {
    if (!isWalError(e, "WAL_TRUNCATED") || c.kind === SLOT) return false;
    const oldest = Number((e.details as { oldestRetainedLsn?: number }).oldestRetainedLsn);
    return oldest > c.stream.restart && oldest - 1 <= this.#lastCheckpoint;
  }

  /** Consumers that failed while their process lives: a legitimate truncation or invalidation rebases them. */
  async #handleConsumerErrors(): Promise<void> {
    for (const c of this.#consumers) {
      if (c.running || c.error === undefined) continue;
      const e = c.error;
      c.error = undefined;
      const w = this.#writer as Writer;
      if (c.inWriter && w.ended()) continue; // it dies with the handle; the crash or reopen restarts it
      if (isWalError(e, "WAL_TRUNCATED") && c.kind !== SLOT) {
        const oldest = Number((e.details as { oldestRetainedLsn?: number }).oldestRetainedLsn);
        if (!this.#overtakenByTruncation(c, e)) {
          this.#violation(
            "hole",
            `${c.name} at ${c.position} got WAL_TRUNCATED naming oldest retained ${oldest} (fence ${this.#lastCheckpoint}): ${e.message}`,
          );
          continue;
        }
        c.stream.begin(this.#lastCheckpoint, `WAL_TRUNCATED at ${c.position}`);
        this.#bump("rebases");
      } else if (isWalError(e, "WAL_SLOT_INVALIDATED") && c.kind === SLOT && Number.isFinite(this.#maxSlot)) {
        const view = c.view as FsView;
        const slot = await readSlot(FOLLOW_DIR, SLOT, { fs: view });
        if (slot.invalidated === null) {
          this.#violation("error", `${c.name} got WAL_SLOT_INVALIDATED but the slot is valid: ${e.message}`);
          continue;
        }
        // The marker is linked into place whole (SimFS, and so every view, has link), after any crash too.
        if (slot.invalidated.oldestRetainedLsn === null) {
          this.#violation(
            "error",
            `${c.name}: the slot's invalidation marker is not whole: ${slot.invalidated.reason}`,
          );
          continue;
        }
        await dropSlot(FOLLOW_DIR, SLOT, { fs: view });
        await createSlot(FOLLOW_DIR, SLOT, { fs: view, confirmedLsn: this.#lastCheckpoint });
        c.stream.begin(this.#lastCheckpoint, "slot invalidated");
        c.confirmed = this.#lastCheckpoint;
        this.#bump("rebases");
      } else {
        // Reported once; the consumer starts again from its position so the case goes on checking the rest.
        this.#violation("error", `${c.name} failed at ${c.position}: ${errorText(e)}`);
        this.#bump("restartsAfterError");
      }
      c.start(this.#raw, w, c.position);
      this.#bump("resumes");
    }
  }

  // ---- clean close, reopen, end -----------------------------------------------------------------------------------

  /** Close the writer cleanly; its in-process consumers deliver everything durable and end. */
  /** The in-process consumers the last clean close rebased (truncation overtook them). */
  #rebasedAtClose: ReadonlySet<unknown> = new Set();

  async #closeWriter(): Promise<boolean> {
    const w = this.#writer as Writer;
    try {
      await w.wal.close();
    } catch (e) {
      this.#violation("error", `close failed: ${errorText(e)}`);
    }
    w.closed = true;
    const rebased = new Set<unknown>();
    this.#rebasedAtClose = rebased;
    for (const c of this.#consumers.filter((x) => x.inWriter)) {
      if (c.paused) await within(c.stop(), WAIT_TURNS);
      else if (!(await within(c.ended(), WAIT_TURNS)).settled) {
        this.#violation("error", `${c.name} did not end after the handle closed`);
        await within(c.stop(), WAIT_TURNS);
      }
      if (c.error !== undefined) {
        if (this.#overtakenByTruncation(c, c.error)) {
          // A follower without a slot that was still a segment behind when the writer truncated: refused, as it
          // must be; it starts again from the fence when the log reopens.
          c.stream.begin(this.#lastCheckpoint, `WAL_TRUNCATED at ${c.position} (at close)`);
          this.#bump("rebases");
          rebased.add(c);
        } else this.#violation("error", `${c.name} failed at close: ${errorText(c.error)}`);
        c.error = undefined;
      }
    }
    if (!(await this.#settle(this.#raw.clone(), "clean close", Number.POSITIVE_INFINITY))) return false;
    for (const c of this.#consumers.filter((x) => x.inWriter && !x.paused && !rebased.has(x))) {
      if (c.position < this.#history.last && c.stream.start < this.#history.last) {
        this.#violation(
          "lost",
          `${c.name} ended at ${c.position} after the clean close, before the last durable commit ${this.#history.last}`,
        );
      }
    }
    return true;
  }

  async #reopen(): Promise<boolean> {
    if (!(await this.#closeWriter())) return false;
    const tokens = await this.#tokenChecks(2);
    if (!(await this.#openWriter())) return false;
    await this.#walFollowCheck(tokens);
    for (const c of this.#consumers.filter((x) => x.inWriter)) await this.#restart(c, false);
    this.#bump("cleanReopens");
    return true;
  }

  async #finish(): Promise<void> {
    for (const c of this.#consumers) c.resume();
    this.#pausedUntil.clear();
    if (!(await this.#closeWriter())) return;
    const last = this.#history.last;
    const followers = this.#consumers.filter((x) => !x.inWriter);
    // Each follower of the closed log must reach its end (count-bounded: a stall is a violation, not a wait).
    for (let turns = 0; turns < WAIT_TURNS && followers.some((c) => c.position < last); turns++) {
      await turn();
      if (turns % 25 === 0) await this.#handleConsumerErrors();
    }
    await this.#handleConsumerErrors();
    for (const c of followers) {
      if (c.position < last && !c.tainted) {
        this.#violation(
          "lost",
          `${c.name} stalled at ${c.position}: the closed log ends at ${last} (waited ${WAIT_TURNS} turns)`,
        );
      }
    }
    for (const c of this.#consumers) await within(c.stop(), WAIT_TURNS);
    for (const c of this.#consumers) {
      // One rebased by truncation at this last close has no reopen to catch up in: its epoch is checked as a prefix.
      this.#checkConsumer(c, !this.#rebasedAtClose.has(c));
      this.#bump("deliveriesChecked", c.stream.count());
      this.#bump("redeliveries", c.stream.redelivered);
      this.#bump("rotationRestarts", c.rotationRestarts);
    }
    this.#bump("historyTransactions", this.#history.txs.length);
    const tokens = await this.#tokenChecks(2);
    if (await this.#openWriter()) {
      await this.#walFollowCheck(tokens);
      await (this.#writer as Writer).wal.close();
      (this.#writer as Writer).closed = true;
    }
  }

  /**
   * With the log closed: draw tokens among the delivered transactions' exact tokens (commit LSN and restart point,
   * and the start token 0); `readCommitted` and a fresh `followDir` from each must give exactly the history's
   * transactions committed after it (interleaved ones whole), or refuse with `WAL_TRUNCATED` when truncation removed
   * records from its restart point on. The one-missing-LSN rule: when only the restart point itself is gone (it is
   * the oldest segment's base minus one), the read goes on, and fails with `WAL_TRUNCATED` exactly when a retained
   * record names a transaction begun there, after delivering a prefix of the history without it. Returns the
   * tokens a read may start from (the one-missing-LSN ones included), for the `wal.follow` check after the reopen.
   */
  async #tokenChecks(k: number): Promise<CheckedToken[]> {
    const view = new FsView(this.#raw, "token-check");
    const oldest = (await oldestRetainedLsn(FOLLOW_DIR, { fs: view })) ?? 0;
    const byCommit = new Map<number, Token>([[0, { c: 0, r: 1 }]]);
    for (const c of this.#consumers) {
      for (const e of c.stream.epochs) for (const t of e.list) byCommit.set(t.c, { c: t.c, r: t.r ?? t.c + 1 });
    }
    const delivered = [...byCommit.values()];
    const tokens: Token[] = [];
    for (let i = 0; i < k; i++) tokens.push(delivered[between(this.#next, 0, delivered.length - 1)] as Token);
    const readable: CheckedToken[] = [];
    for (const t of tokens) {
      this.#bump("tokenChecks");
      // Refused at once: two or more LSNs missing from the restart point on.
      const refused = t.r < oldest - 1;
      // Read, then refused at the first retained record of a transaction begun at the one missing LSN (null: none).
      const cutAt = !refused && t.r === oldest - 1 ? await firstNamingBegin(view, t.r) : null;
      if (t.r === oldest - 1) this.#bump("loneMissingTokens");
      const expected = this.#history.committedAfter(t.c);
      const what = `after ${t.c} (restart ${t.r})`;
      const token = { after: t.c, restartLsn: t.r };
      const got: TxSummary[] = [];
      let failure: unknown;
      try {
        for await (const tx of readCommitted(FOLLOW_DIR, { codec: jsonCodec, fs: view, ...token }))
          got.push(summarize(tx));
      } catch (e) {
        failure = e;
      }
      this.#checkTokenRead(`readCommitted ${what}`, { got, error: failure }, expected, refused, cutAt, oldest);
      const fresh = followDir(FOLLOW_DIR, { codec: jsonCodec, fs: view, ...token, pollIntervalMs: 0 });
      const drained = await drain(fresh, refused ? 1 : expected.length + (cutAt === null ? 0 : 1));
      this.#checkTokenRead(`a fresh followDir ${what}`, drained, expected, refused, cutAt, oldest);
      if (!refused) readable.push({ ...t, oldest, cutAt });
    }
    return readable;
  }

  /**
   * One read from a token: `refused`, it fails `WAL_TRUNCATED` having delivered nothing; cut at `cutAt` (a record of
   * the transaction begun at the missing LSN), it fails `WAL_TRUNCATED` having delivered a prefix of the transactions
   * of `expected` committed below it; otherwise it delivers exactly `expected`.
   */
  #checkTokenRead(
    what: string,
    read: { readonly got: readonly TxSummary[]; readonly error?: unknown },
    expected: readonly TxSummary[],
    refused: boolean,
    cutAt: number | null,
    oldest: number,
  ): void {
    if (refused || cutAt !== null) {
      if (!isWalError(read.error, "WAL_TRUNCATED")) {
        this.#violation(
          "hole",
          `${what} (oldest segment at ${oldest}) did not fail WAL_TRUNCATED: ${read.error === undefined ? `${read.got.length} delivered` : errorText(read.error)}`,
        );
        return;
      }
      if (refused && read.got.length > 0)
        this.#violation("hole", `${what} delivered ${read.got.length} transactions before WAL_TRUNCATED`);
      else if (cutAt !== null) {
        // A prefix: a reader may fail when it reads the record at cutAt, before handing out what it had queued.
        const before = expected.filter((t) => t.c < cutAt);
        this.#compare(`${what} (before WAL_TRUNCATED at lsn ${cutAt})`, read.got, before.slice(0, read.got.length));
      }
      return;
    }
    if (read.error !== undefined) this.#violation("error", `${what} failed: ${errorText(read.error)}`);
    this.#compare(what, read.got, expected);
  }

  /**
   * Right after a reopen, before anything new is written: a fresh `wal.follow` from each token, under the same rules
   * as the reads on the closed log (a one-missing-LSN token is read, and cut where a record names the lost begin).
   */
  async #walFollowCheck(tokens: readonly CheckedToken[]): Promise<void> {
    const w = this.#writer as Writer;
    for (const t of tokens) {
      const expected = this.#history.committedAfter(t.c);
      const follower = w.wal.follow({ after: t.c, restartLsn: t.r });
      const drained = await drain(follower, expected.length + (t.cutAt === null ? 0 : 1));
      this.#checkTokenRead(
        `a fresh wal.follow after ${t.c} (restart ${t.r})`,
        drained,
        expected,
        false,
        t.cutAt,
        t.oldest,
      );
      this.#bump("tokenChecks");
    }
  }

  /** A consumer's deliveries against the history (once: a consumer with a violation is not checked again). */
  #checkConsumer(c: SimConsumer, complete: boolean): void {
    if (c.tainted) return;
    const first = checkStream(c.stream, this.#history, complete)[0];
    if (first === undefined) return;
    c.tainted = true;
    this.#finding(first);
  }

  #compare(what: string, got: readonly TxSummary[], expected: readonly TxSummary[]): void {
    const n = Math.max(got.length, expected.length);
    for (let i = 0; i < n; i++) {
      const g = got[i];
      const e = expected[i];
      if (g !== undefined && e !== undefined && sameTx(g, e)) continue;
      const kind: ViolationKind = g === undefined ? "lost" : e === undefined || g.c > e.c ? "hole" : "phantom";
      this.#violation(
        kind,
        `${what}: transaction ${i} is ${g === undefined ? "missing" : describeTx(g)}, the history has ${e === undefined ? "nothing more" : describeTx(e)} (${got.length} vs ${expected.length})`,
      );
      return;
    }
  }
}

/** Take `count` transactions from a follower (bounded by event-loop turns), then stop it. */
/** The LSN of the first record in the log (what `fs` holds now) naming a transaction begun at `beginLsn`, or null. */
async function firstNamingBegin(fs: FsView, beginLsn: number): Promise<number | null> {
  for (const entry of await listSegments(fs, FOLLOW_DIR)) {
    const reader = await SegmentReader.open(fs, entry.path);
    try {
      for (;;) {
        const step = await reader.next(jsonCodec);
        if (step.kind !== "record") break;
        const record = step.record;
        if ("txBeginLsn" in record && record.txBeginLsn === beginLsn) return record.lsn;
      }
    } finally {
      await reader.close();
    }
  }
  return null;
}

async function drain(
  it: AsyncIterator<{ beginLsn: number; commitLsn: number; events: readonly unknown[] }> & {
    return?: () => Promise<unknown>;
  },
  count: number,
): Promise<{ got: TxSummary[]; error?: unknown }> {
  const got: TxSummary[] = [];
  let error: unknown;
  while (got.length < count) {
    const r = await within(it.next(), WAIT_TURNS);
    if (!r.settled) break;
    if (r.error !== undefined) {
      error = r.error;
      break;
    }
    const step = r.value as IteratorResult<{ beginLsn: number; commitLsn: number; events: readonly unknown[] }>;
    if (step.done === true) break;
    got.push(summarize(step.value));
  }
  await it.return?.().catch(() => undefined);
  return error === undefined ? { got } : { got, error };
}
