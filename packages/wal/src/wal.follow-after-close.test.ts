/**
 * `wal.follow()` and `close()`:
 * - on a closed handle, `follow()` is refused at once with `WAL_CLOSED`, as `onLifecycle`, `retain`, `segments` and
 *   every write are. It used to hand back a follower that read the files as they were and ended: the lock was
 *   released by then, so another writer could own the directory, and the caller's mistake went unnoticed;
 * - a follower running when `close()` is called (one waiting in `next()`, one taken while the close runs) delivers
 *   every commit the close made durable and then ends (done), without an error.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

let parent: string;
let dir: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), "wal-follow-close-"));
  dir = join(parent, "wal");
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

async function commitsOf(it: AsyncIterable<{ commitLsn: number }>): Promise<number[]> {
  const seen: number[] = [];
  for await (const t of it) seen.push(t.commitLsn);
  return seen;
}

describe("wal.follow on a closed handle", () => {
  it("is refused at once with WAL_CLOSED, naming the directory", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    await wal.commitTx([{ a: 1 }]);
    await wal.close();
    expect(() => wal.follow()).toThrow(
      expect.objectContaining({ code: "WAL_CLOSED", details: expect.objectContaining({ path: dir }) }),
    );
    expect(() => wal.follow({ after: 0, durability: "written" })).toThrow(
      expect.objectContaining({ code: "WAL_CLOSED" }),
    );
  });

  it("is refused also when the close failed (a poisoned close): the handle is over all the same", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, syncMode: "none" });
    await wal.commitTx([{ a: 1 }]);
    fs.injectFault({ op: "datasync", errno: "EIO" });
    await expect(wal.close()).rejects.toMatchObject({ code: "WAL_IO" });
    expect(() => wal.follow()).toThrow(expect.objectContaining({ code: "WAL_CLOSED" }));
  });
});

describe("wal.follow on a poisoned handle that is not closed yet", () => {
  it("is accepted, as the handle's other readers are: it delivers what was fsynced, then done", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, syncMode: "none" });
    const durable = await wal.commitTx([{ a: 1 }]);
    await wal.sync();
    await wal.commitTx([{ a: 2 }]);
    fs.injectFault({ op: "datasync", errno: "EIO" });
    await expect(wal.sync()).rejects.toMatchObject({ code: "WAL_IO" });
    expect(wal.failure()).not.toBeNull();
    expect(await commitsOf(wal.follow())).toEqual([durable?.commitLsn]);
    await wal.close().catch(() => undefined);
  });
});

describe("a follower running when close() is called", () => {
  it("one waiting in next() gets what the close made durable, then done", async () => {
    // `none` mode: nothing is fsynced before the close, so only the close's own flush can deliver these.
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, syncMode: "none" });
    const follower = wal.follow();
    const seen = commitsOf(follower);
    const infos = [];
    for (let i = 0; i < 3; i++) infos.push(await wal.commitTx([{ i }]));
    await wal.close();
    expect(await seen).toEqual(infos.map((info) => info?.commitLsn));
    expect(await follower.next()).toEqual({ value: undefined, done: true });
  });

  it("one taken while close() runs is accepted, gets what the close made durable, then done", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, syncMode: "none" });
    const info = await wal.commitTx([{ a: 1 }]);
    const closing = wal.close();
    const follower = wal.follow();
    await closing;
    expect(await commitsOf(follower)).toEqual([info?.commitLsn]);
  });

  it("one taken before close() and first iterated after it gets what was durable, then done", async () => {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    const info = await wal.commitTx([{ a: 1 }]);
    const follower = wal.follow();
    await wal.close();
    expect(await commitsOf(follower)).toEqual([info?.commitLsn]);
  });
});
