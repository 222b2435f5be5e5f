/**
 * Truncation reads before it deletes: the segments' headers and the replication slots' files. A failure there (a
 * slot file another process left damaged, a read error) has changed nothing, so `truncateUpTo` rejects with it,
 * deletes nothing, and the handle stays usable: only a failed deletion or invalidation (a write) poisons. It used to
 * poison the handle, so a damaged slot file turned every later commit into `WAL_POISONED` (and every checkpoint
 * after a reopen poisoned it again).
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createSlot, dropSlot } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const SLOT_FILE = "/w/slots/reader.slot";

/** A log of six segments (every commitTx rotates) with a slot `reader` at LSN 0. */
async function sixSegments() {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, segmentTargetBytes: 64 });
  for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
  await createSlot("/w", "reader", { fs });
  const ids = async () => (await wal.segments()).map((s) => s.id);
  expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
  return { fs, wal, ids };
}

/** `wal` is not poisoned and takes commits. */
async function stillUsable(wal: Wal<JsonValue>): Promise<void> {
  expect(wal.failure()).toBeNull();
  const next = wal.nextLsn();
  expect(await wal.commitTx(["after"])).toEqual({ beginLsn: next, commitLsn: next + 2 });
}

describe("a truncation that fails before deleting anything", () => {
  it("a damaged slot file: WAL_CORRUPT naming it, nothing deleted, the handle usable", async () => {
    const { fs, wal, ids } = await sixSegments();
    const good = fs.readFileSync(SLOT_FILE);
    fs.writeFileSync(SLOT_FILE, new Uint8Array([1, 2, 3]));
    await expect(wal.truncateUpTo(wal.safeCheckpointLsn())).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      message: expect.stringContaining(SLOT_FILE),
    });
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
    await stillUsable(wal);
    // Repaired, the slot holds everything from LSN 0 and truncation goes on: nothing to delete past it.
    fs.writeFileSync(SLOT_FILE, good);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
    await wal.close();
  });

  it("a segment header that cannot be read: WAL_IO, nothing deleted, the handle usable", async () => {
    const { fs, wal, ids } = await sixSegments();
    const fault = fs.injectFault({ op: "read", path: "/w/0000000002.wal", errno: "EIO" });
    await expect(wal.truncateUpTo(wal.safeCheckpointLsn())).rejects.toMatchObject({
      code: "WAL_IO",
      details: { errno: "EIO", path: "/w/0000000002.wal" },
    });
    expect(fault.hits).toBe(1);
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
    await stillUsable(wal);
    await wal.close();
  });

  it("checkpoint: the marker stands, nothing is deleted, the handle usable, and truncateUpTo finishes later", async () => {
    const { fs, wal, ids } = await sixSegments();
    const good = fs.readFileSync(SLOT_FILE);
    fs.writeFileSync(SLOT_FILE, new Uint8Array([1, 2, 3]));
    const snapshot = wal.safeCheckpointLsn();
    const markerLsn = wal.nextLsn();
    await expect(wal.checkpoint(snapshot)).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(wal.durableLsn()).toBe(markerLsn); // the marker was made durable before the truncation read the slot
    await expect(wal.checkpointMarker(snapshot - 1)).rejects.toMatchObject({ code: "WAL_BAD_CHECKPOINT" });
    await stillUsable(wal);
    // Repaired and dropped (the slot held everything): the truncation the checkpoint meant now deletes.
    fs.writeFileSync(SLOT_FILE, good);
    await dropSlot("/w", "reader", { fs });
    expect(await wal.truncateUpTo(snapshot)).toBeGreaterThan(0);
    await wal.close();
  });
});

describe("a truncation whose deletion or slot invalidation fails", () => {
  // A failed deletion, directory fsync or invalidation leaves the directory in a state the handle cannot know (a
  // segment gone or not, an invalidation marker half written): it is a failed write, and poisons like one.
  it.each([
    ["a segment's deletion", { op: "unlink", path: /\.wal$/, errno: "EIO" }],
    ["the directory's fsync after a deletion", { op: "syncDir", path: "/w", errno: "EIO" }],
  ] as const)("%s: WAL_IO, and the handle is poisoned", async (_, fault) => {
    const { fs, wal } = await sixSegments();
    await dropSlot("/w", "reader", { fs });
    const injected = fs.injectFault(fault);
    await expect(wal.truncateUpTo(wal.durableLsn())).rejects.toMatchObject({ code: "WAL_IO" });
    expect(injected.hits).toBe(1);
    expect(wal.failure()).toMatchObject({ code: "WAL_IO" });
    await expect(wal.commitTx(["after"])).rejects.toMatchObject({ code: "WAL_POISONED" });
    await wal.close();
  });

  it("a slot invalidation whose marker cannot be written: WAL_IO, nothing deleted, and the handle is poisoned", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", {
      fs,
      codec: jsonCodec,
      segmentTargetBytes: 64,
      maxSlotRetainedBytes: 1,
    });
    for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
    await createSlot("/w", "reader", { fs });
    const injected = fs.injectFault({ op: "write", path: /invalidated/, errno: "EIO" });
    await expect(wal.truncateUpTo(wal.durableLsn())).rejects.toMatchObject({ code: "WAL_IO" });
    expect(injected.hits).toBe(1);
    expect((await wal.segments()).map((s) => s.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(wal.failure()).toMatchObject({ code: "WAL_IO" });
    await expect(wal.commitTx(["after"])).rejects.toMatchObject({ code: "WAL_POISONED" });
    await wal.close();
  });
});
