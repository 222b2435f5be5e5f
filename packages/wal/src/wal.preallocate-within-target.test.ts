/**
 * `preallocateBytes` zero-fills no further than `segmentTargetBytes`: with small segments the default megabyte is
 * cut to the target, in the active segment and in the spare made for the next one, rather than every segment of a
 * few KiB taking a megabyte on disk.
 */

import { bytesCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const TARGET = 8192;

it("with an 8 KiB segment target and the default preallocation, no file in the directory passes twice the target", async () => {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: TARGET });
  for (let i = 0; i < 12; i++) await wal.commitTx([new Uint8Array(1000).fill(i)]);
  expect(wal.activeSegmentId()).toBeGreaterThan(1);
  const sizes: Record<string, number> = {};
  for (const name of fs.listSync(DIR)) sizes[name] = (await fs.stat(`${DIR}/${name}`))?.size ?? -1;
  expect(Object.keys(sizes).length).toBeGreaterThan(1);
  for (const [name, size] of Object.entries(sizes)) expect(size, name).toBeLessThanOrEqual(2 * TARGET);
  await wal.close();
});
