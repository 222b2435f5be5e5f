/**
 * A replication slot created while a truncation runs (by `createSlot` in this process or another) is honoured from
 * the deletion after its file appears: truncation reads `slots/` again before each deletion, and stops before the
 * first segment such a slot needs. What it cannot read keeps everything, without poisoning the handle.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createSlot, dropSlot, readSlot } from "@lora/wal-replay";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

/** Six small segments over a seam that awaits `hooks.unlink` before each unlink of a segment file. */
async function sixSegments(options: { maxSlotRetainedBytes?: number } = {}) {
  const sim = new SimFS();
  const hooks: { unlink?: (path: string) => Promise<void> } = {};
  const fs = wrapFileSystem(sim, (f) => f, {
    unlink: async (path: string) => {
      if (path.endsWith(".wal")) await hooks.unlink?.(path);
      return sim.unlink(path);
    },
  });
  const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, segmentTargetBytes: 64, ...options });
  for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
  const segments = await wal.segments();
  const ids = async () => (await wal.segments()).map((s) => s.id);
  return { sim, fs, wal, segments, ids, hooks };
}

describe("a slot created while truncation runs", () => {
  it("created during the first deletion: the segments it needs are kept", async () => {
    const { fs, wal, segments, ids, hooks } = await sixSegments();
    expect(segments.map((s) => s.id)).toEqual([1, 2, 3, 4, 5, 6]);
    const third = segments[2] as (typeof segments)[number];
    let created = 0;
    hooks.unlink = async () => {
      if (created++ > 0) return;
      // Needs segment 3 on (its restart point is segment 3's first record): 1 and 2 may go, 3 and 4 not.
      await createSlot("/w", "late", { fs, confirmedLsn: third.baseLsn - 1 });
    };
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(2);
    expect(await ids()).toEqual([3, 4, 5, 6]);
    expect((await readSlot("/w", "late", { fs })).invalidated).toBeNull();
    // The next truncation plans with the slot and keeps the same segments.
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
    await wal.close();
  });

  it("a slot at LSN 0 created during the first deletion: only that deletion completes", async () => {
    const { fs, wal, ids, hooks } = await sixSegments();
    let created = 0;
    hooks.unlink = async () => {
      if (created++ === 0) await createSlot("/w", "everything", { fs });
    };
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(1);
    expect(await ids()).toEqual([2, 3, 4, 5, 6]);
    await wal.close();
  });

  it("a damaged slot file that appears keeps everything, and the handle goes on", async () => {
    const { sim, wal, ids, hooks } = await sixSegments();
    let planted = 0;
    hooks.unlink = async () => {
      if (planted++ > 0) return;
      await sim.mkdirp("/w/slots");
      const file = await sim.open("/w/slots/broken.slot", "createExclusive");
      await file.write(new Uint8Array(36).fill(7), 0);
      await file.close();
    };
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(1);
    expect(await ids()).toEqual([2, 3, 4, 5, 6]);
    await wal.commitTx(["still taking commits"]);
    // The next truncation's plan reads the file and says what is wrong, still without poisoning.
    await expect(wal.truncateUpTo(wal.safeCheckpointLsn())).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    await wal.commitTx(["and after"]);
    await wal.close();
  });

  it("a slot created since the plan that no longer needs anything deleted holds nothing back", async () => {
    const { fs, wal, segments, ids, hooks } = await sixSegments();
    const fifth = segments[4] as (typeof segments)[number];
    let created = 0;
    hooks.unlink = async () => {
      if (created++ === 0) await createSlot("/w", "ahead", { fs, confirmedLsn: fifth.baseLsn - 1 });
    };
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(4);
    expect(await ids()).toEqual([5, 6]);
    await wal.close();
  });
});

describe("a slot dropped and created again under the same name while truncation runs", () => {
  it("a name the plan read, now needing everything: only the deletion under way completes", async () => {
    const { fs, wal, segments, ids, hooks } = await sixSegments();
    const fifth = segments[4] as (typeof segments)[number];
    await createSlot("/w", "x", { fs, confirmedLsn: fifth.baseLsn - 1 }); // needs nothing the fence deletes
    let calls = 0;
    hooks.unlink = async () => {
      if (calls++ > 0) return;
      await dropSlot("/w", "x", { fs });
      await createSlot("/w", "x", { fs }); // restart point 1: needs every segment
    };
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(1);
    expect(await ids()).toEqual([2, 3, 4, 5, 6]);
    await wal.close();
  });

  it("the consumer of a slot the plan invalidated starts again from a snapshot: what it needs is kept", async () => {
    const { fs, wal, segments, ids, hooks } = await sixSegments({ maxSlotRetainedBytes: 1 });
    await createSlot("/w", "x", { fs }); // over the limit: this truncation invalidates it
    const third = segments[2] as (typeof segments)[number];
    let calls = 0;
    hooks.unlink = async () => {
      if (calls++ > 0) return;
      expect((await readSlot("/w", "x", { fs })).invalidated).not.toBeNull();
      await dropSlot("/w", "x", { fs });
      await createSlot("/w", "x", { fs, confirmedLsn: third.baseLsn - 1 }); // needs segment 3 on
    };
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(2);
    expect(await ids()).toEqual([3, 4, 5, 6]);
    expect((await readSlot("/w", "x", { fs })).invalidated).toBeNull();
    await wal.close();
  });

  it("a slot created during the truncation, then created again lower: the lower position counts", async () => {
    const { fs, wal, segments, ids, hooks } = await sixSegments();
    const fifth = segments[4] as (typeof segments)[number];
    let calls = 0;
    hooks.unlink = async () => {
      calls++;
      if (calls === 1) await createSlot("/w", "late", { fs, confirmedLsn: fifth.baseLsn - 1 });
      if (calls === 2) {
        await dropSlot("/w", "late", { fs });
        await createSlot("/w", "late", { fs });
      }
    };
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(2);
    expect(await ids()).toEqual([3, 4, 5, 6]);
    await wal.close();
  });
});
