/**
 * A `durable` in-process follower reading the segment file delivers only what an fdatasync covers, though the file
 * already holds more: the handle's written-but-unsynced records (`group` and `none` mode, or a buffered spill) are
 * in the file and a power loss can still take them back.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { InProcessFeed } from "./in-process-follow.js";
import { Wal } from "./wal.js";

/** Yield (bounded by count) until `cond` holds; false if it never did. */
async function turnsUntil(cond: () => boolean): Promise<boolean> {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  return cond();
}

describe("a durable in-process follower reading the file", () => {
  // The follower's one-second fallback look never fires: it looks again only when the feed wakes it.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("delivers nothing above the synced LSN, and each commit once the synced LSN reaches it", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
    await wal.commitTx(["a"]); // LSNs 1-3
    await wal.commitTx(["b"]); // LSNs 4-6
    await wal.close();
    // The file holds both commits; as far as this feed knows, none of it is synced yet.
    const progress = { syncedLsn: 0, writtenLsn: 6 };
    const feed = new InProcessFeed<JsonValue>("/w", fs, jsonCodec, progress, () => 6, 7);
    const follower = feed.follow({});
    let settled = false;
    const first = follower.next().finally(() => {
      settled = true;
    });
    expect(await turnsUntil(() => settled || feed.waiting === 1)).toBe(true);
    expect(settled).toBe(false);
    progress.syncedLsn = 3;
    feed.wake();
    await expect(first).resolves.toMatchObject({ done: false, value: { commitLsn: 3, events: ["a"] } });
    settled = false;
    const second = follower.next().finally(() => {
      settled = true;
    });
    expect(await turnsUntil(() => settled || feed.waiting === 1)).toBe(true);
    expect(settled).toBe(false);
    progress.syncedLsn = 6;
    feed.wake();
    await expect(second).resolves.toMatchObject({ done: false, value: { commitLsn: 6, events: ["b"] } });
    feed.end();
    await expect(follower.next()).resolves.toMatchObject({ done: true });
  });
});
