/**
 * Truncation while a replication slot holds back many segments reads each segment's header once, not at every call.
 * It opened every segment in the directory at each `truncateUpTo` (and so at each `checkpoint`), with commits held
 * back meanwhile: a slot that fell n segments behind made every checkpoint open n files. Counted through the seam.
 */

import { bytesCodec } from "@lora/wal-codec";
import { createSlot } from "@lora/wal-replay";
import { parseSegmentId } from "@lora/wal-segment";
import { interceptOpen, SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import type { SegmentInfo } from "./index.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const event = new Uint8Array(1000).fill(3);

/** With `n` segments held back by a slot at 0: the segment files the second of two truncations opens. */
async function segmentsOpenedBySecondTruncation(n: number): Promise<number> {
  const sim = new SimFS();
  sim.mkdirpSync(DIR);
  let opened = 0;
  const fs = interceptOpen(sim, (path, mode, open) => {
    if (parseSegmentId(path.slice(DIR.length + 1)) !== undefined) opened++;
    return open(path, mode);
  });
  const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 4096 });
  await createSlot(DIR, "behind", { fs });
  while (wal.activeSegmentId() < n) await wal.commitTx([event]);
  expect(await wal.truncateUpTo(wal.durableLsn())).toBe(0);
  // One more rotation: the second truncation has a newly sealed segment to read as well.
  const active = wal.activeSegmentId();
  while (wal.activeSegmentId() === active) await wal.commitTx([event]);
  opened = 0;
  expect(await wal.truncateUpTo(wal.durableLsn())).toBe(0);
  const count = opened;
  // What it reads is still what the directory holds: every segment kept, none deleted under the slot.
  expect((await wal.segments()).map((s) => s.id)).toEqual(Array.from({ length: n + 1 }, (_, i) => i + 1));
  await wal.close();
  return count;
}

it("a truncation held back by a slot opens the segments sealed since the last one and the active one, not all", async () => {
  for (const n of [20, 80]) {
    // Before: every segment in the directory (n + 1) at every call.
    expect(await segmentsOpenedBySecondTruncation(n)).toBeLessThanOrEqual(2);
  }
});

it("a segment active at one truncation is reported with its final size when a later one removes it", async () => {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 4096 });
  while (wal.activeSegmentId() < 3) await wal.commitTx([event]);
  await wal.commitTx([event]); // segment 3 holds records, and more will come
  expect(await wal.truncateUpTo(wal.durableLsn())).toBe(1);
  while (wal.activeSegmentId() < 5) await wal.commitTx([event]);
  const sealed = (await wal.segments()).filter((s) => s.id < 4);
  const removed: SegmentInfo[] = [];
  wal.onLifecycle((e) => {
    if (e.type === "removed") removed.push(...e.segments);
  });
  expect(await wal.truncateUpTo(wal.durableLsn())).toBe(2);
  expect(removed).toEqual(sealed);
  await wal.close();
});
