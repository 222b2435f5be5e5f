/**
 * `wal.segments()` beside the handle's own work: it does not take the handle exclusive, so it can list the directory
 * while a rotation has created the next segment but not yet written its header, or while truncation removes a
 * segment it listed. Neither is damage: the regression was `WAL_BAD_HEADER` and `WAL_IO` (ENOENT).
 */

import { basename } from "node:path";
import { bytesCodec } from "@lora/wal-codec";
import { isSpareSegmentName, SEGMENT_HEADER_BYTES, segmentPath } from "@lora/wal-segment";
import { interceptOpen, SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import type { SegmentInfo } from "./segment-lifecycle.js";
import { Wal } from "./wal.js";

const event = new Uint8Array(1000).fill(5);

it("does not list a segment a rotation is creating (no header yet), and lists it once it is the active one", async () => {
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  let wal: Wal<Uint8Array> | undefined;
  let during: { segments: SegmentInfo[]; size: number } | undefined;
  const fs = interceptOpen(sim, async (path, mode, open) => {
    // No spare: rotation creates the next segment itself, the path with the window.
    if (isSpareSegmentName(basename(path))) throw new Error("no spares in this test");
    const file = await open(path, mode);
    if (mode === "createExclusive" && path === segmentPath("/w", 2) && wal !== undefined) {
      // Created, header not written: what a reader beside the rotation meets.
      during = { segments: await wal.segments(), size: await file.size() };
    }
    return file;
  });
  wal = (await Wal.open("/w", { fs, codec: bytesCodec, segmentTargetBytes: 4096 })).wal;
  for (let i = 0; i < 8 && wal.activeSegmentId() === 1; i++) await wal.commitTx([event]);
  expect(wal.activeSegmentId()).toBe(2);
  expect(during?.size).toBeLessThan(SEGMENT_HEADER_BYTES);
  expect(during?.segments.map((s) => s.id)).toEqual([1]);
  expect((await wal.segments()).map((s) => s.id)).toEqual([1, 2]);
  await wal.close();
});

it("leaves out a segment truncation removed between the listing and its header read", async () => {
  const sim = new SimFS();
  sim.mkdirpSync("/w");
  let removeFirst = false;
  const fs = interceptOpen(sim, async (path, mode, open) => {
    if (removeFirst && mode === "read" && path === segmentPath("/w", 1)) {
      removeFirst = false;
      await sim.unlink(path); // as truncation does, after the listing
    }
    return open(path, mode);
  });
  const { wal } = await Wal.open("/w", { fs, codec: bytesCodec, segmentTargetBytes: 4096 });
  for (let i = 0; i < 20 && wal.activeSegmentId() < 3; i++) await wal.commitTx([event]);
  expect(wal.activeSegmentId()).toBe(3);
  removeFirst = true;
  expect((await wal.segments()).map((s) => s.id)).toEqual([2, 3]);
  await wal.close();
});
