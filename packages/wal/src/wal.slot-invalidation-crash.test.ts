/**
 * A truncation that invalidates a replication slot held back past `maxSlotRetainedBytes` writes the slot's marker,
 * then deletes segments. A crash at any step of it (a state no crash test covered before: the torture tiers and the
 * slot tests crash truncation without an invalidation, and the invalidation without a truncation after it) leaves a
 * log that opens in the default mode with every acknowledged commit, a slot that stayed within the limit still able
 * to read everything after its position, and the far slot either valid with every record it needs still there or
 * invalidated: never valid with its records gone.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createSlot, listSlots, readCommitted } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
/** Crash images taken at each file operation of the truncation (seeded: the same ones every run). */
const IMAGES_PER_STEP = 12;

/** The events of every transaction committed after `after`, read from `restartLsn` on as a follower would. */
async function committedAfter(fs: SimFS, after: number, restartLsn: number): Promise<JsonValue[]> {
  const events: JsonValue[] = [];
  for await (const tx of readCommitted<JsonValue>(DIR, { fs, codec: jsonCodec, after, restartLsn })) {
    events.push(...tx.events);
  }
  return events;
}

it("a crash at any step of a truncation that invalidates a slot: the log opens, no slot is valid without its records", async () => {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, {
    fs,
    codec: jsonCodec,
    segmentTargetBytes: 64,
    maxSlotRetainedBytes: 300,
  });
  // "far" needs the whole log; "near" is created after the 7th commit, so it keeps less than the limit.
  await createSlot(DIR, "far", { fs, confirmedLsn: 0 });
  const commits: { event: string; commitLsn: number }[] = [];
  for (let i = 0; i < 10; i++) {
    const event = `e${i}`;
    const info = await wal.commitTx([event]);
    commits.push({ event, commitLsn: (info as { commitLsn: number }).commitLsn });
    if (i === 6) await createSlot(DIR, "near", { fs, confirmedLsn: info?.commitLsn ?? 0 });
  }
  const fence = (commits[8] as { commitLsn: number }).commitLsn;
  const before = (await wal.segments()).length;

  const images: { at: string; fs: SimFS }[] = [];
  const off = fs.onOperation((e) => {
    for (const image of fs.crashImages({ maxImages: IMAGES_PER_STEP, seed: e.seq })) {
      images.push({ at: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs });
    }
  });
  const removed = await wal.truncateUpTo(fence);
  off();
  await wal.close();
  expect(removed).toBeGreaterThan(0);
  expect(removed).toBeLessThan(before);
  // Once it resolved, the far slot is invalidated for good.
  const durable = await listSlots(DIR, { fs: fs.durableImage() });
  expect(durable.find((s) => s.name === "far")?.invalidated).not.toBeNull();

  const nearLsn = (commits[6] as { commitLsn: number }).commitLsn;
  const afterNear = commits.slice(7).map((c) => c.event);
  let farValid = 0;
  let farInvalidated = 0;
  for (const { at, fs: image } of images) {
    // The default mode at the fence the truncation used: exactly the commits above it, all acknowledged.
    const { wal: reopened, events } = await Wal.open<JsonValue>(DIR, {
      fs: image,
      codec: jsonCodec,
      checkpointLsn: fence,
    });
    expect(events, at).toEqual(commits.slice(9).map((c) => c.event));
    await reopened.commitTx(["after"]);
    await reopened.close();

    const slots = await listSlots(DIR, { fs: image });
    expect(
      slots.map((s) => s.name),
      at,
    ).toEqual(["far", "near"]);
    const near = slots[1];
    expect(near?.invalidated, at).toBeNull();
    expect(await committedAfter(image, nearLsn, near?.restartLsn ?? 0), at).toEqual([...afterNear, "after"]);
    const far = slots[0];
    if (far?.invalidated === null) {
      farValid++;
      // Valid: its consumer still reads every transaction after its position.
      expect(await committedAfter(image, far.confirmedLsn, far.restartLsn), at).toEqual([
        ...commits.map((c) => c.event),
        "after",
      ]);
    } else farInvalidated++;
  }
  // Both sides of the marker were reached.
  expect(farValid).toBeGreaterThan(0);
  expect(farInvalidated).toBeGreaterThan(0);
  expect(images.length).toBeGreaterThan(20);
});
