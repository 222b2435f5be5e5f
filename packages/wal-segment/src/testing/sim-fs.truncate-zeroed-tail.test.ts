import { describe, expect, test } from "vitest";
import { durableFile } from "../test-support/durable-file.js";
import { type CrashImage, SimFS } from "./sim-fs.js";

// Cutting a file to a length inside a block zeroes the rest of that block in the page cache (ext4
// ext4_block_truncate_page, xfs iomap_truncate_page). That block is data, written back before the journal commits the
// size change: until an fsync or fdatasync covers the truncate, a power loss can leave the old length with zeros from
// the cut to the block's end, the blocks past it untouched. Blocks are 4 KiB, 1 KiB (ext4's smallest) or 64 KiB (ext4
// and xfs on 64 KiB pages); the writes since the truncate before may be lost while the zeroed block landed.

const fill = (length: number, value: number) => new Uint8Array(length).fill(value);
const all = (sim: SimFS, options?: Parameters<SimFS["crashImages"]>[0]): CrashImage[] => [...sim.crashImages(options)];
/** The zeroed-tail images of one lost truncate (several lost together are sim-fs.truncates-lost.test.ts's). */
const zeroed = (images: CrashImage[]) =>
  images.filter((i) => i.description.includes("lost after zeroing") && !i.description.includes("lost together"));
/** The zeroed-tail images at 4 KiB blocks with every write before the truncate kept. */
const usual = (images: CrashImage[]) =>
  zeroed(images).filter((i) => i.description.includes("4096-byte") && !i.description.includes("(lost)"));
/** The zeroed-tail images with writes before the truncate lost. */
const earlierLost = (images: CrashImage[]) => zeroed(images).filter((i) => i.description.includes("(lost)"));

/** The file's bytes as runs, `[from,to)=value`, so that a 10 KB file reads in one line. */
function runsOf(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let from = 0;
  for (let i = 1; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] !== bytes[from]) {
      out.push(`[${from},${i})=${bytes[from]}`);
      from = i;
    }
  }
  return out;
}
const runs = (images: CrashImage[]) => images.map((i) => runsOf(i.fs.readFileSync("/w/a")));

describe("SimFS crash images: a shrinking truncate lost after zeroing its block's tail", () => {
  test("10,000 bytes cut to 5,000: the old length, with [5000, 8192) zero and the bytes past the block kept", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.truncate(5000);
    const images = all(sim);
    expect(runs(images.slice(0, 3))).toEqual([
      ["[0,10000)=7"],
      ["[0,5000)=7"],
      ["[0,5000)=7", "[5000,8192)=0", "[8192,10000)=7"],
    ]);
    expect(images[2]?.description).toBe(
      "/w/a: kept first 1/1 unsynced ops but op 1 (truncate to 5000), lost after zeroing its 4096-byte block from the cut, the rest lost",
    );
  });

  test("an old end inside the cut's block: zeros from the cut to the old end, the length kept", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(3000, 7));
    await f.truncate(1000);
    expect(runs(usual(all(sim)))).toEqual([["[0,1000)=7", "[1000,3000)=0"]]);
  });

  test("a 1 KiB block zeroes less, a 64 KiB block more; one that leaves the 4 KiB block's state is left out", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.truncate(5000);
    const images = zeroed(all(sim));
    expect(images.map((i) => i.description)).toEqual(
      [4096, 1024, 65536].map(
        (block) =>
          `/w/a: kept first 1/1 unsynced ops but op 1 (truncate to 5000), lost after zeroing its ${block}-byte block from the cut, the rest lost`,
      ),
    );
    expect(runs(images)).toEqual([
      ["[0,5000)=7", "[5000,8192)=0", "[8192,10000)=7"],
      ["[0,5000)=7", "[5000,5120)=0", "[5120,10000)=7"],
      ["[0,5000)=7", "[5000,10000)=0"],
    ]);
    // An old end inside the 4 KiB block: the 64 KiB block's zeros are the same, and shown once.
    const short = SimFS.withDir("/w");
    await (await durableFile(short, fill(3000, 7))).truncate(1000);
    expect(runs(zeroed(all(short)))).toEqual([
      ["[0,1000)=7", "[1000,3000)=0"],
      ["[0,1000)=7", "[1000,1024)=0", "[1024,3000)=7"],
    ]);
  });

  test("the writes before it lost: the zeroed block lands, the sector of the cut with their bytes", async () => {
    // 600 bytes written over [4000, 4600), then a cut at 4500: the sector [4096, 4608) the cut lies in reaches the disk
    // whole, as the page cache held it (the write's bytes to the cut, zeros after), or not at all.
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.write(fill(600, 9), 4000);
    await f.truncate(4500);
    const images = earlierLost(all(sim));
    expect(images.map((i) => i.description)).toEqual(
      [4096, 1024, 65536].map(
        (block) =>
          `/w/a: kept first 2/2 unsynced ops but op 1 (lost) and op 2 (truncate to 4500), lost after zeroing its ${block}-byte block from the cut, the rest lost`,
      ),
    );
    expect(runs(images)).toEqual([
      ["[0,4096)=7", "[4096,4500)=9", "[4500,8192)=0", "[8192,10000)=7"],
      ["[0,4096)=7", "[4096,4500)=9", "[4500,5120)=0", "[5120,10000)=7"],
      ["[0,4096)=7", "[4096,4500)=9", "[4500,10000)=0"],
    ]);
  });

  test("the writes lost before it reach back to the truncate before it, and writes after it may land", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.truncate(9000);
    await f.write(fill(10, 8), 100);
    await f.write(fill(10, 9), 200);
    await f.truncate(5000);
    await f.write(fill(10, 6), 300);
    const lost = earlierLost(all(sim, { maxImages: 100_000, reorderSamples: 64 }))
      .filter((i) => i.description.includes("4096-byte"))
      .map((i) => i.description.replace(/^\/w\/a: kept first /, "").replace(/, lost after zeroing.*$/, ""));
    // Op 1 (the truncate before) always kept; op 2 or ops 2-3 lost; op 5 landed or not.
    expect(lost).toEqual([
      "4/5 unsynced ops but ops 2-3 (lost) and op 4 (truncate to 5000)",
      "5/5 unsynced ops but ops 2-3 (lost) and op 4 (truncate to 5000)",
      "4/5 unsynced ops but op 3 (lost) and op 4 (truncate to 5000)",
      "5/5 unsynced ops but op 3 (lost) and op 4 (truncate to 5000)",
    ]);
  });

  test("lost behind the writes after it: those land over the zeroed block", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.truncate(5000);
    await f.write(fill(100, 9), 5000);
    expect(runs(usual(all(sim)))).toEqual([
      ["[0,5000)=7", "[5000,8192)=0", "[8192,10000)=7"],
      ["[0,5000)=7", "[5000,5100)=9", "[5100,8192)=0", "[8192,10000)=7"],
    ]);
  });

  test("no zeroing to show: a cut on a block boundary, an extension, a tail already zero, or an fsync after it", async () => {
    // 8192 is a 1 KiB and a 4 KiB boundary, not a 64 KiB one: only that block's zeroing shows.
    const onBoundary = SimFS.withDir("/w");
    await (await durableFile(onBoundary, fill(10_000, 7))).truncate(8192);
    expect(zeroed(all(onBoundary)).map((i) => [i.description.includes("65536-byte"), ...runs([i])])).toEqual([
      [true, ["[0,8192)=7", "[8192,10000)=0"]],
    ]);
    const cases: ((f: Awaited<ReturnType<typeof durableFile>>) => Promise<void>)[] = [
      (f) => f.truncate(0),
      (f) => f.truncate(20_000),
      (f) =>
        f
          .datasync()
          .then(() => f.truncate(5000))
          .then(() => f.datasync()),
    ];
    for (const change of cases) {
      const sim = SimFS.withDir("/w");
      await change(await durableFile(sim, fill(10_000, 7)));
      expect(zeroed(all(sim))).toEqual([]);
    }
    // The bytes from the cut to the block's end are zero already: the image would be the durable one.
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, new Uint8Array([...fill(5000, 7), ...fill(5000, 0)]));
    await f.truncate(5000);
    expect(zeroed(all(sim))).toEqual([]);
  });

  test("a later truncate never lands without it; a later one is lost after the earlier one landed", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.truncate(6000);
    await f.write(fill(10, 9), 100);
    await f.truncate(3000);
    const images = usual(all(sim));
    expect(images.map((i) => i.description)).toEqual([
      "/w/a: kept first 1/3 unsynced ops but op 1 (truncate to 6000), lost after zeroing its 4096-byte block from the cut, the rest lost",
      "/w/a: kept first 2/3 unsynced ops but op 1 (truncate to 6000), lost after zeroing its 4096-byte block from the cut, the rest lost",
      "/w/a: kept first 3/3 unsynced ops but op 3 (truncate to 3000), lost after zeroing its 4096-byte block from the cut, the rest lost",
    ]);
    expect(runs(images)).toEqual([
      ["[0,6000)=7", "[6000,8192)=0", "[8192,10000)=7"],
      ["[0,100)=7", "[100,110)=9", "[110,6000)=7", "[6000,8192)=0", "[8192,10000)=7"],
      ["[0,100)=7", "[100,110)=9", "[110,3000)=7", "[3000,4096)=0", "[4096,6000)=7"],
    ]);
  });

  test("a file an unsynced write grew, cut inside a block: the cut is a shrink of the grown length", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(3000, 7));
    await f.write(fill(7000, 8), 3000);
    await f.truncate(5000);
    expect(runs(usual(all(sim)))).toEqual([["[0,3000)=7", "[3000,5000)=8", "[5000,8192)=0", "[8192,10000)=8"]]);
  });

  test("an earlier truncate lost after zeroing never has a later one land over it", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.truncate(6000);
    await f.write(fill(10, 9), 12_000);
    await f.truncate(9000);
    // A 9,000-byte file whose [8192, 9000) still holds the old 7s would be the later cut landed without the earlier.
    expect(runs(usual(all(sim)))).toEqual([
      ["[0,6000)=7", "[6000,8192)=0", "[8192,10000)=7"],
      ["[0,6000)=7", "[6000,8192)=0", "[8192,10000)=7", "[10000,12000)=0", "[12000,12010)=9"],
      ["[0,6000)=7", "[6000,12010)=0"],
    ]);
  });

  test("many truncates: the choices are sampled, bounded by reorderSamples, distinct; 0 turns them off", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(40_000, 7));
    for (let i = 0; i < 12; i++) {
      await f.truncate(39_000 - i * 3000);
      await f.write(fill(10, 20 + i), 100 * i);
    }
    const images = all(sim, { maxImages: 100_000, reorderSamples: 5 });
    const sampled = usual(images);
    expect(sampled.length).toBe(5);
    // The other zeroed-tail choices (1 KiB / 64 KiB blocks, earlier writes lost) have a budget of their own on top.
    expect(zeroed(images).length - sampled.length).toBe(5);
    // Always among them: the newest truncate lost alone, and lost behind every write after it.
    expect(sampled[0]?.description).toBe(
      "/w/a: kept first 23/24 unsynced ops but op 23 (truncate to 6000), lost after zeroing its 4096-byte block from the cut, the rest lost",
    );
    expect(sampled[1]?.description).toBe(
      "/w/a: kept first 24/24 unsynced ops but op 23 (truncate to 6000), lost after zeroing its 4096-byte block from the cut, the rest lost",
    );
    // One fewer than the 24 choices: sampled, and the draws go on until that many distinct ones are offered.
    expect(usual(all(sim, { maxImages: 100_000, reorderSamples: 100 })).length).toBe(24);
    expect(usual(all(sim, { maxImages: 100_000, reorderSamples: 23 })).length).toBe(23);
    expect(usual(all(sim, { maxImages: 100_000, reorderSamples: 0 }))).toEqual([]);
    const everything = all(sim, { maxImages: 100_000 }).map((i) => runsOf(i.fs.readFileSync("/w/a")).join(" "));
    expect(new Set(everything).size).toBe(everything.length);
  });
});
