/**
 * `retain` is effective at once, also while a truncation is running: a hold registered while truncation reads the
 * directory, or between two of its deletions, keeps every segment holding a record above its position. A hold its
 * holder registers again on hearing it was dropped past `maxSlotRetainedBytes` does not stop that truncation.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

type Hook = (path: string) => void;

/** Six small segments over a seam that calls `hooks.stat` / `hooks.unlink` as truncation stats or unlinks. */
async function sixSegments(maxSlotRetainedBytes?: number) {
  const sim = new SimFS();
  const hooks: { stat?: Hook; unlink?: Hook } = {};
  const fs = wrapFileSystem(sim, (f) => f, {
    stat: async (path: string) => {
      hooks.stat?.(path);
      return sim.stat(path);
    },
    unlink: async (path: string) => {
      hooks.unlink?.(path);
      return sim.unlink(path);
    },
  });
  const { wal } = await Wal.open<JsonValue>("/w", {
    fs,
    codec: jsonCodec,
    segmentTargetBytes: 64,
    ...(maxSlotRetainedBytes === undefined ? {} : { maxSlotRetainedBytes }),
  });
  for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
  const ids = async () => (await wal.segments()).map((s) => s.id);
  return { wal, ids, hooks };
}

describe("a hold registered while truncation runs", () => {
  it("registered while truncation reads the slots: nothing it needs is deleted", async () => {
    const { wal, ids, hooks } = await sixSegments();
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
    let registered = 0;
    hooks.stat = (path) => {
      if (!path.endsWith("slots") || registered > 0) return;
      registered++;
      wal.retain("late", () => 0); // every record is above 0: every segment is held
    };
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
    expect(registered).toBe(1);
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
    await wal.commitTx(["after"]); // refused nothing, poisoned nothing
    await wal.close();
  });

  it("registered between two deletions: the deletion stops before the first segment it needs", async () => {
    const { wal, ids, hooks } = await sixSegments();
    const segments = await wal.segments();
    const second = segments[1] as (typeof segments)[number];
    let unlinks = 0;
    hooks.unlink = (path) => {
      if (!path.endsWith(".wal")) return;
      unlinks++;
      // After segment 1 is gone: hold what segment 2 ends with (its last record), so segment 2 itself may go, 3 not.
      if (unlinks === 1) wal.retain("late", () => (segments[2] as (typeof segments)[number]).baseLsn - 1);
    };
    expect(second.id).toBe(2);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(2);
    expect(await ids()).toEqual([3, 4, 5, 6]);
    await wal.close();
  });

  it("registered between two deletions one record short of a segment's end: that segment is kept", async () => {
    const { wal, ids, hooks } = await sixSegments();
    const segments = await wal.segments();
    const fourth = segments[3] as (typeof segments)[number];
    let unlinks = 0;
    hooks.unlink = (path) => {
      if (!path.endsWith(".wal")) return;
      unlinks++;
      // After segment 1 is gone: hold below the last record of segment 3, which therefore must stay.
      if (unlinks === 1) wal.retain("late", () => fourth.baseLsn - 2);
    };
    expect(fourth.baseLsn - 2).toBeGreaterThanOrEqual((segments[2] as (typeof segments)[number]).baseLsn);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(2);
    expect(await ids()).toEqual([3, 4, 5, 6]);
    await wal.close();
  });

  it("released and registered again under its name while truncation plans: only the hold that was asked is dropped", async () => {
    const { wal, ids, hooks } = await sixSegments(100);
    const release = wal.retain("c", () => 0);
    const invalidated: string[] = [];
    wal.onLifecycle((event) => {
      if (event.type === "slotInvalidated") invalidated.push(event.slot);
    });
    let again = 0;
    hooks.stat = (path) => {
      if (!path.endsWith("slots") || again > 0) return;
      again++;
      release();
      wal.retain("c", () => 0); // another hold under the same name, registered after the plan asked the first
    };
    // The plan drops the first "c" (past the limit); the one registered since is not it, and it needs every segment.
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
    expect(again).toBe(1);
    expect(invalidated).toEqual([]);
    expect(await ids()).toEqual([1, 2, 3, 4, 5, 6]);
    // The next truncation asks the new hold, and drops it past the limit.
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(4);
    expect(invalidated).toEqual(["c"]);
    await wal.close();
  });

  it("registered again by its holder on hearing it was dropped past the limit: the truncation still deletes", async () => {
    const { wal } = await Wal.open<JsonValue>("/w", {
      fs: new SimFS(),
      codec: jsonCodec,
      segmentTargetBytes: 64,
      maxSlotRetainedBytes: 100,
    });
    for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
    wal.retain("c", () => 0);
    let dropped = 0;
    wal.onLifecycle((event) => {
      if (event.type !== "slotInvalidated" || event.slot !== "c") return;
      dropped++;
      wal.retain("c", () => 0); // the obvious reaction; it must not keep the log past the limit
    });
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(4);
    expect(dropped).toBe(1);
    await wal.close();
  });
});
