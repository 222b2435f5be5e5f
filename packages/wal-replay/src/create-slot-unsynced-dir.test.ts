/**
 * `createSlot` in a log whose slots directory exists but whose entry may not be on disk yet (an earlier createSlot
 * killed between its `mkdirp` and the log directory's fsync): once it has resolved, every state a power loss can
 * leave holds the slot.
 */

import { encodeSegmentHeader, segmentFileName } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { createSlot, readSlot } from "./replication-slots.js";

it("every crash image after createSlot into a slots directory made unsynced holds the slot", async () => {
  const fs = SimFS.withDir("/log");
  fs.writeFileSync(`/log/${segmentFileName(1)}`, encodeSegmentHeader({ baseLsn: 1, sealed: false }));
  await fs.mkdirp("/log/slots"); // the killed createSlot's mkdirp: in the page cache, not on disk
  await createSlot("/log", "reader", { fs });
  const lost: string[] = [];
  for (const image of fs.crashImages({ maxImages: 64, seed: 30 })) {
    const found = await readSlot("/log", "reader", { fs: image.fs }).then(
      (s) => s.name,
      () => null,
    );
    if (found !== "reader") lost.push(image.description);
  }
  expect(lost).toEqual([]);
});
