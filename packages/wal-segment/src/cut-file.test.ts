/**
 * `cutFile` cuts a file so that a power loss at any point leaves the old tail (zeroed at most from 4 KiB past the
 * cut to the end of that block) or no non-zero byte more than 4 KiB past the cut; a tail of zeros past there is cut
 * in one step, and a caller that knows where the data ends makes it read nothing.
 */

import { describe, expect, it } from "vitest";
import { CUT_STEP_BYTES, cutFile } from "./cut-file.js";
import { countingFileSystem } from "./testing/counting-fs.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/f";
const CUT = 10_000; // inside a block, so a cut there zeroes the rest of it
const SIZE = 64 * 1024;

/** `SIZE` bytes: non-zero up to `dataEnd`, zeros after. */
function fileBytes(dataEnd: number): Uint8Array {
  const bytes = new Uint8Array(SIZE);
  for (let i = 0; i < dataEnd; i++) bytes[i] = (i % 251) + 1;
  return bytes;
}

/** Cut a durable file of `bytes` at `CUT`; every crash image along the way, the truncates and the bytes read. */
async function cut(bytes: Uint8Array, dataEnd?: number) {
  const sim = SimFS.withDir("/w");
  sim.writeFileSync(PATH, bytes);
  const { fs, counts } = countingFileSystem(sim);
  const images: { at: string; bytes: Uint8Array }[] = [];
  let truncates = 0;
  // At each truncate: the states before it are in the images of the one after it (each keeps a prefix of the ops).
  const off = sim.onOperation((e) => {
    if (e.path !== PATH || e.op !== "truncate") return;
    truncates++;
    for (const image of sim.crashImages()) images.push({ at: image.description, bytes: image.fs.readFileSync(PATH) });
  });
  const file = await fs.open(PATH, "readWrite");
  await cutFile(file, CUT, { durable: true, dataEnd });
  await file.close();
  off();
  return { images, truncates, bytesRead: counts.totalBytesRead(), after: sim.durableImage().readFileSync(PATH) };
}

/** Byte-wise equality (vitest's deep equality walks a typed array element by element). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** The promise of `cutFile` for one crash image of a cut of `old`. */
function expectSafe(old: Uint8Array, image: Uint8Array, at: string): void {
  expect(same(image.subarray(0, CUT), old.subarray(0, CUT)), at).toBe(true);
  const far = CUT + CUT_STEP_BYTES;
  if (image.subarray(far).some((b) => b !== 0)) {
    // Old data far past the cut: then it is the old tail, zeroed at most from `far` to the end of its block.
    const blockEnd = Math.ceil(far / 4096) * 4096;
    expect(image.byteLength, at).toBe(old.byteLength);
    expect(same(image.subarray(CUT, far), old.subarray(CUT, far)), at).toBe(true);
    expect(same(image.subarray(blockEnd), old.subarray(blockEnd)), at).toBe(true);
  }
}

describe("cutFile", () => {
  it("cuts a tail with data far past the cut in two steps, and every crash image keeps the promise", async () => {
    const old = fileBytes(SIZE);
    const { images, truncates, after } = await cut(old);
    expect(truncates).toBe(2);
    expect(after).toEqual(old.subarray(0, CUT));
    expect(images.some((i) => i.at.includes("lost after zeroing"))).toBe(true);
    for (const { at, bytes } of images) expectSafe(old, bytes, at);
  });

  it("a one-step cut of the same tail breaks that promise (what the two steps are for)", async () => {
    const old = fileBytes(SIZE);
    const sim = SimFS.withDir("/w");
    sim.writeFileSync(PATH, old);
    const file = await sim.open(PATH, "readWrite");
    await file.truncate(CUT);
    const broken = [...sim.crashImages()].map((i) => i.fs.readFileSync(PATH));
    await file.close();
    expect(broken.some((bytes) => bytes.byteLength === SIZE && bytes[CUT] === 0 && bytes[SIZE - 1] !== 0)).toBe(true);
  });

  it("cuts a tail of zeros past 4 KiB after the cut in one step", async () => {
    const old = fileBytes(CUT + 2000);
    const { images, truncates, after, bytesRead } = await cut(old);
    expect(truncates).toBe(1);
    expect(after).toEqual(old.subarray(0, CUT));
    // It read the zeros to find that out.
    expect(bytesRead).toBe(SIZE - CUT - CUT_STEP_BYTES);
    for (const { at, bytes } of images) expectSafe(old, bytes, at);
  });

  it("reads nothing when told where the data ends", async () => {
    const zeroTail = await cut(fileBytes(CUT + 2000), CUT + 2000);
    expect([zeroTail.truncates, zeroTail.bytesRead]).toEqual([1, 0]);
    const dataTail = await cut(fileBytes(SIZE), SIZE);
    expect([dataTail.truncates, dataTail.bytesRead]).toEqual([2, 0]);
    expect(dataTail.after.byteLength).toBe(CUT);
  });
});
