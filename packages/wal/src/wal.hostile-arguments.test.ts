/**
 * "A caller's mistake is refused with a WalError code and changes nothing", for every argument of `Wal.open` and of
 * every handle method, over wrong values of every kind (`hostileValues`: wrong numbers and types, getters and proxy
 * traps that throw, a revoked proxy, bytes over a detached or shared buffer), on a real directory: on an open handle,
 * on one busy with commits, rotations and a checkpoint, and on a closed one. Each call is either accepted or
 * refused with a `WalError` (the same code when repeated, never a raw `TypeError` or a trap's own error); a refusal
 * leaves every file's bytes and `nextLsn` as they were; the handle commits afterwards and the log reopens with every
 * accepted transaction.
 */

import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { hostileValues, makeTempDir, seededRandom } from "@lora/test-utils";
import { bytesCodec, isWalError } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wal } from "./wal.js";
import { WAL_OPTION_NAMES } from "./wal-options.js";

type Handle = Wal<Uint8Array>;
type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

const EVENT = new Uint8Array(1500).fill(7);

/** Every handle method taking an argument, each argument on its own; `tx` is an open low-level transaction. */
const CALLS: Record<string, (wal: Handle, value: unknown, tx: number) => unknown> = {
  "commitTx(events)": (wal, v) => wal.commitTx(v as Uint8Array[]),
  "commitTx([event])": (wal, v) => wal.commitTx([v as Uint8Array]),
  "append(txBeginLsn)": (wal, v) => wal.append(v as number, EVENT),
  "append(tx, event)": (wal, v, tx) => wal.append(tx, v as Uint8Array),
  "appendBatch(txBeginLsn)": (wal, v) => wal.appendBatch(v as number, [EVENT]),
  "appendBatch(tx, events)": (wal, v, tx) => wal.appendBatch(tx, v as Uint8Array[]),
  "appendBatch(tx, [event])": (wal, v, tx) => wal.appendBatch(tx, [v as Uint8Array]),
  "commit(txBeginLsn)": (wal, v) => wal.commit(v as number),
  "abort(txBeginLsn)": (wal, v) => wal.abort(v as number),
  "checkpointMarker(snapshotLsn)": (wal, v) => wal.checkpointMarker(v as number),
  "checkpoint(snapshotLsn)": (wal, v) => wal.checkpoint(v as number),
  "whenDurable(lsn)": (wal, v) => wal.whenDurable(v as number),
  "truncateUpTo(fenceLsn)": (wal, v) => wal.truncateUpTo(v as number),
  "onLifecycle(listener)": (wal, v) => wal.onLifecycle(v as () => void),
  "retain(name)": (wal, v) => wal.retain(v as string, () => 0),
  "retain(name, position)": (wal, v) => wal.retain("hold", v as () => number),
  "follow(options)": (wal, v) => wal.follow(v as object),
  "follow({ after })": (wal, v) => wal.follow({ after: v as number }),
  "follow({ restartLsn })": (wal, v) => wal.follow({ after: 3, restartLsn: v as number }),
  "follow({ durability })": (wal, v) => wal.follow({ durability: v as "durable" }),
  "follow({ signal })": (wal, v) => wal.follow({ signal: v as AbortSignal }),
  "commitTx(events, extra)": (wal, v) => (wal.commitTx as (...a: unknown[]) => unknown)([EVENT], v),
};

/** Run `call`, awaiting what it returns, and say how it ended. */
async function outcome(call: () => unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeError(error: unknown): string {
  if (isWalError(error)) return `WalError ${error.code}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
}

/** A refusal must be a WalError; `again` (the same call repeated) must refuse with the same code. */
function expectCodedRefusal(first: Outcome, again: Outcome, label: string): void {
  if (first.ok) return;
  expect.soft(isWalError(first.error), `${label}: ${describeError(first.error)}`).toBe(true);
  expect.soft(again.ok, `${label}: accepted when repeated`).toBe(false);
  if (!again.ok) {
    expect.soft(describeError(again.error), `${label}: code when repeated`).toBe(describeError(first.error));
  }
}

/** Release what an accepted call handed back: a listener's or hold's remover, a follower. */
async function release(value: unknown): Promise<void> {
  if (typeof value === "function") (value as () => void)();
  const follower = value as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown> } | null;
  const iterate = follower?.[Symbol.asyncIterator];
  if (typeof iterate === "function") await iterate.call(follower).return?.();
}

/** Every file of the directory (the handle's spare segment, prepared in the background, aside) and its hash. */
async function dirHashes(dir: string): Promise<string> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith(".lora-wal.next-segment.")) continue;
    out.push(
      `${name} ${createHash("sha256")
        .update(await readFile(join(dir, name)))
        .digest("hex")}`,
    );
  }
  return out.join("\n");
}

/** How many events a reopen replays. */
async function committedOnReopen(dir: string): Promise<number> {
  const { wal, events } = await Wal.open<Uint8Array>(dir, { codec: bytesCodec });
  await wal.close();
  return events.length;
}

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let dir: string;
beforeEach(async () => {
  tmp = await makeTempDir("wal-hostile");
  dir = join(tmp.path, "log");
});
afterEach(async () => {
  await tmp.cleanup();
});

describe("Wal.open with a wrong argument", () => {
  it("refuses each wrong dir, each wrong options argument and each wrong option with a code, changing nothing", async () => {
    const first = await Wal.open<Uint8Array>(dir, { codec: bytesCodec });
    await first.wal.commitTx([EVENT]);
    await first.wal.close();
    let before = await dirHashes(dir);
    let opened = 0;
    const tryOpen = async (label: string, open: () => Promise<{ wal: Handle }>) => {
      const result = await outcome(open);
      if (result.ok) {
        opened++;
        await (result.value as { wal: Handle }).wal.close();
        // An open and close rewrite the durable mark; the next refusal is checked against what they left.
        before = await dirHashes(dir);
        return;
      }
      expectCodedRefusal(result, await outcome(open), label);
      expect(await dirHashes(dir), `${label}: the directory changed`).toBe(before);
    };
    for (const [label, value] of hostileValues()) {
      // A non-empty string is a path (relative to the working directory): not a wrong value.
      if (typeof value !== "string" || value === "") {
        await tryOpen(`dir ${label}`, () => Wal.open(value as string, { codec: bytesCodec }));
      }
      await tryOpen(`options ${label}`, () => Wal.open(dir, value as object));
      for (const name of WAL_OPTION_NAMES) {
        if (name === "codec") continue;
        await tryOpen(`${name}: ${label}`, () => Wal.open(dir, { codec: bytesCodec, [name]: value }));
      }
      await tryOpen(`codec: ${label}`, () => Wal.open(dir, { codec: value as typeof bytesCodec }));
      await tryOpen(`unknown option, ${label}`, () => Wal.open(dir, { codec: bytesCodec, codecs: value } as object));
    }
    expect(opened).toBeGreaterThan(0);
    expect(await committedOnReopen(dir)).toBe(1);
  });
});

/**
 * The busy state's sample: each call with `BUSY_VALUES_PER_CALL` of the wrong values, dealt in turn from a seeded
 * shuffle, so every call meets that many and every value at least two calls (22 calls x 3 = 66 of the 704 pairs,
 * each of which the open and closed states run). Each busy call waits for two commits that rotate and a checkpoint,
 * fsyncs included: all 704 took about 14 s of this file's 20.
 */
const BUSY_SEED = 20261206;
const BUSY_VALUES_PER_CALL = 3;

/** For each call, in CALLS order, the indexes into `hostileValues()` it is tried with in the busy state. */
function busySample(calls: number, values: number): number[][] {
  const next = seededRandom(BUSY_SEED);
  const order = Array.from({ length: values }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return Array.from({ length: calls }, (_, c) =>
    Array.from({ length: BUSY_VALUES_PER_CALL }, (_, k) => order[(c * BUSY_VALUES_PER_CALL + k) % values] as number),
  );
}

describe("a handle's call with a wrong argument", () => {
  /**
   * Every call with every value (busy: with its sample of them, see busySample), a low-level transaction open
   * throughout (the calls' `tx`); after each call's values, a valid commit. Returns how many events were committed.
   * Open: in `none` mode, so `flush()` puts whatever a call buffered in the file without an fsync, and a refusal's
   * bytes are compared after it.
   */
  async function sweep(wal: Handle, state: "open" | "busy"): Promise<number> {
    let committed = 0;
    const sample = busySample(Object.keys(CALLS).length, hostileValues().length);
    for (const [c, [name, call]] of Object.entries(CALLS).entries()) {
      const tx = await wal.begin();
      // The directory's hashes as the last refusal left them: a refusal changes nothing (checked), so they are the
      // next call's "before" (hashed again after anything that may write: a begin, an accepted call).
      let unchanged: string | null = null;
      const values = hostileValues();
      const tried =
        state === "busy" ? (sample[c] as number[]).map((i) => values[i] as (typeof values)[number]) : values;
      for (const [label, value] of tried) {
        const what = `${state} ${name} with ${label}`;
        await wal.flush();
        const lsnBefore = wal.nextLsn();
        const before = state === "open" ? (unchanged ?? (await dirHashes(dir))) : "";
        // Busy: commits (each past the 4 KiB segment target, so rotating), a checkpoint and its fsync in flight.
        const work =
          state === "busy"
            ? [wal.commitTx([EVENT, EVENT, EVENT]), wal.checkpoint(wal.safeCheckpointLsn()), wal.commitTx([EVENT])]
            : [];
        const result = await outcome(() => call(wal, value, tx));
        await Promise.all(work);
        committed += work.length === 0 ? 0 : 4;
        if (result.ok) {
          unchanged = null;
          await release(result.value);
          // commitTx([]) commits nothing and resolves null.
          if (name.startsWith("commitTx") && result.value !== null) committed++;
          continue;
        }
        expectCodedRefusal(result, await outcome(() => call(wal, value, tx)), what);
        // The work in flight took 3 + 3 LSNs for its transactions and 1 for the checkpoint's marker.
        expect(wal.nextLsn(), `${what}: nextLsn`).toBe(lsnBefore + (state === "busy" ? 7 : 0));
        if (state === "open") {
          await wal.flush();
          const after = await dirHashes(dir);
          expect(after, `${what}: the directory changed`).toBe(before);
          unchanged = after;
        }
      }
      await wal.abort(tx);
      await wal.commitTx([EVENT]);
      committed++;
    }
    return committed;
  }

  it("on an open handle: accepted or refused with a code, a refusal writes nothing, the handle still commits", async () => {
    const { wal } = await Wal.open<Uint8Array>(dir, { codec: bytesCodec, syncMode: "none", segmentTargetBytes: 4096 });
    const committed = await sweep(wal, "open");
    await wal.close();
    expect(await committedOnReopen(dir)).toBe(committed);
  });

  it("the busy sample tries every call with 3 values and every value with at least 2 calls", () => {
    const sample = busySample(Object.keys(CALLS).length, hostileValues().length);
    for (const values of sample) expect(new Set(values).size).toBe(BUSY_VALUES_PER_CALL);
    const uses = hostileValues().map((_, v) => sample.filter((values) => values.includes(v)).length);
    expect(Math.min(...uses)).toBeGreaterThanOrEqual(2);
  });

  it("during concurrent commits, rotations and a checkpoint: the same, and the work in flight completes", async () => {
    const { wal } = await Wal.open<Uint8Array>(dir, { codec: bytesCodec, segmentTargetBytes: 4096 });
    // The checkpoints would truncate the log; held back, the reopen below replays every transaction.
    wal.retain("whole log", () => 0);
    const rotations: number[] = [];
    wal.onLifecycle((event) => {
      if (event.type === "sealed") rotations.push(1);
    });
    const committed = await sweep(wal, "busy");
    await wal.close();
    expect(rotations.length).toBeGreaterThan(Object.keys(CALLS).length);
    expect(await committedOnReopen(dir)).toBe(committed);
  });

  it("on a closed handle: every call refused with a code (or a follower that ends), nothing written", async () => {
    const { wal } = await Wal.open<Uint8Array>(dir, { codec: bytesCodec });
    await wal.commitTx([EVENT]);
    const tx = await wal.begin();
    await wal.close();
    const before = await dirHashes(dir);
    for (const [name, call] of Object.entries(CALLS)) {
      for (const [label, value] of hostileValues()) {
        const what = `closed ${name} with ${label}`;
        const result = await outcome(() => call(wal, value, tx));
        if (result.ok) {
          expect(name, `${what}: accepted`).toMatch(/^follow/);
          await release(result.value);
        } else {
          expectCodedRefusal(result, await outcome(() => call(wal, value, tx)), what);
        }
      }
    }
    expect(await dirHashes(dir)).toBe(before);
    expect(await committedOnReopen(dir)).toBe(1);
  });
});
