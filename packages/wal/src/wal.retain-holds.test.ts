/**
 * `retain`: an in-process hold keeps every segment holding a record above its position from truncation, at once and
 * without a file; past `maxSlotRetainedBytes` it is dropped and `slotInvalidated` names it. Argument mistakes are
 * refused with a code and register nothing.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import type { LifecycleEvent } from "./index.js";
import { Wal } from "./wal.js";

/** A log on 64-byte segments: every commitTx (3 records) rotates, so segment k holds LSNs 3k-2..3k. */
async function sixSegments(maxSlotRetainedBytes?: number) {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", {
    fs,
    codec: jsonCodec,
    segmentTargetBytes: 64,
    ...(maxSlotRetainedBytes === undefined ? {} : { maxSlotRetainedBytes }),
  });
  const events: LifecycleEvent[] = [];
  wal.onLifecycle((e) => {
    if (e.type === "slotInvalidated" || e.type === "removed") events.push(e);
  });
  for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
  return { wal, events };
}

const ids = async (wal: Wal<JsonValue>) => (await wal.segments()).map((s) => s.id);

describe("retain", () => {
  it("keeps each segment holding a record above the hold's position, read at every truncation, until released", async () => {
    const { wal } = await sixSegments();
    expect(await ids(wal)).toEqual([1, 2, 3, 4, 5, 6]);
    let position = 7; // inside segment 3
    const release = wal.retain("reader", () => position);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(2);
    expect(await ids(wal)).toEqual([3, 4, 5, 6]);
    position = 12; // the last record of segment 4
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(2);
    expect(await ids(wal)).toEqual([5, 6]);
    release();
    release(); // a second release changes nothing
    await wal.close();
  });

  it("a second hold under the same name replaces the first; releasing the first then leaves the second", async () => {
    const { wal } = await sixSegments();
    const releaseFirst = wal.retain("reader", () => 0);
    wal.retain("reader", () => 4); // inside segment 2
    releaseFirst();
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(1);
    expect(await ids(wal)).toEqual([2, 3, 4, 5, 6]);
    await wal.close();
  });

  it("past maxSlotRetainedBytes the hold is dropped, slotInvalidated names it, and truncation goes on without it", async () => {
    const { wal, events } = await sixSegments(300);
    const sizes = (await wal.segments()).map((s) => s.bytes);
    const release = wal.retain("slow", () => 0);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(4);
    const dropped = sizes.slice(0, 4).reduce((a, b) => a + b, 0);
    expect(dropped).toBeGreaterThan(300);
    expect(events.map((e) => (e.type === "removed" ? e.segments.map((s) => s.id) : e))).toEqual([
      { type: "slotInvalidated", slot: "slow", retainedBytes: dropped },
      [1, 2, 3, 4],
    ]);
    expect(await ids(wal)).toEqual([5, 6]);
    // Dropped for good: its release is harmless and later truncations do not hear of it again.
    release();
    for (let i = 0; i < 3; i++) await wal.commitTx([`f${i}`]);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(3);
    expect(events.filter((e) => e.type === "slotInvalidated")).toHaveLength(1);
    await wal.close();
  });

  it("refuses a hold without a name or a position function, and a listener that is not a function, registering nothing", async () => {
    const { wal, events } = await sixSegments();
    const position = () => 0;
    for (const [name, pos] of [
      ["", position],
      [7, position],
      ["x", 0],
      ["x", undefined],
    ] as const) {
      expect(() => wal.retain(name as string, pos as () => number)).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
      );
    }
    expect(() => wal.onLifecycle("listener" as never)).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
    );
    // Nothing was registered: truncation keeps only the active segment and the one before it.
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(4);
    expect(events.filter((e) => e.type === "slotInvalidated")).toEqual([]);
    await wal.close();
  });
});
