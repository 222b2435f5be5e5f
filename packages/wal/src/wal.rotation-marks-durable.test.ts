/**
 * A rotation seals the active segment, which fsyncs every record in it: from then on those records are durable, and
 * the handle says so at once (`fsyncedLsn`, the `durable` event, the durable mark), without waiting for a later sync
 * round. In `none` mode, where nothing else fsyncs before `sync()` or `close()`, the rotation is what lets followers
 * and archiving have them (docs/durability.md).
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { readDurableMark } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

it("in none mode, the commits a rotation sealed are fsynced: fsyncedLsn, `durable` and the mark cover them", async () => {
  const sim = SimFS.withDir("/w");
  // A 64-byte target: the first commit fills the segment, so the second rotates before it is appended.
  const { wal } = await Wal.open<JsonValue>("/w", {
    fs: sim,
    codec: jsonCodec,
    syncMode: "none",
    segmentTargetBytes: 64,
  });
  const durable: number[] = [];
  wal.onLifecycle((event) => {
    if (event.type === "durable") durable.push(event.lsn);
  });
  const sealedCommit = await wal.commitTx(["sealed with its segment"]);
  expect(wal.fsyncedLsn()).toBe(0);

  await wal.commitTx(["first of the next segment"]);
  expect(wal.activeSegmentId()).toBe(2);
  expect(wal.fsyncedLsn()).toBe(sealedCommit?.commitLsn);
  expect(durable).toEqual([sealedCommit?.commitLsn]);
  expect((await readDurableMark(sim, "/w"))?.durableLsn).toBe(sealedCommit?.commitLsn);
  // What the handle reports is what a power loss keeps.
  const { events } = await Wal.open<JsonValue>("/w", { fs: sim.durableImage(), codec: jsonCodec });
  expect(events).toContainEqual("sealed with its segment");
  await wal.close();
});
