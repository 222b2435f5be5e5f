/**
 * Truncation makes each deletion durable before it resolves: once `truncateUpTo` has returned, a crash (which keeps
 * only what was fsynced, directory entries included) cannot bring a deleted segment back; and the handle's oldest
 * segment id moves to the first one kept. What was appended before it (a checkpoint marker included) is made durable
 * first, in every sync mode. A crash in the middle of it leaves the segments it had not deleted yet, never a hole.
 */

import { bytesCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const event = new Uint8Array(1000).fill(5);

it("segments truncateUpTo deleted stay deleted in the crash image taken once it resolved, and oldestSegmentId follows", async () => {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 4096 });
  while (wal.activeSegmentId() < 5) await wal.commitTx([event]);
  const segmentNames = () =>
    fs
      .durableImage()
      .listSync(DIR)
      .filter((name) => name.endsWith(".wal"));
  const before = segmentNames();
  const removed = await wal.truncateUpTo(wal.durableLsn());
  expect(removed).toBeGreaterThan(0);
  const segments = await wal.segments();
  const kept = segments.map((s) => s.path.slice(DIR.length + 1));
  expect(segmentNames()).toEqual(kept);
  expect(wal.oldestSegmentId()).toBe(segments[0]?.id);
  expect(before.length - segmentNames().length).toBe(removed);
  await wal.close();
});

it("what was appended before truncateUpTo, its checkpoint marker included, is durable once it resolves (none mode)", async () => {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 4096, syncMode: "none" });
  let fence = 0;
  while (wal.activeSegmentId() < 5) fence = (await wal.commitTx([event]))?.commitLsn ?? fence;
  const marker = await wal.checkpointMarker(fence);
  expect(wal.fsyncedLsn()).toBeLessThan(marker);
  expect(await wal.truncateUpTo(fence)).toBeGreaterThan(0);
  expect(wal.fsyncedLsn()).toBe(marker);
  const crashed = await Wal.open(DIR, { fs: fs.durableImage(), codec: bytesCodec, checkpointLsn: fence });
  expect(crashed.checkpointLsnObserved).toBe(fence);
  expect(crashed.wal.nextLsn()).toBe(marker + 1);
  await crashed.wal.close();
  await wal.close();
});

it("a reopened log of several segments reports its oldest one, and truncation moves it on from there", async () => {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  const { wal: first } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 4096 });
  while (first.activeSegmentId() < 5) await first.commitTx([event]);
  await first.close();
  const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 4096 });
  expect(wal.activeSegmentId()).toBe(5);
  expect(wal.oldestSegmentId()).toBe(1);
  const removed = await wal.truncateUpTo(wal.durableLsn());
  expect(removed).toBeGreaterThan(0);
  expect(wal.oldestSegmentId()).toBe(1 + removed);
  expect(wal.oldestSegmentId()).toBe((await wal.segments())[0]?.id);
  await wal.close();
});

it("a crash at any step of a truncation that deletes several segments leaves no hole in the middle of the log", async () => {
  // The directory is fsynced after each deletion, oldest first: with one fsync after them all, a power loss could keep
  // a later deletion without an earlier one, and a segment left between two gaps makes every open below the fence (a
  // reader without it, `allowTruncatedHistory`, `lora-wal verify`) refuse the log as corrupt.
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 4096 });
  while (wal.activeSegmentId() < 7) await wal.commitTx([event]);
  const fence = wal.durableLsn();
  const images: { at: string; fs: SimFS }[] = [];
  const off = fs.onOperation((e) => {
    // Every combination of the directory's unsynced entry operations (at most 2^5 here).
    for (const image of fs.crashImages({ maxImages: 1024 })) {
      images.push({ at: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs });
    }
  });
  const removed = await wal.truncateUpTo(fence);
  off();
  await wal.close();
  expect(removed).toBeGreaterThanOrEqual(3);
  for (const { at, fs: image } of images) {
    const ids = image
      .listSync(DIR)
      .filter((name) => name.endsWith(".wal"))
      .map((name) => Number.parseInt(name, 10));
    expect(ids, at).toEqual(ids.map((_, i) => (ids[0] ?? 0) + i));
    const { wal: again } = await Wal.open(DIR, { fs: image, codec: bytesCodec, allowTruncatedHistory: true });
    expect(again.nextLsn(), at).toBe(fence + 1);
    await again.close();
  }
});
