/**
 * `cutFile`'s TSDoc promised that a power loss leaves "the old tail (at most the bytes from offset + CUT_STEP_BYTES to
 * the end of their 4 KiB block zeroed)". SimFS models 64 KiB blocks too, and the first step's cut (at offset + 4 KiB)
 * lost after zeroing its 64 KiB block leaves zeros up to 60 KiB further. cut-file.test.ts checks a 64 KiB file, where
 * the 64 KiB block's zeros run to the file's end, so it never saw that. What holds at every block size: the old tail
 * is whole up to offset + CUT_STEP_BYTES, zeros from there run no further than the end of that position's block, and
 * the bytes after them are as they were.
 */

import { expect, it } from "vitest";
import { CUT_STEP_BYTES, cutFile } from "./cut-file.js";
import { ZEROED_BLOCK_SIZES } from "./internal/crash-images.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/f";
const CUT = 10_000;
const SIZE = 256 * 1024;
const FAR = CUT + CUT_STEP_BYTES;

/** Where the zeros after FAR end in an image that keeps the old tail, or a reason it breaks the promise. */
function zerosEndOrBreak(bytes: Uint8Array, old: Uint8Array): number | string {
  if (!bytes.subarray(FAR).some((b) => b !== 0)) return -1; // no data more than CUT_STEP_BYTES past the cut
  if (!Buffer.from(bytes.subarray(0, FAR)).equals(Buffer.from(old.subarray(0, FAR)))) return "changed before FAR";
  let end = FAR;
  while (end < bytes.length && bytes[end] === 0) end++;
  if (!Buffer.from(bytes.subarray(end)).equals(Buffer.from(old.subarray(end)))) return "changed after the zeros";
  return end;
}

it("every crash image of a two-step cut keeps the old tail whole to offset + CUT_STEP_BYTES, zeros after it only to its block's end", async () => {
  const old = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) old[i] = (i % 251) + 1;
  const sim = SimFS.withDir("/w");
  sim.writeFileSync(PATH, old);
  const zerosEnds = new Set<number>();
  const broken: string[] = [];
  const off = sim.onOperation((e) => {
    if (e.path !== PATH || e.op !== "truncate") return;
    for (const image of sim.crashImages()) {
      const found = zerosEndOrBreak(image.fs.readFileSync(PATH), old);
      if (typeof found === "string") broken.push(`${image.description}: ${found}`);
      else if (found >= 0) zerosEnds.add(found);
    }
  });
  const file = await sim.open(PATH, "readWrite");
  await cutFile(file, CUT, { durable: true });
  await file.close();
  off();

  expect(broken).toEqual([]);
  // The old tail as it was, or zeroed from FAR to the end of FAR's block at each block size SimFS models: 4 KiB (16384),
  // 1 KiB (14336) and 64 KiB (65536), the last past the 4 KiB bound the TSDoc used to promise.
  const blockEnds = ZEROED_BLOCK_SIZES.map((block) => Math.ceil(FAR / block) * block);
  expect([...zerosEnds].sort((a, b) => a - b)).toEqual([FAR, ...blockEnds].sort((a, b) => a - b));
});
