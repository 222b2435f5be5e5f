/**
 * Faults on SimFS (docs/crash-testing.md F7, F8, F10): fsync EIO with fsyncgate semantics, ENOSPC (with a short
 * write first) on every write index, a failed directory fsync during rotation, EIO on the segment writer's
 * background fdatasync (the one it starts once half the unsynced window is written, which no commit waits for);
 * then the handle must be poisoned (the failing call rejects, every later call rejects, nothing is acknowledged
 * after the failure) and both the durable image and the process-crash image must recover a consistent prefix
 * holding every earlier acknowledgement. And a second opener in this process gets `WAL_LOCKED`.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { type PlantedBug, withTestingHooks } from "@lora/wal/testing";
import { type SimFaultHandle, type SimFaultSpec, SimFS } from "@lora/wal-segment/testing";
import { checkCrashImage } from "./crash-check.js";
import { Model } from "./model.js";
import { between, mix, rng } from "./prng.js";
import { type Budget, budgetLeft, TierResult } from "./result.js";
import { type ModeName, openOptions, VARIANTS, type Variant, WAL_DIR, type Workload } from "./workloads.js";

export interface FaultsOptions {
  readonly seed: number;
  readonly budget: Budget;
  readonly bugs?: readonly PlantedBug[];
  readonly stopOnFirst?: boolean;
  readonly cases?: readonly number[];
}

interface FaultCase {
  readonly name: string;
  readonly mode: ModeName;
  readonly tiny: boolean;
  readonly fault: SimFaultSpec;
  /** A background-sync case: the fault is injected just before one commit, not at open (see `backgroundCases`). */
  readonly background?: BackgroundSync;
}

/**
 * How a background-sync case makes the writer's background fdatasync the one that fails: a small unsynced window,
 * every commit's write more than half of it (so each write starts a background sync at once, before any sync
 * round of the commit), and the fault injected just before commit `atCommit`, to fail the next fdatasync: the
 * background one its write starts.
 */
interface BackgroundSync {
  /** `unsyncedWindowBytes` of the handle (its smallest value). */
  readonly windowBytes: number;
  /** Characters of each commit's one event: between half the window and the window, with the records' framing. */
  readonly payloadChars: number;
  /** The commit (0-based, of 10) before which the fault is injected: earlier ones are acknowledged first. */
  readonly atCommit: number;
  /** `blockingSync: true`: rounds would run on the event loop's thread, if no fdatasync were in flight. */
  readonly blocking: boolean;
}

const WAL_FILES = /\.wal$/;

/** The smallest unsynced window a handle accepts: a commit of a few KiB is then more than half of it. */
const SMALL_WINDOW = 4096;

/** One segment, so no rotation's seal syncs before the commit's write; non-blocking or blocking rounds. */
const ONE_SEGMENT = VARIANTS[1] as Variant;
const ONE_SEGMENT_BLOCKING: Variant = { ...ONE_SEGMENT, name: "one-segment/blocking-sync", blockingSync: true };

/**
 * The fault cases for `seed`: a fixed list (its length does not depend on the seed); only the background-sync
 * cases' payload size and the commit that meets the fault come from the seed.
 */
export function faultCases(seed: number): FaultCase[] {
  const out: FaultCase[] = [];
  for (const mode of ["perCommit", "group", "none"] as const) {
    for (const tiny of [false, true]) {
      for (let skip = 0; skip < 6; skip++) {
        for (const persistent of [false, true]) {
          out.push({
            name: `fdatasync EIO #${skip + 1}${persistent ? " persistent" : ""}`,
            mode,
            tiny,
            fault: { op: "datasync", path: WAL_FILES, skip, errno: "EIO", persistent },
          });
        }
        for (const partialBytes of [0, 9, 60]) {
          out.push({
            name: `write ENOSPC #${skip + 1} after ${partialBytes} bytes`,
            mode,
            tiny,
            fault: { op: "write", path: WAL_FILES, skip: skip + 1, errno: "ENOSPC", partialBytes },
          });
        }
      }
      if (tiny) {
        for (let skip = 1; skip < 4; skip++) {
          out.push({
            name: `directory fsync EIO #${skip + 1}`,
            mode,
            tiny,
            fault: { op: "syncDir", skip, errno: "EIO" },
          });
        }
      }
    }
  }
  out.push(...backgroundCases(seed, out.length));
  return out;
}

/**
 * EIO on the writer's background fdatasync, once and persistent, in the three modes, with thread-pool and blocking
 * rounds: the fsyncgate case where a commit round's fdatasync beside the failing background one would succeed and
 * acknowledge bytes no crash image holds. 12 cases; `first` is the index of the first.
 */
function backgroundCases(seed: number, first: number): FaultCase[] {
  const out: FaultCase[] = [];
  for (const mode of ["perCommit", "group", "none"] as const) {
    for (const blocking of [false, true]) {
      for (const persistent of [false, true]) {
        const next = rng(mix(seed, first + out.length));
        const framing = 200;
        const background: BackgroundSync = {
          windowBytes: SMALL_WINDOW,
          payloadChars: between(next, SMALL_WINDOW / 2 + framing, SMALL_WINDOW - 2 * framing),
          atCommit: between(next, 1, 8),
          blocking,
        };
        out.push({
          name: `background fdatasync EIO at commit ${background.atCommit + 1}${persistent ? " persistent" : ""}`,
          mode,
          tiny: false,
          fault: { op: "datasync", path: WAL_FILES, errno: "EIO", persistent },
          background,
        });
      }
    }
  }
  return out;
}

export function faultsReplay(seed: number, index: number): string {
  return `pnpm torture -- --tier faults --seed ${seed} --case ${index}`;
}

export async function runFaults(opts: FaultsOptions): Promise<TierResult> {
  const result = new TierResult("faults");
  const start = Date.now();
  const cases = faultCases(opts.seed);
  const indices = opts.cases ?? cases.map((_, i) => i);
  for (const i of indices) {
    if (!budgetLeft(opts.budget, result.cases)) break;
    const c = cases[i];
    if (c === undefined) continue;
    await runFaultCase(i, c, opts, result);
    result.cases++;
    if (opts.stopOnFirst === true && result.violations.length > 0) break;
  }
  if (opts.cases === undefined && budgetLeft(opts.budget, 0)) await checkInProcessLocks(opts, result);
  result.ms = Date.now() - start;
  return result;
}

async function runFaultCase(index: number, c: FaultCase, opts: FaultsOptions, result: TierResult): Promise<void> {
  const bugs = opts.bugs ?? [];
  const bg = c.background;
  const variant =
    bg === undefined
      ? ((c.tiny ? VARIANTS[0] : VARIANTS[1]) as Variant)
      : bg.blocking
        ? ONE_SEGMENT_BLOCKING
        : ONE_SEGMENT;
  const w: Workload = { ops: [], mode: c.mode, variant };
  const caseId = `${index}`;
  const where = bg === undefined ? (c.tiny ? "/tiny-segments" : "") : `/${variant.name}`;
  const violation = (kind: Parameters<TierResult["add"]>[0]["kind"], message: string) =>
    result.add({
      tier: "faults",
      kind,
      caseId,
      message: `${c.mode}${where} ${c.name}: ${message}`,
      replay: faultsReplay(opts.seed, index),
    });
  const fs = new SimFS();
  const model = new Model(0);
  const options = openOptions(w, fs, 0);
  const { wal } = await Wal.open<JsonValue>(
    WAL_DIR,
    withTestingHooks(bg === undefined ? options : { ...options, unsyncedWindowBytes: bg.windowBytes }, {
      plantedBugs: bugs,
    }),
  );
  const seen = watchFailedSync(fs);
  let fault = bg === undefined ? fs.injectFault(c.fault) : undefined;
  let failure: unknown;
  for (let i = 0; i < 10; i++) {
    const id = `f${i}`;
    if (bg !== undefined && i === bg.atCommit) {
      // Once every sync of the earlier commits has settled (a background one still settling would keep this
      // commit's write from starting another), so that the next fdatasync is the one this write starts.
      await new Promise((resolve) => setImmediate(resolve));
      fault = fs.injectFault(c.fault);
    }
    const pad = bg === undefined ? (c.tiny ? "~".repeat(200) : "") : "~".repeat(bg.payloadChars);
    const events = [`${id}.0${pad}`];
    const begin = wal.nextLsn();
    const firedBefore = fired(fault);
    const committing = wal.commitTx(events);
    // Group and none modes, at the background fault: sync() in the same turn as the commit, so that its round runs
    // while the background sync the commit's write starts is in flight (it must not resolve: that sync failed).
    const syncing = bg !== undefined && c.mode !== "perCommit" && i === bg.atCommit ? outcomeOf(wal.sync()) : undefined;
    let acknowledged = false;
    try {
      const info = await committing;
      if (info === null) throw new Error("null commit");
      acknowledged = true;
      model.commit(id, info.beginLsn, info.commitLsn, events, true);
      // What the acknowledgement claims is recorded first: if it came after the fault, the crash images judge it too.
      if (c.mode === "perCommit") model.durable(info.commitLsn);
      else model.written(info.commitLsn);
      // In group and none modes the commit is acknowledged once written, and it was: the background sync its write
      // started may fail meanwhile (the writer learns of it when the sync settles, as with a real fdatasync on the
      // thread pool). That failure must fail the next call instead. Any other fault fired before this
      // acknowledgement poisons it.
      const writtenBesideBackground = c.mode !== "perCommit" && !firedBefore && seen.firstFailed === "background";
      if (fired(fault) && !writtenBesideBackground) {
        violation("poison", `commit ${id} was acknowledged after the injected ${c.fault.errno} fired`);
        break;
      }
      if (c.mode !== "perCommit" && (i % 2 === 1 || syncing !== undefined)) {
        if (syncing === undefined) await wal.sync();
        else {
          const outcome = await syncing;
          if (!outcome.resolved) throw outcome.error;
        }
        model.durable(info.commitLsn);
        if (fired(fault)) {
          violation("poison", `sync() resolved after the injected ${c.fault.errno}`);
          break;
        }
      }
    } catch (e) {
      // The failed commit may or may not have landed (Jepsen "info"): if it is there it must be whole.
      if (failure === undefined && !acknowledged) model.commit(id, begin, begin + 2, events, true);
      if (failure !== undefined && !isWalError(e, "WAL_POISONED")) {
        violation("poison", `a call after the failure rejected with ${String((e as Error).message)}, not WAL_POISONED`);
      }
      failure ??= e;
      if (syncing !== undefined && (await syncing).resolved) {
        violation("poison", `sync() resolved though the commit beside it failed with ${(e as Error).message}`);
        break;
      }
    }
  }
  if (fired(fault) && failure === undefined && result.violations.length === 0) {
    violation("poison", `the injected ${c.fault.errno} fired but no call failed`);
  }
  if (failure !== undefined) {
    for (const [what, call] of [
      ["flush", () => wal.flush()],
      ["begin", () => wal.begin()],
    ] as const) {
      try {
        await call();
        violation("poison", `${what}() succeeded on a poisoned handle`);
      } catch (e) {
        if (!isWalError(e, "WAL_POISONED")) violation("poison", `${what}() rejected with ${(e as Error).message}`);
      }
    }
  }
  await wal.close().catch(() => undefined);
  seen.stop();
  if (seen.firstFailed === "background") result.bump("backgroundSyncFaults");
  fs.clearFaults();

  const [drop, keep] = [...fs.crashImages({ maxImages: 2, seed: opts.seed })];
  for (const image of [drop, keep]) {
    if (image === undefined) continue;
    // A process crash keeps what was written, but not after a failed fdatasync: the kernel may have dropped the
    // failed pages (fsyncgate; SimFS drops them), so commits acknowledged only as written are no longer owed. The
    // durable ones still are. (Exposed once the directory held another unsynced file, the durable mark, so that a
    // "keep all" image existed in these cases at all.)
    const processCrash = image.description.startsWith("[keep all]") && failure === undefined;
    const v = await checkCrashImage(
      w,
      image.fs,
      image.description,
      model.expectation(model.snapshot(), processCrash),
      bugs,
    );
    result.crashStates++;
    result.ackedChecked += v.required;
    for (const f of v.findings)
      violation(f.kind, `after the fault, image "${image.description.slice(0, 160)}": ${f.message}`);
  }
}

/** How `call` settled, kept to be judged later (and no unhandled rejection meanwhile). */
function outcomeOf(call: Promise<void>): Promise<{ readonly resolved: boolean; readonly error?: unknown }> {
  return call.then(
    () => ({ resolved: true }),
    (error: unknown) => ({ resolved: false, error }),
  );
}

function fired(fault: SimFaultHandle | undefined): boolean {
  return fault !== undefined && fault.hits > 0;
}

/**
 * Which fdatasync or fsync of a segment failed first: the writer's background sync or another. Told by the call
 * stack of the failing call: the writer starts its background sync synchronously, from `#syncInBackgroundIfHalfFull`
 * right after the write that used half the window, when no other flush is in flight (one that waited for another
 * would show no such frame, and is counted as not background: the count is a lower bound).
 */
function watchFailedSync(fs: SimFS): { readonly firstFailed: "background" | "other" | undefined; stop(): void } {
  const seen: { firstFailed: "background" | "other" | undefined; stop(): void } = {
    firstFailed: undefined,
    stop: () => undefined,
  };
  seen.stop = fs.onOperation((e) => {
    if (!e.failed || (e.op !== "datasync" && e.op !== "sync") || seen.firstFailed !== undefined) return;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = new Error("where").stack ?? "";
    Error.stackTraceLimit = limit;
    seen.firstFailed = stack.includes("syncInBackgroundIfHalfFull") ? "background" : "other";
  });
  return seen;
}

async function checkInProcessLocks(opts: FaultsOptions, result: TierResult): Promise<void> {
  const add = (message: string) =>
    result.add({
      tier: "faults",
      kind: "lock",
      caseId: "lock",
      message,
      replay: `pnpm torture -- --tier faults --seed ${opts.seed}`,
    });
  const fs = new SimFS();
  const first = await Wal.open(WAL_DIR, { fs, codec: jsonCodec });
  try {
    const second = await Wal.open(WAL_DIR, { fs, codec: jsonCodec });
    await second.wal.close();
    add("a second in-process opener on SimFS was not refused");
  } catch (e) {
    if (!isWalError(e, "WAL_LOCKED")) add(`a second in-process opener on SimFS failed with ${(e as Error).message}`);
  }
  await first.wal.close();
  const dir = await mkdtemp(join(tmpdir(), "lora-torture-lock-"));
  try {
    const a = await Wal.open(dir, { codec: jsonCodec });
    try {
      const b = await Wal.open(dir, { codec: jsonCodec, lockRetryMs: 20 });
      await b.wal.close();
      add("a second in-process opener on the real file system was not refused");
    } catch (e) {
      if (!isWalError(e, "WAL_LOCKED")) add(`a second in-process opener failed with ${(e as Error).message}`);
    }
    await a.wal.close();
    const c = await Wal.open(dir, { codec: jsonCodec });
    await c.wal.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  result.cases += 2;
  result.bump("lockChecks", 2);
}
