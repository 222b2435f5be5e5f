/**
 * A `followDir` whose start failed (its slot missing or invalidated, its directory missing) is over, as an async
 * generator is once it has thrown and as the follower is after any other failure (`WAL_TRUNCATED` at its first read,
 * `WAL_CORRUPT` later): the `next()` that started it rejects with the error, every later `next()` is done. It used to
 * reject every later `next()` with the same error again, so a consumer that logs a failure and calls `next()` once
 * more looped on it for ever, and one that stops on `done` never stopped; whereas the same follower failing one
 * step later (at its first read) answered done.
 *
 * And a follower whose signal aborted before its first `next()` never starts, as after `return()`: it is done
 * without reading its slot (it used to read it, and reject with `WAL_SLOT_NOT_FOUND` when the slot was gone, though
 * an aborted signal ends the iteration without an error).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import { createSlot, invalidateSlot } from "./replication-slots.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "follow-failed-start-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DONE = { value: undefined, done: true };

/** Three committed transactions, sealed: commit LSNs 3, 6 and 9. */
async function threeCommits(): Promise<void> {
  await writeSegment(dir, 1, 1, [...tx(1, [{ i: 0 }]), ...tx(4, [{ i: 1 }]), ...tx(7, [{ i: 2 }])], { sealed: true });
}

describe("followDir: after its start failed", () => {
  it("a missing slot: WAL_SLOT_NOT_FOUND once, then done", async () => {
    await threeCommits();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "gone", watch: false });
    await expect(follower.next()).rejects.toMatchObject({ code: "WAL_SLOT_NOT_FOUND" });
    expect(await follower.next()).toEqual(DONE);
    expect(await follower.next()).toEqual(DONE);
    const seen: number[] = [];
    for await (const t of follower) seen.push(t.commitLsn);
    expect(seen).toEqual([]);
    expect(await follower.return()).toEqual(DONE);
  });

  it("an invalidated slot: WAL_SLOT_INVALIDATED once, then done", async () => {
    await threeCommits();
    await createSlot(dir, "s");
    await invalidateSlot(dir, "s", { oldestRetainedLsn: 100, retainedBytes: 1, reason: "test" });
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false });
    await expect(follower.next()).rejects.toMatchObject({ code: "WAL_SLOT_INVALIDATED" });
    expect(await follower.next()).toEqual(DONE);
  });

  it("a missing directory: WAL_IO (ENOENT) once, then done", async () => {
    const follower = followDir<JsonValue>(join(dir, "nope"), { codec: jsonCodec, watch: false });
    await expect(follower.next()).rejects.toMatchObject({ code: "WAL_IO" });
    expect(await follower.next()).toEqual(DONE);
  });

  it("calls made while the start runs: the first gets the error, the others done, in call order", async () => {
    await threeCommits();
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "gone", watch: false });
    const calls = [follower.next(), follower.next(), follower.next()];
    const settled = await Promise.allSettled(calls);
    expect(settled[0]).toMatchObject({ status: "rejected", reason: { code: "WAL_SLOT_NOT_FOUND" } });
    expect(settled.slice(1)).toEqual([
      { status: "fulfilled", value: DONE },
      { status: "fulfilled", value: DONE },
    ]);
  });

  it("as after a failure at the first read (behind truncation): the error once, then done", async () => {
    // The log starts at LSN 50: a follower from 0 lacks 1..49.
    await writeSegment(dir, 5, 50, [...tx(50, [{ i: 0 }])], { sealed: true });
    const follower = followDir<JsonValue>(dir, { codec: jsonCodec, watch: false });
    await expect(follower.next()).rejects.toMatchObject({ code: "WAL_TRUNCATED" });
    expect(await follower.next()).toEqual(DONE);
  });
});

describe("followDir: a signal aborted before the first next()", () => {
  it("the follower never starts: done, also when its slot is missing (nothing is read)", async () => {
    await threeCommits();
    const stop = new AbortController();
    stop.abort();
    const missing = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "gone", watch: false, signal: stop.signal });
    expect(await missing.next()).toEqual(DONE);
    expect(await missing.next()).toEqual(DONE);
    await createSlot(dir, "s");
    const held = followDir<JsonValue>(dir, { codec: jsonCodec, slot: "s", watch: false, signal: stop.signal });
    expect(await held.next()).toEqual(DONE);
    expect(held.position).toBe(0);
  });
});
