/**
 * A resolved `close()` promises that every acknowledged commit survives a power loss. In `group` and `none` mode a
 * commit is acknowledged once written; when the handle is poisoned before an fsync covers it (a background fsync
 * failed), close cannot keep that promise: it releases the lock and rejects with `WAL_POISONED`. Where nothing
 * acknowledged is uncovered (perCommit, or nothing written since the last good fsync, or a rotation that sealed the
 * segment, fsyncing it, before it failed) a poisoned close resolves.
 */

import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { isSpareSegmentName } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

async function durableEvents(sim: SimFS): Promise<JsonValue[]> {
  const { wal, events } = await Wal.open<JsonValue>(DIR, { fs: sim.durableImage(), codec: jsonCodec });
  await wal.close();
  return events;
}

/** Wait, bounded by count, until the group flusher has poisoned the handle. */
async function untilPoisoned(wal: Wal<JsonValue>): Promise<void> {
  for (let i = 0; i < 2000 && wal.failure() === null; i++) await new Promise((r) => setTimeout(r, 1));
  expect(wal.failure()).not.toBeNull();
}

/** A group-mode handle holding one durable commit, every fdatasync from now on failing with EIO. */
async function groupWalWithFailingFsync(): Promise<{ sim: SimFS; wal: Wal<JsonValue> }> {
  const sim = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, {
    fs: sim,
    codec: jsonCodec,
    syncMode: { mode: "group", intervalMs: 5 },
  });
  await wal.commitTx(["durable"]);
  await wal.sync();
  sim.injectFault({ op: "datasync", errno: "EIO" });
  return { sim, wal };
}

/**
 * A group-mode handle whose first commit fills its segment (target 64 bytes), acknowledged once written and not
 * fsynced (no flusher round within the test), so the next commit rotates: it seals the segment and, beside the seal,
 * stamps the spare that the open made and waited for (due at once in so small a segment), then renames it.
 */
async function groupWalFullSegment(): Promise<{ sim: SimFS; wal: Wal<JsonValue> }> {
  const sim = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, {
    fs: sim,
    codec: jsonCodec,
    syncMode: { mode: "group", intervalMs: 60_000 },
    segmentTargetBytes: 64,
  });
  expect(sim.listSync(DIR).filter(isSpareSegmentName)).toHaveLength(1);
  await wal.commitTx(["acknowledged, sealed"]);
  expect(wal.fsyncedLsn()).toBeLessThan(3);
  return { sim, wal };
}

describe("close() on a poisoned handle", () => {
  it("group mode: a background fsync failed under an acknowledged commit, so close rejects WAL_POISONED and releases the lock", async () => {
    const { sim, wal } = await groupWalWithFailingFsync();
    await wal.commitTx(["acknowledged, never fsynced"]);
    await untilPoisoned(wal);
    const closed = await wal.close().catch((e: unknown) => e);
    expect(isWalError(closed, "WAL_POISONED")).toBe(true);
    expect(isWalError((closed as Error).cause, "WAL_IO")).toBe(true);
    expect((closed as { details: Record<string, unknown> }).details).toMatchObject({ syncedLsn: 3, writtenLsn: 6 });
    // Idempotent: the same answer again.
    expect(await wal.close().catch((e: unknown) => e)).toBe(closed);
    // What close could not promise is indeed not durable, and the lock is free.
    sim.clearFaults();
    expect(await durableEvents(sim)).toEqual(["durable"]);
    const again = await Wal.open<JsonValue>(DIR, { fs: sim, codec: jsonCodec });
    expect(again.events).toEqual(["durable", "acknowledged, never fsynced"]);
    await again.wal.close();
  });

  it("none mode: a failed write after acknowledged, unsynced commits makes close reject", async () => {
    const sim = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs: sim, codec: jsonCodec, syncMode: "none" });
    await wal.commitTx(["written"]);
    sim.injectFault({ op: "write", errno: "ENOSPC" });
    const failed = await wal.commitTx(["refused"]).catch((e: unknown) => e);
    expect(isWalError(failed, "WAL_IO")).toBe(true);
    const closed = await wal.close().catch((e: unknown) => e);
    expect(isWalError(closed, "WAL_POISONED")).toBe(true);
  });

  it("perCommit mode: nothing was acknowledged without its fsync, so a poisoned close resolves", async () => {
    const sim = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs: sim, codec: jsonCodec });
    await wal.commitTx(["durable"]);
    sim.injectFault({ op: "datasync", errno: "EIO" });
    expect(isWalError(await wal.commitTx(["refused"]).catch((e: unknown) => e), "WAL_IO")).toBe(true);
    await expect(wal.close()).resolves.toBeUndefined();
    sim.clearFaults();
    expect(await durableEvents(sim)).toEqual(["durable"]);
  });

  it("group mode: poisoned with every written commit already fsynced, close resolves", async () => {
    const { wal } = await groupWalWithFailingFsync();
    // A forced fsync with nothing new written fails and poisons; no acknowledged byte is left uncovered.
    expect(isWalError(await wal.sync().catch((e: unknown) => e), "WAL_IO")).toBe(true);
    await expect(wal.close()).resolves.toBeUndefined();
  });

  it("group mode: written records of an uncommitted transaction are no acknowledged commit: close resolves", async () => {
    const { sim, wal } = await groupWalWithFailingFsync();
    const tx = await wal.begin();
    // Big enough to be handed to the OS at once (the spill), though nothing commits it.
    await wal.append(tx, "x".repeat(600 * 1024));
    expect(wal.fsyncedLsn()).toBeLessThan(wal.nextLsn() - 1);
    expect(isWalError(await wal.sync().catch((e: unknown) => e), "WAL_IO")).toBe(true);
    await expect(wal.close()).resolves.toBeUndefined();
    sim.clearFaults();
    expect(await durableEvents(sim)).toEqual(["durable"]);
  });

  it("group mode: a rotation whose seal fsynced the acknowledged commit and whose directory fsync failed closes cleanly", async () => {
    const { sim, wal } = await groupWalFullSegment();
    sim.injectFault({ op: "syncDir", errno: "EIO" });
    // The segment is full: this commit seals it (fsyncing the first), renames the spare, and fails to make that
    // name durable.
    expect(isWalError(await wal.commitTx(["second"]).catch((e: unknown) => e), "WAL_IO")).toBe(true);
    expect(wal.failure()).not.toBeNull();
    // Nothing was acknowledged by the seal: the handle's fsynced LSN moves only once a rotation completes.
    expect(wal.fsyncedLsn()).toBeLessThan(3);
    await expect(wal.close()).resolves.toBeUndefined();
    sim.clearFaults();
    expect(await durableEvents(sim)).toEqual(["acknowledged, sealed"]);
  });

  it("group mode: a rotation whose seal fsynced the acknowledged commit and whose spare's stamp failed closes cleanly", async () => {
    const { sim, wal } = await groupWalFullSegment();
    sim.injectFault({ op: "write", path: /next-segment/, errno: "EIO" });
    // The seal and the spare's stamp run side by side: the seal completes, the stamp fails.
    expect(isWalError(await wal.commitTx(["second"]).catch((e: unknown) => e), "WAL_IO")).toBe(true);
    expect(wal.failure()).not.toBeNull();
    await expect(wal.close()).resolves.toBeUndefined();
    sim.clearFaults();
    expect(await durableEvents(sim)).toEqual(["acknowledged, sealed"]);
  });

  it("group mode: a rotation whose seal failed under an acknowledged commit still makes close reject", async () => {
    const { sim, wal } = await groupWalFullSegment();
    // The seal's first fdatasync, of the records: the acknowledged commit is covered by no fsync.
    sim.injectFault({ op: "datasync", errno: "EIO" });
    expect(isWalError(await wal.commitTx(["second"]).catch((e: unknown) => e), "WAL_IO")).toBe(true);
    const closed = await wal.close().catch((e: unknown) => e);
    expect(isWalError(closed, "WAL_POISONED")).toBe(true);
    expect((closed as { details: Record<string, unknown> }).details).toMatchObject({ writtenLsn: 3 });
  });
});
