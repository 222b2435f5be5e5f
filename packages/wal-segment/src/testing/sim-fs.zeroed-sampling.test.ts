/**
 * Review: the 1 KiB / 64 KiB / earlier-writes-lost choices share one sampling budget (`reorderSamples`) with the 4 KiB
 * choices with every earlier op kept, which were all the old model had. A truncate followed by a few writes had at
 * most 16 of those, so every one was shown; now the same ops make 54 choices, only the newest truncate's two usual
 * ones are drawn first, and the rest of the old model's states are left to chance.
 */

import { expect, test } from "vitest";
import { durableFile } from "../test-support/durable-file.js";
import { SimFS } from "./sim-fs.js";

test("every 4 KiB zeroed-block state with every earlier op kept (the old model's) is still shown", async () => {
  const sim = SimFS.withDir("/w");
  const f = await durableFile(sim, new Uint8Array(20_000).fill(7));
  await f.write(new Uint8Array(10).fill(1), 100); // op 1
  await f.truncate(10_000); // op 2
  for (let i = 0; i < 8; i++) await f.write(new Uint8Array(10).fill(20 + i), 1000 + 100 * i); // ops 3-10
  const shown = new Set([...sim.crashImages()].map((i) => i.description));
  const missing: string[] = [];
  for (let j = 2; j <= 10; j++) {
    const d = `/w/a: kept first ${j}/10 unsynced ops but op 2 (truncate to 10000), lost after zeroing its 4096-byte block from the cut, the rest lost`;
    if (!shown.has(d)) missing.push(d);
  }
  expect(missing).toEqual([]);
});
