/**
 * `followDir` used the way a busy consumer uses it, not the way the happy path does:
 * - `return()` before the first `next()` (a shutdown that comes before the iteration starts) stops the follower: a
 *   `next()` after it is done, as after any iterator's `return()`. It used to start a follower then, which
 *   delivered every transaction after the token;
 * - `confirm()` called for each transaction without awaiting the previous one: each call, once it resolves, has the
 *   slot at its position or later. The calls used to run side by side, each reading the slot and renaming its own
 *   file over it, so an earlier position renamed last won: every call resolved, and the slot stood behind the last
 *   transaction confirmed (a resume delivered again what the consumer had confirmed);
 * - `confirm()` of a token without its restart point (a JavaScript caller's `{ commitLsn }`, or one read back from
 *   storage with `restartLsn: null`) is refused and writes nothing. It used to be taken as `commitLsn + 1`, so a
 *   transaction begun before the token and still open there was skipped on resume.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import { createSlot, readSlot } from "./replication-slots.js";
import { evenLog, writeSimLog } from "./test-support/sim-log.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "follow-misuse-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Three committed transactions, sealed (all of it durable): commit LSNs 3, 6 and 9. */
async function threeCommits(): Promise<void> {
  await writeSegment(dir, 1, 1, [...tx(1, [{ i: 0 }]), ...tx(4, [{ i: 1 }]), ...tx(7, [{ i: 2 }])], { sealed: true });
}

describe("followDir: return() before the first next()", () => {
  it("next() after it is done, and delivers nothing", async () => {
    await threeCommits();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, watch: false });
    expect(await follower.return()).toEqual({ value: undefined, done: true });
    expect(await follower.next()).toEqual({ value: undefined, done: true });
    const seen: number[] = [];
    for await (const t of follower) seen.push(t.commitLsn);
    expect(seen).toEqual([]);
    expect(follower.position).toBe(0);
  });

  it("with a slot: delivers nothing, and confirm still refuses what was not delivered", async () => {
    await threeCommits();
    await createSlot(dir, "s", { confirmedLsn: 3 });
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false });
    await follower.return();
    expect(await follower.next()).toEqual({ value: undefined, done: true });
    await expect(follower.confirm(6)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    expect((await readSlot(dir, "s")).confirmedLsn).toBe(3);
  });
});

/**
 * SimFS whose first rename into `slots/` waits: for the second one to be done, or, when none comes (the calls run one
 * at a time), for a number of event-loop turns (SimFS answers every call without the event loop, so a second call
 * running beside the first has renamed long before).
 */
class FirstSlotRenameHeld extends SimFS {
  /** Counts the renames into `slots/` once {@link arm} is called; before, none is held. */
  #renames: number | undefined;
  #secondDone: () => void = () => undefined;
  readonly #second = new Promise<void>((resolve) => {
    this.#secondDone = resolve;
  });

  arm(): void {
    this.#renames = 0;
  }

  override async rename(from: string, to: string): Promise<void> {
    if (this.#renames === undefined || !to.endsWith(".slot")) return await super.rename(from, to);
    const n = ++this.#renames;
    if (n === 1) await Promise.race([this.#second, turns(100)]);
    await super.rename(from, to);
    if (n === 2) this.#secondDone();
  }
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe("followDir: confirm() called again before the previous call resolved", () => {
  it("each call resolves with the slot at its position or later: the last one confirmed stands", async () => {
    const fs = new FirstSlotRenameHeld();
    await writeSimLog(fs, "/w", evenLog(1, 4));
    await createSlot("/w", "s", { fs });
    fs.arm();
    const follower = followDir<JsonValue>("/w", { fs, codec: jsonCodec, slot: "s", durability: "written" });
    const first = await follower.next();
    const second = await follower.next();
    expect([first.value?.commitLsn, second.value?.commitLsn]).toEqual([3, 6]);
    const confirms = [follower.confirm(first.value as never), follower.confirm(second.value as never)];
    await confirms[1];
    expect((await readSlot("/w", "s", { fs })).confirmedLsn).toBe(6);
    await confirms[0];
    expect((await readSlot("/w", "s", { fs })).confirmedLsn).toBe(6);
    await follower.return();
  });
});

describe("followDir: confirm() of a token without its restart point", () => {
  it("is refused with WAL_INVALID_ARGUMENT, and a resume still gets the transaction open at the token", async () => {
    // T1 begins at 1; T3 begins at 3 and commits at 5 while T1 is open (token {5, restart 1}); T1 commits at 6.
    await writeSegment(
      dir,
      1,
      1,
      [
        { kind: "txBegin", lsn: 1 },
        { kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: ["t1"] },
        ...tx(3, ["t3"]),
        { kind: "txCommit", lsn: 6, txBeginLsn: 1 },
      ],
      { sealed: true },
    );
    await createSlot(dir, "s");
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false });
    const first = (await follower.next()).value;
    expect([first?.beginLsn, first?.commitLsn, first?.restartLsn]).toEqual([3, 5, 1]);
    for (const token of [{ commitLsn: 5 }, { commitLsn: 5, restartLsn: null }]) {
      await expect(follower.confirm(token as never)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
    }
    expect(await readSlot(dir, "s")).toMatchObject({ confirmedLsn: 0, restartLsn: 1 });
    await follower.return();
    const resumed = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false });
    const seen: number[] = [];
    for await (const t of resumed) {
      seen.push(t.commitLsn);
      if (t.commitLsn === 6) break;
    }
    expect(seen).toEqual([5, 6]);
  });
});
