/**
 * A slot dropped while truncation invalidates it: `dropSlot` removes `<name>.invalidated.*.tmp` leftovers, and so
 * could remove the temp of the marker being written, whose link then failed ENOENT; that came out of truncation as
 * WAL_IO and poisoned the handle. A slot dropped is one that holds back nothing: truncation goes on.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createSlot, dropSlot, listSlotNames } from "@lora/wal-replay";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

describe("a slot dropped while truncation invalidates it", () => {
  it("dropped between the marker's temp write and its link: the truncation deletes, the handle is not poisoned", async () => {
    const sim = new SimFS();
    let drops = 0;
    const fs = wrapFileSystem(sim, (f) => f, {
      link: async (existing: string, newPath: string) => {
        if (newPath.endsWith("/x.invalidated")) {
          drops++;
          await dropSlot("/w", "x", { fs: sim }); // removes the temp being linked
        }
        return sim.link(existing, newPath);
      },
    });
    const { wal } = await Wal.open<JsonValue>("/w", {
      fs,
      codec: jsonCodec,
      segmentTargetBytes: 64,
      maxSlotRetainedBytes: 1,
    });
    for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
    await createSlot("/w", "x", { fs }); // holds everything, over the limit: the truncation invalidates it
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
    expect(drops).toBe(1);
    expect(await listSlotNames("/w", { fs })).toEqual([]);
    expect(sim.listSync("/w/slots")).toEqual([]);
    // Not poisoned: it commits and truncates again.
    const next = wal.nextLsn();
    await wal.commitTx(["after"]);
    expect(wal.durableLsn()).toBeGreaterThanOrEqual(next);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThanOrEqual(0);
    await wal.close();
  });
});
