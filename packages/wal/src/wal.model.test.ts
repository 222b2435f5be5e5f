/**
 * Model-based test of the handle on SimFS (docs/crash-testing.md): random operations, crashes and injected failures
 * against an in-memory model. After each simulated crash, every crash image the fsync barriers allow is recovered
 * with the real `Wal.open`; the recovered log must be a prefix of the committed history that holds every
 * acknowledged-durable commit, with nothing aborted or unfinished in it.
 *
 * Each sync mode is its own property, so a shrunk counterexample names its mode. Failures print fast-check's seed
 * and path; rerun with `FC_SEED=<seed> FC_PATH=<path>`.
 */

import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SyncModeInput } from "./sync-mode.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 60);
const MAX_IMAGES = 12;

interface Model {
  /** Committed transactions in commit order, each a list of unique event numbers. */
  committed: number[][];
  /** How many of `committed` are known durable (acknowledged by an fsync the caller awaited). */
  durable: number;
  /** How many of `committed` a checkpoint covers (below the fence). */
  fenced: number;
  fence: number;
  poisoned: boolean;
  /** A fault is armed: the next operations may fail. */
  faultArmed: boolean;
  nextEvent: number;
  mode: SyncModeInput;
  /** The handle runs fdatasync on the event-loop thread (`blockingSync`). */
  blocking: boolean;
  crashChecks: number;
  loudImages: number;
}

interface Real {
  fs: SimFS;
  wal: Wal<JsonValue>;
}

type Cmd = fc.AsyncCommand<Model, Real>;

function fresh(model: Model, n: number): number[] {
  return Array.from({ length: n }, () => model.nextEvent++);
}

function failedOnFault(model: Model, error: unknown): void {
  if (!model.faultArmed && !model.poisoned) throw error;
  if (!isWalError(error, "WAL_IO") && !isWalError(error, "WAL_POISONED")) throw error;
  model.poisoned = true;
}

class CommitTx implements Cmd {
  constructor(readonly size: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const events = fresh(m, this.size);
    try {
      await r.wal.commitTx(events);
      expect(m.poisoned).toBe(false);
      m.committed.push(events);
      if (m.mode === "perCommit") m.durable = m.committed.length;
    } catch (error) {
      if (m.poisoned) expect(error).toMatchObject({ code: "WAL_POISONED" });
      failedOnFault(m, error);
      // Indeterminate: the failing commit was appended and may have reached the file. It may come back after a
      // crash (whole, last, never acknowledged as durable); nothing can commit after it until a reopen.
      if (isWalError(error, "WAL_IO")) m.committed.push(events);
    }
  }
  toString = () => `commitTx(${this.size})`;
}

/** begin, append, then commit, abort, or leave open, with another transaction committed in between. */
class LowLevelTx implements Cmd {
  constructor(readonly ending: "commit" | "abort" | "open") {}
  check = (m: Model) => !m.poisoned;
  async run(m: Model, r: Real) {
    const events = fresh(m, 2);
    try {
      const b = await r.wal.begin();
      await r.wal.append(b, events[0] as number);
      const other = fresh(m, 1);
      const ob = await r.wal.begin();
      await r.wal.appendBatch(ob, other);
      await r.wal.commit(ob);
      m.committed.push(other);
      await r.wal.append(b, events[1] as number);
      if (this.ending === "commit") {
        await r.wal.commit(b);
        m.committed.push(events);
      } else if (this.ending === "abort") {
        await r.wal.abort(b);
      }
    } catch (error) {
      failedOnFault(m, error);
    }
  }
  toString = () => `lowLevelTx(${this.ending})`;
}

class Flush implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    try {
      await r.wal.flush();
      expect(m.poisoned).toBe(false);
      if (m.mode === "perCommit") m.durable = m.committed.length;
    } catch (error) {
      failedOnFault(m, error);
    }
  }
  toString = () => "flush";
}

class Sync implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    try {
      await r.wal.sync();
      expect(m.poisoned).toBe(false);
      m.durable = m.committed.length;
    } catch (error) {
      failedOnFault(m, error);
    }
  }
  toString = () => "sync";
}

class Checkpoint implements Cmd {
  check = (m: Model) => !m.poisoned && !m.faultArmed;
  async run(m: Model, r: Real) {
    if (m.committed.length === m.fenced) return;
    await r.wal.sync();
    m.durable = m.committed.length;
    // Every committed transaction lies at or below the last LSN, but a low-level transaction left open straddles
    // it: then that fence is refused with nothing written, and the handle offers a lower one.
    const fence = r.wal.nextLsn() - 1;
    const safe = r.wal.safeCheckpointLsn();
    if (safe < fence) {
      const next = r.wal.nextLsn();
      await expect(r.wal.checkpoint(fence)).rejects.toMatchObject({
        code: "WAL_BAD_CHECKPOINT",
        details: { usableFence: safe },
      });
      await expect(r.wal.truncateUpTo(fence)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
      expect(r.wal.nextLsn()).toBe(next);
      return;
    }
    await r.wal.checkpoint(fence);
    m.fence = fence;
    m.fenced = m.committed.length;
  }
  toString = () => "checkpoint";
}

class InjectFault implements Cmd {
  constructor(
    readonly op: "datasync" | "write",
    readonly errno: "EIO" | "ENOSPC",
  ) {}
  check = (m: Model) => !m.faultArmed && !m.poisoned;
  run(m: Model, r: Real): Promise<void> {
    r.fs.injectFault({ op: this.op, errno: this.errno, path: /\.wal$/ });
    m.faultArmed = true;
    return Promise.resolve();
  }
  toString = () => `inject(${this.op} ${this.errno})`;
}

class SecondOpen implements Cmd {
  check = () => true;
  async run(_m: Model, r: Real) {
    await expect(Wal.open(DIR, { fs: r.fs, codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_LOCKED" });
  }
  toString = () => "secondOpen";
}

function flat(txs: number[][]): number[] {
  return txs.flat();
}

/** Recovered events must be the events of committed[fenced .. fenced + k) for some k ≥ durable - fenced. */
function checkRecovered(m: Model, events: JsonValue[], what: string): number {
  const expected = m.committed.slice(m.fenced);
  let k = 0;
  let consumed = 0;
  while (k < expected.length && consumed < events.length) {
    consumed += (expected[k] as number[]).length;
    k++;
  }
  expect(events, `${what}: recovered events are a prefix of the committed history, cut at a transaction`).toEqual(
    flat(expected.slice(0, k)),
  );
  expect(k, `${what}: every durable commit survives`).toBeGreaterThanOrEqual(Math.max(0, m.durable - m.fenced));
  return m.fenced + k;
}

/** Crash now: recover every image, check it, then continue from one of them. */
class Crash implements Cmd {
  constructor(
    readonly seed: number,
    readonly pick: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const images = [...r.fs.crashImages({ maxImages: MAX_IMAGES, seed: this.seed })];
    const usable: { fs: SimFS; kept: number }[] = [];
    for (const image of images) {
      let opened: Awaited<ReturnType<typeof Wal.open<JsonValue>>>;
      try {
        opened = await Wal.open(DIR, { fs: image.fs, codec: jsonCodec, checkpointLsn: m.fence });
      } catch (error) {
        // Sectors of one write landing out of order can put a valid record after a hole: loud corruption is the
        // right answer there (never a silent cut), and no durable record is lost because none was synced.
        if (isWalError(error, "WAL_CORRUPT") && image.description.includes("torn")) {
          m.loudImages++;
          continue;
        }
        throw new Error(`image "${image.description}" did not open: ${String(error)}`, { cause: error });
      }
      const kept = checkRecovered(m, opened.events, image.description);
      m.crashChecks++;
      // Writes after recovery replay too, and recovery is idempotent.
      await opened.wal.commitTx([-1]);
      await opened.wal.close();
      const again = await Wal.open(DIR, { fs: image.fs.clone(), codec: jsonCodec, checkpointLsn: m.fence });
      expect(again.events).toEqual([...opened.events, -1]);
      await again.wal.close();
      usable.push({ fs: image.fs, kept });
    }
    await r.wal.close().catch(() => undefined);
    const chosen = usable[this.pick % usable.length];
    if (chosen === undefined) throw new Error("no crash image could be recovered");
    // Continue from the chosen image (which now also holds the probe transaction [-1] committed above).
    const reopened = await Wal.open(DIR, {
      fs: chosen.fs,
      codec: jsonCodec,
      syncMode: m.mode,
      blockingSync: m.blocking,
      checkpointLsn: m.fence,
      segmentTargetBytes: 300,
    });
    m.committed = [...m.committed.slice(0, chosen.kept), [-1]];
    m.durable = m.committed.length;
    m.poisoned = false;
    m.faultArmed = false;
    expect(reopened.events).toEqual(flat(m.committed.slice(m.fenced)));
    r.fs = chosen.fs;
    r.wal = reopened.wal;
  }
  toString = () => `crash(seed ${this.seed}, pick ${this.pick})`;
}

class CleanReopen implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    const wasPoisoned = m.poisoned;
    let closedCleanly = true;
    try {
      await r.wal.close();
    } catch (error) {
      closedCleanly = false;
      failedOnFault(m, error);
    }
    // The fault belonged to the old handle's life; the disk is healthy again for the reopen.
    r.fs.clearFaults();
    const { wal, events } = await Wal.open(DIR, {
      fs: r.fs,
      codec: jsonCodec,
      syncMode: m.mode,
      blockingSync: m.blocking,
      checkpointLsn: m.fence,
      segmentTargetBytes: 300,
    });
    if (m.poisoned) {
      const kept = checkRecovered(m, events, "reopen after poison");
      m.committed = m.committed.slice(0, kept);
    } else {
      expect(events).toEqual(flat(m.committed.slice(m.fenced)));
    }
    expect(closedCleanly || wasPoisoned || m.poisoned).toBe(true);
    // Open makes what it recovered durable (it rewrites and fsyncs the active segment), even after fsyncgate.
    m.durable = m.committed.length;
    m.poisoned = false;
    m.faultArmed = false;
    r.wal = wal;
  }
  toString = () => "cleanReopen";
}

const commands = [
  fc.integer({ min: 1, max: 6 }).map((n) => new CommitTx(n)),
  fc.constantFrom("commit", "abort", "open").map((e) => new LowLevelTx(e as "commit" | "abort" | "open")),
  fc.constant(new Flush()),
  fc.constant(new Sync()),
  fc.constant(new Checkpoint()),
  fc
    .constantFrom(["datasync", "EIO"], ["write", "ENOSPC"])
    .map(([op, errno]) => new InjectFault(op as "datasync", errno as "EIO")),
  fc.constant(new SecondOpen()),
  fc.tuple(fc.nat(1000), fc.nat(100)).map(([seed, pick]) => new Crash(seed, pick)),
  fc.constant(new CleanReopen()),
];

const modes: [string, SyncModeInput, boolean][] = [
  ["perCommit", "perCommit", false],
  ["perCommit + blockingSync", "perCommit", true],
  ["group", { mode: "group", intervalMs: 3_600_000 }, false],
  ["none", "none", false],
];

describe("the handle against a model, with crashes and injected failures", () => {
  for (const [name, mode, blocking] of modes) {
    it(`${name}: recovered logs are committed prefixes holding every durable commit`, async () => {
      const totals = { crashChecks: 0, loudImages: 0 };
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { size: "+1", maxCommands: 30 }), async (cmds) => {
          const fs = new SimFS();
          fs.mkdirpSync(DIR);
          const { wal } = await Wal.open(DIR, {
            fs,
            codec: jsonCodec,
            syncMode: mode,
            blockingSync: blocking,
            segmentTargetBytes: 300,
          });
          const model: Model = {
            committed: [],
            durable: 0,
            fenced: 0,
            fence: 0,
            poisoned: false,
            faultArmed: false,
            nextEvent: 0,
            mode: typeof mode === "string" ? mode : "group",
            blocking,
            crashChecks: 0,
            loudImages: 0,
          };
          const real: Real = { fs, wal };
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
          } finally {
            await real.wal.close().catch(() => undefined);
            totals.crashChecks += model.crashChecks;
            totals.loudImages += model.loudImages;
          }
        }),
        {
          numRuns: NUM_RUNS,
          ...(process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) }),
          ...(process.env.FC_PATH === undefined ? {} : { path: process.env.FC_PATH }),
        },
      );
      expect(totals.crashChecks).toBeGreaterThan(0);
    });
  }
});
