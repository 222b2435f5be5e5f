/**
 * `cutFile`'s TSDoc promised that a power loss leaves "the old tail (at most the bytes from offset + CUT_STEP_BYTES to
 * the end of their 4 KiB block zeroed)". SimFS models 64 KiB blocks too, and the first step's cut (at offset + 4 KiB)
 * lost after zeroing its 64 KiB block leaves zeros up to 60 KiB further. cut-file.test.ts checks a 64 KiB file, where
 * the 64 KiB block's zeros run to the file's end, so it never saw that. What holds at every block size: the old tail
 * is whole up to offset + CUT_STEP_BYTES, zeros from there run no further than the end of that position's block, and
 * the bytes after them are as they were.
 *
 * That zeroing is data written back like any other, so it can land torn: any of its 512-byte sectors zeroed, the others
 * holding the old bytes. So the promise is per sector: from offset + CUT_STEP_BYTES to the end of that position's
 * block, each sector old or zero; after it, as it was.
 */

import { expect, it } from "vitest";
import { CUT_STEP_BYTES, cutFile } from "./cut-file.js";
import { SECTOR_BYTES, ZEROED_BLOCK_SIZES } from "./internal/crash-images.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/f";
const CUT = 10_000;
const SIZE = 256 * 1024;
const FAR = CUT + CUT_STEP_BYTES;

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/**
 * Where the zeros after FAR end (the end of the last sector from FAR on that was zeroed; FAR when none was) in an image
 * that keeps the old tail, each sector from FAR on old or zero; or a reason it breaks the promise.
 */
function zerosEndOrBreak(bytes: Uint8Array, old: Uint8Array): number | string {
  if (!bytes.subarray(FAR).some((b) => b !== 0)) return -1; // no data more than CUT_STEP_BYTES past the cut
  if (bytes.byteLength !== old.byteLength) return "length changed";
  if (!same(bytes.subarray(0, FAR), old.subarray(0, FAR))) return "changed before FAR";
  let end = FAR;
  for (let sector = Math.floor(FAR / SECTOR_BYTES) * SECTOR_BYTES; sector < bytes.byteLength; sector += SECTOR_BYTES) {
    const from = Math.max(FAR, sector);
    const to = Math.min(bytes.byteLength, sector + SECTOR_BYTES);
    if (same(bytes.subarray(from, to), old.subarray(from, to))) continue;
    if (bytes.subarray(from, to).some((b) => b !== 0)) return `the sector at ${sector} neither old nor zero`;
    end = to;
  }
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
  // 1 KiB (14336) and 64 KiB (65536), the last past the 4 KiB bound the TSDoc used to promise; never past the largest.
  const blockEnds = ZEROED_BLOCK_SIZES.map((block) => Math.ceil(FAR / block) * block);
  for (const end of [FAR, ...blockEnds]) expect(zerosEnds).toContain(end);
  expect(Math.max(...zerosEnds)).toBe(Math.max(...blockEnds));
  // And zeroings that landed torn, their last zeroed sector short of the block's end.
  expect([...zerosEnds].some((end) => end !== FAR && !blockEnds.includes(end))).toBe(true);
});
