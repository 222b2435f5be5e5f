/**
 * Tier F (simulated): the consumers of the change feed, each running concurrently with the writer and recording
 * what it is handed in a {@link DeliveryStream}:
 *
 * - `inproc`: `wal.follow()` in the writer's process (it dies with the writer and restarts with the next handle);
 * - `dir`: `followDir(dir, { fs })` from its own process (its own view of the SimFS machine), no slot;
 * - `slot`: `followDir` with a replication slot, confirming every delivery (`follower.confirm`);
 * - `rotation`: a consumer that starts a new `followDir` each time the log rotates (per-segment processing),
 *   resuming from the token it holds;
 * - `selfsync`: `followDir` with `selfSyncAfterMs: 0` (it fsyncs what it reads itself whenever the writer's mark
 *   lags);
 * - `engine`: the follower engine (`CommitFollower`, exported by @lora/wal-replay) driven by a source of this
 *   harness in the writer's process: durability from `wal.fsyncedLsn()`, woken every event-loop turn.
 *
 * Planted bugs (each in one consumer kind, {@link SIM_BUG_CONSUMER}): `follow-lying-durability` makes the `engine` consumer's source report the written
 * LSN as durable; `follow-durable-one-past` makes it report one LSN past the fsynced one (an inclusive bound taken
 * as exclusive), so a commit record right after the durable line is delivered before any fsync covers it; `follow-lost-position-at-rotation` makes the `rotation` consumer resume from the new segment's
 * base LSN instead of its last delivered commit LSN (an off-by-one the token contract makes easy: `after` is
 * exclusive); `follow-commit-only-token` makes the `rotation` consumer keep only the commit LSN of its token (resume
 * with `after` alone, LoraDB's rule), which skips a transaction that began before it and committed after it.
 */

import { type CommittedTransaction, isWalError, type JsonValue, jsonCodec, type Wal } from "@lora/wal";
import { CommitFollower, followDir } from "@lora/wal-replay";
import { listSegments, SegmentReader, type WalFileSystem } from "@lora/wal-segment";
import type { SimFS } from "@lora/wal-segment/testing";
import { FsView } from "./follow-fs-view.js";
import { DeliveryStream, type Finding, summarize } from "./follow-history.js";
import type { FollowSimBug } from "./tier-f-sim.js";

export const FOLLOW_DIR = "/w";

export type ConsumerKind = "inproc" | "dir" | "slot" | "rotation" | "selfsync" | "engine";

/** The consumer kind each planted follower bug lives in: only a consumer of that kind runs with it. */
export const SIM_BUG_CONSUMER: Readonly<Record<FollowSimBug, ConsumerKind>> = {
  "follow-lying-durability": "engine",
  "follow-durable-one-past": "engine",
  "follow-lost-position-at-rotation": "rotation",
  "follow-commit-only-token": "rotation",
};

/** The live writer process, as the consumers in it see it. */
export interface WriterRef {
  readonly wal: Wal<JsonValue>;
  readonly view: FsView;
  /** The handle is closed or dead: in-process consumers end once they delivered what they could. */
  ended(): boolean;
}

type Iter = AsyncIterator<CommittedTransaction<JsonValue>> & {
  readonly position: number;
  confirm?(token: { commitLsn: number; restartLsn: number }): Promise<void>;
};

/** A follower's poll interval when nothing wakes it: every event-loop turn (a SimFS cannot be watched). */
const POLL_MS = 0;
/** Never self-sync on a timer: a consumer delivers on the writer's durable mark only (except `selfsync`). */
const NEVER_MS = 1_000_000_000;

export class SimConsumer {
  readonly kind: ConsumerKind;
  readonly name: string;
  readonly stream: DeliveryStream;
  /** The planted bug this consumer runs with, when the run's bug lives in its kind (see the module comment). */
  readonly #bug: FollowSimBug | null;
  readonly #report: (f: Finding) => void;
  /** The consumer's own process (followDir kinds); in-process kinds use the writer's view. */
  view: FsView | null = null;
  #iter: Iter | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #paused = false;
  #unpause: (() => void) | null = null;
  #newestSegment = -1;
  /** A violation was reported on this consumer's deliveries: later checks of them would only repeat it. */
  tainted = false;
  /** The error that ended the loop, if any. */
  error: unknown = undefined;
  /** The highest commit LSN whose `confirm` resolved (slot consumers). */
  confirmed = 0;
  restarts = 0;
  rotationRestarts = 0;
  /** Deliveries that came after the writer (or this consumer's process) died: computed from what it read before. */
  deliveredAfterDeath = 0;

  constructor(
    kind: ConsumerKind,
    name: string,
    start: number,
    report: (f: Finding) => void,
    bug: FollowSimBug | null = null,
  ) {
    this.#bug = bug !== null && SIM_BUG_CONSUMER[bug] === kind ? bug : null;
    this.kind = kind;
    this.name = name;
    this.stream = new DeliveryStream(name, start);
    this.#report = report;
  }

  /** Runs in the writer's process (dies and restarts with it). */
  get inWriter(): boolean {
    return this.kind === "inproc" || this.kind === "engine";
  }

  get running(): boolean {
    return this.#loop !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get position(): number {
    return this.stream.position;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wake();
  }

  #wake(): void {
    this.#unpause?.();
    this.#unpause = null;
  }

  /**
   * Start following from `from` (ignored by `slot`, which reads its slot). A followDir consumer gets a new process
   * (view) on `machine` unless it has a live one.
   */
  start(machine: SimFS, writer: WriterRef | null, from: number): void {
    if (this.#loop !== null) throw new Error(`${this.name} is already running`);
    if (!this.inWriter && (this.view === null || this.view.isDead)) {
      this.view = new FsView(machine, `${this.name}#${this.restarts}`);
    }
    this.error = undefined;
    this.#stopping = false;
    this.restarts++;
    const iter = this.#open(writer, from);
    this.#iter = iter;
    this.#loop = this.#run(iter);
  }

  #open(writer: WriterRef | null, from: number): Iter {
    // The exact token when resuming from its own position (interleaved transactions come whole); else after `from`.
    const restartLsn =
      from === this.stream.position && this.#bug !== "follow-commit-only-token" ? this.stream.restart : from + 1;
    if (this.kind === "inproc") {
      if (writer === null) throw new Error("inproc consumer without a writer");
      return writer.wal.follow({ after: from, restartLsn });
    }
    if (this.kind === "engine") {
      if (writer === null) throw new Error("engine consumer without a writer");
      return engineFollower(writer, from, restartLsn, this.#bug);
    }
    const fs = this.view as FsView;
    if (this.kind === "slot") {
      return followDir(FOLLOW_DIR, {
        codec: jsonCodec,
        fs,
        slot: this.name,
        pollIntervalMs: POLL_MS,
        selfSyncAfterMs: NEVER_MS,
      });
    }
    return followDir(FOLLOW_DIR, {
      codec: jsonCodec,
      fs,
      after: from,
      restartLsn,
      pollIntervalMs: POLL_MS,
      selfSyncAfterMs: this.kind === "selfsync" ? 0 : NEVER_MS,
    });
  }

  async #run(first: Iter): Promise<void> {
    let iter = first;
    try {
      if (this.kind === "rotation") this.#newestSegment = (await newestSegment(this.view as FsView))?.id ?? -1;
      for (;;) {
        while (this.#paused && !this.#stopping) await new Promise<void>((r) => (this.#unpause = r));
        if (this.#stopping) return;
        const r = await iter.next();
        if (r.done === true) return;
        const proc = this.inWriter ? null : this.view;
        if (proc?.isDead === true) this.deliveredAfterDeath++;
        const finding = this.stream.deliver(summarize(r.value));
        if (finding !== null && !this.tainted) {
          this.tainted = true;
          this.#report(finding);
        }
        if (this.kind === "slot") {
          await (iter.confirm as NonNullable<Iter["confirm"]>)(r.value);
          this.confirmed = Math.max(this.confirmed, r.value.commitLsn);
        }
        if (this.kind === "rotation") {
          const next = await this.#restartAtRotation(iter);
          if (next !== null) {
            iter = next;
            this.#iter = next;
          }
        }
      }
    } catch (error) {
      this.error = error;
    } finally {
      this.#loop = null;
      this.#iter = null;
    }
  }

  /** When the log has rotated since this consumer's follower started, restart it from the token it holds. */
  async #restartAtRotation(iter: Iter): Promise<Iter | null> {
    const fs = this.view as FsView;
    const newest = await newestSegment(fs);
    if (newest === null || newest.id <= this.#newestSegment) return null;
    this.#newestSegment = newest.id;
    await iter.return?.();
    this.rotationRestarts++;
    // The correct token is the last delivered commit LSN; the planted bug takes the new segment's first LSN, as if
    // the segment's base named the last transaction already processed.
    const lostPosition = this.#bug === "follow-lost-position-at-rotation";
    const after = lostPosition ? newest.baseLsn : this.stream.position;
    const restartLsn = lostPosition || this.#bug === "follow-commit-only-token" ? after + 1 : this.stream.restart;
    return followDir(FOLLOW_DIR, {
      codec: jsonCodec,
      fs,
      after,
      restartLsn,
      pollIntervalMs: POLL_MS,
      selfSyncAfterMs: NEVER_MS,
    });
  }

  /** Stop following (the iteration ends); resolves once the loop has ended. Does not throw. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake();
    const loop = this.#loop;
    await this.#iter?.return?.().catch(() => undefined);
    await loop;
  }

  /** The loop, to wait for a natural end (an in-process follower after its handle closed). */
  ended(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }
}

/** The newest segment of the log and its base LSN, or null when there is none. */
async function newestSegment(fs: WalFileSystem): Promise<{ id: number; baseLsn: number } | null> {
  const entries = await listSegments(fs, FOLLOW_DIR);
  const last = entries.at(-1);
  if (last === undefined) return null;
  let reader: SegmentReader;
  try {
    reader = await SegmentReader.open(fs, last.path);
  } catch (e) {
    // A segment being created has no header for a moment (or never, if the writer died there): not rotated yet.
    if (isWalError(e, "WAL_BAD_HEADER")) return null;
    throw e;
  }
  try {
    return { id: last.id, baseLsn: reader.header.baseLsn };
  } finally {
    await reader.close();
  }
}

/**
 * The engine of `wal.follow` with this harness's source. With planted bug `follow-lying-durability` the source
 * reports the written LSN (everything appended that a reader can see) as durable, so the engine delivers commits no
 * fsync has covered yet; with `follow-durable-one-past` it reports one LSN past the fsynced one; otherwise it reports
 * `wal.fsyncedLsn()`, as the handle's own source does.
 */
function engineFollower(writer: WriterRef, from: number, restartLsn: number, bug: FollowSimBug | null): Iter {
  return new CommitFollower<JsonValue>({
    dir: FOLLOW_DIR,
    fs: writer.view,
    codec: jsonCodec,
    after: from,
    restartLsn,
    durability: "durable",
    source: {
      durability: () =>
        Promise.resolve({
          session: 1,
          durableLsn:
            bug === "follow-lying-durability"
              ? writer.wal.nextLsn() - 1
              : writer.wal.fsyncedLsn() + (bug === "follow-durable-one-past" ? 1 : 0),
          closed: writer.ended(),
        }),
      changed: (signal) =>
        new Promise<void>((resolve) => {
          const t = setImmediate(done);
          function done(): void {
            clearImmediate(t);
            signal.removeEventListener("abort", done);
            resolve();
          }
          signal.addEventListener("abort", done, { once: true });
        }),
      ended: () => writer.ended(),
    },
  });
}
