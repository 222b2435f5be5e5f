/**
 * A `followDir` follower that syncs what it reads itself (no writer publishes durability for the active segment:
 * `none` mode, LoraDB) keeps the synced size of the sealed segments ahead of it only, never of the newest. It once
 * kept one per segment it had ever synced, for as long as it ran: a path and a number more per segment.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, expect, it, vi } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const TRANSACTIONS = 300;

afterEach(() => {
  vi.restoreAllMocks();
});

/** The largest map seen that holds numbers by segment path (the follower's synced sizes; a self-sync's own sizes). */
function largestSizesBySegment(maps: readonly unknown[]): number {
  let largest = 0;
  for (const map of new Set(maps)) {
    if (!(map instanceof Map) || map.size === 0) continue;
    const bySegment = [...map].every(([k, v]) => typeof k === "string" && k.endsWith(".wal") && typeof v === "number");
    if (bySegment) largest = Math.max(largest, map.size);
  }
  return largest;
}

it(`a follower syncing ${TRANSACTIONS} transactions itself, across rotations, keeps at most two synced sizes`, async () => {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, syncMode: "none", segmentTargetBytes: 300 });
  const set = vi.spyOn(Map.prototype, "set");
  const follower = followDir<JsonValue>(DIR, { fs, codec: jsonCodec, selfSyncAfterMs: 0 });
  for (let i = 0; i < TRANSACTIONS; i++) {
    await wal.commitTx([i]);
    expect((await follower.next()).value?.events).toEqual([i]);
  }
  const segments = (await fs.readdir(DIR)).filter((name) => name.endsWith(".wal")).length;
  expect(segments).toBeGreaterThan(50);
  expect(largestSizesBySegment(set.mock.contexts)).toBeLessThanOrEqual(2);
  await follower.return();
  await wal.close();
});

it("a follower running behind a writer that publishes no durability keeps no size per segment it passed", async () => {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, {
    fs,
    codec: jsonCodec,
    syncMode: "none",
    segmentTargetBytes: 300,
    publishDurableLsn: false,
  });
  const set = vi.spyOn(Map.prototype, "set");
  const del = vi.spyOn(Map.prototype, "delete");
  const follower = followDir<JsonValue>(DIR, { fs, codec: jsonCodec, selfSyncAfterMs: 0 });
  // The follower's own map is the one sizes are set in and deleted from (a self-sync's answer is never deleted from).
  const followerMaps = (): Map<unknown, unknown>[] => {
    const deletedFrom = new Set(del.mock.contexts);
    return [...new Set(set.mock.contexts)].filter(
      (m): m is Map<unknown, unknown> =>
        m instanceof Map &&
        deletedFrom.has(m) &&
        [...m.keys()].every((k) => typeof k === "string" && k.endsWith(".wal")),
    );
  };
  let n = 0;
  for (let round = 0; round < 20; round++) {
    // The writer runs some segments ahead, then the follower catches up: each self-sync covers segments it passes.
    for (let i = 0; i < 15; i++) await wal.commitTx([n + i]);
    for (let i = 0; i < 15; i++) expect((await follower.next()).value?.events).toEqual([n + i]);
    n += 15;
    for (const map of followerMaps()) expect(map.size).toBeLessThanOrEqual(2);
  }
  // It reads up to the newest segment before each self-sync, and keeps no size for the newest (a crashed writer's
  // torn tail there can be cut and written over unsynced): here no size is kept at all, so nothing can grow.
  expect(followerMaps().length).toBe(0);
  const segments = (await fs.readdir(DIR)).filter((name) => name.endsWith(".wal")).length;
  expect(segments).toBeGreaterThan(50);
  await follower.return();
  await wal.close();
});
