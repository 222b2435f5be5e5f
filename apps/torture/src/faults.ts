/**
 * Faults on SimFS (docs/crash-testing.md F7, F8, F10): fsync EIO with fsyncgate semantics, ENOSPC (with a short
 * write first) on every write index, a failed directory fsync during rotation; then the handle must be poisoned
 * (the failing call rejects, every later call rejects, nothing is acknowledged after the failure) and both the
 * durable image and the process-crash image must recover a consistent prefix holding every earlier
 * acknowledgement. And a second opener in this process gets `WAL_LOCKED`.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isWalError, type JsonValue, jsonCodec, Wal } from "@lora/wal";
import { type PlantedBug, withTestingHooks } from "@lora/wal/testing";
import { type SimFaultSpec, SimFS } from "@lora/wal-segment/testing";
import { checkCrashImage } from "./crash-check.js";
import { Model } from "./model.js";
import { type Budget, budgetLeft, TierResult } from "./result.js";
import { type ModeName, openOptions, VARIANTS, WAL_DIR, type Workload } from "./workloads.js";

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
}

const WAL_FILES = /\.wal$/;

export function faultCases(): FaultCase[] {
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
  return out;
}

export function faultsReplay(seed: number, index: number): string {
  return `pnpm torture -- --tier faults --seed ${seed} --case ${index}`;
}

export async function runFaults(opts: FaultsOptions): Promise<TierResult> {
  const result = new TierResult("faults");
  const start = Date.now();
  const cases = faultCases();
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
  const variant = (c.tiny ? VARIANTS[0] : VARIANTS[1]) as (typeof VARIANTS)[number];
  const w: Workload = { ops: [], mode: c.mode, variant };
  const caseId = `${index}`;
  const violation = (kind: Parameters<TierResult["add"]>[0]["kind"], message: string) =>
    result.add({
      tier: "faults",
      kind,
      caseId,
      message: `${c.mode}${c.tiny ? "/tiny-segments" : ""} ${c.name}: ${message}`,
      replay: faultsReplay(opts.seed, index),
    });
  const fs = new SimFS();
  const model = new Model(0);
  const { wal } = await Wal.open<JsonValue>(WAL_DIR, withTestingHooks(openOptions(w, fs, 0), { plantedBugs: bugs }));
  const fault = fs.injectFault(c.fault);
  let failure: unknown;
  for (let i = 0; i < 10; i++) {
    const id = `f${i}`;
    const events = [`${id}.0${c.tiny ? "~".repeat(200) : ""}`];
    const begin = wal.nextLsn();
    try {
      const info = await wal.commitTx(events);
      if (info === null) throw new Error("null commit");
      model.commit(id, info.beginLsn, info.commitLsn, events, true);
      if (fault.hits > 0) {
        violation("poison", `commit ${id} was acknowledged after the injected ${c.fault.errno} fired`);
        break;
      }
      if (c.mode === "perCommit") model.durable(info.commitLsn);
      else {
        model.written(info.commitLsn);
        if (i % 2 === 1) {
          await wal.sync();
          if (fault.hits > 0) {
            violation("poison", `sync() resolved after the injected ${c.fault.errno}`);
            break;
          }
          model.durable(info.commitLsn);
        }
      }
    } catch (e) {
      // The failed commit may or may not have landed (Jepsen "info"): if it is there it must be whole.
      if (failure === undefined) model.commit(id, begin, begin + 2, events, true);
      if (failure !== undefined && !isWalError(e, "WAL_POISONED")) {
        violation("poison", `a call after the failure rejected with ${String((e as Error).message)}, not WAL_POISONED`);
      }
      failure ??= e;
    }
  }
  if (fault.hits > 0 && failure === undefined && result.violations.length === 0) {
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
