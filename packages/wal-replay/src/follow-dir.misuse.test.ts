/**
 * `followDir` used the way a busy consumer uses it, not the way the happy path does:
 * - `return()` before the first `next()` (a shutdown that comes before the iteration starts) stops the follower: a
 *   `next()` after it is done, as after any iterator's `return()`. It used to start a follower then, which
 *   delivered every transaction after the token.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import { createSlot, readSlot } from "./replication-slots.js";

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
