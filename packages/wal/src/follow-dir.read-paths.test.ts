/**
 * A `followDir` follower remembers the segments it read only until the writer's mark says they are durable. It kept
 * every path it had read until its next self-sync, and a follower of a writer that publishes its mark never needs
 * one: its set grew by a path per segment for as long as it ran, and the first self-sync (the writer restarted in
 * `none` mode, or crashed) fdatasynced every segment it had ever read that was still there.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir } from "@lora/wal-replay";
import { countingFileSystem, SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const TRANSACTIONS = 300;

it(`after reading ${TRANSACTIONS} transactions the mark made durable, a self-sync syncs only what is not`, async () => {
  const sim = SimFS.withDir(DIR);
  const first = await Wal.open<JsonValue>(DIR, { fs: sim, codec: jsonCodec, segmentTargetBytes: 300 });
  for (let i = 0; i < TRANSACTIONS; i++) await first.wal.commitTx([i]);
  await first.wal.close();
  const segments = (await sim.readdir(DIR)).filter((name) => name.endsWith(".wal")).length;
  expect(segments).toBeGreaterThan(50);

  const { fs, counts } = countingFileSystem(sim);
  const stop = new AbortController();
  const follower = followDir<JsonValue>(DIR, { fs, codec: jsonCodec, signal: stop.signal, selfSyncAfterMs: 0 });
  for (let i = 0; i < TRANSACTIONS; i++) expect((await follower.next()).value?.events).toEqual([i]);
  // Every transaction so far came with the mark's word: nothing was synced by the follower.
  expect(counts.datasyncs.size).toBe(0);

  // A writer that never publishes durability (`none` mode): the follower syncs the new transaction itself.
  const second = await Wal.open<JsonValue>(DIR, { fs: sim, codec: jsonCodec, syncMode: "none" });
  await second.wal.commitTx(["new"]);
  expect((await follower.next()).value?.events).toEqual(["new"]);
  // The segments it synced: the one holding the new transaction (and the one it came from), not all it ever read.
  expect(counts.datasyncs.size).toBeLessThanOrEqual(2);
  await follower.return();
  await second.wal.close();
});
