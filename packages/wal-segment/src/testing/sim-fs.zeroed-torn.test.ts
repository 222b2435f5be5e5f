import { describe, expect, test } from "vitest";
import { durableFile } from "../test-support/durable-file.js";
import { type CrashImage, SimFS } from "./sim-fs.js";

// The block a shrinking cut zeroes is data written back like any other: on a disk with 512-byte sectors it can be torn
// (some of its sectors reach the disk, the others keep their old bytes, in any order), and the writes before the cut
// may be torn beside it rather than kept or lost whole. sim-fs.truncate-zeroed-tail.test.ts has the zeroed block
// landed whole with the writes before it kept or lost.

const fill = (length: number, value: number) => new Uint8Array(length).fill(value);
const all = (sim: SimFS, options?: Parameters<SimFS["crashImages"]>[0]): CrashImage[] => [...sim.crashImages(options)];
/** The zeroed-tail images landed whole, with every earlier op kept or some lost (the choices before this model). */
const whole = (images: CrashImage[]) => images.filter((i) => i.description.includes("lost after zeroing"));
const zeroedTorn = (images: CrashImage[]) => images.filter((i) => i.description.includes("zeroing landed torn"));
const earlierTorn = (images: CrashImage[]) => images.filter((i) => /but op \d+ torn \(sectors/.test(i.description));

/** The file's bytes as runs, `[from,to)=value`, so that a 10 KB file reads in one line. */
function runsOf(bytes: Uint8Array): string {
  const out: string[] = [];
  let from = 0;
  for (let i = 1; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] !== bytes[from]) {
      out.push(`[${from},${i})=${bytes[from]}`);
      from = i;
    }
  }
  return out.join(" ");
}
const runs = (images: CrashImage[]) => images.map((i) => runsOf(i.fs.readFileSync("/w/a")));

describe("SimFS crash images: the zeroed block of a lost cut torn, and earlier writes torn beside it", () => {
  test("10,000 bytes cut to 5,000: any of the zeroing's 512-byte sectors may miss the disk", async () => {
    // The zeroing writes [4608, 8192) as the page cache holds it (7s to the cut, zeros after): 7 sectors.
    const sim = SimFS.withDir("/w");
    await (await durableFile(sim, fill(10_000, 7))).truncate(5000);
    const shown = runs(all(sim, { maxImages: 100_000, reorderSamples: 64 }));
    // The cut's sector missing, the others landed: old bytes right after the cut, then zeros, then old bytes.
    expect(shown).toContain("[0,5120)=7 [5120,8192)=0 [8192,10000)=7");
    // Only the cut's sector landed: zeros to its end, the old bytes after (the 1 KiB block's zeroing, shown once).
    expect(shown).toContain("[0,5000)=7 [5000,5120)=0 [5120,10000)=7");
    const torn = zeroedTorn(all(sim, { maxImages: 100_000, reorderSamples: 64 }));
    expect(torn[0]?.description).toBe(
      "/w/a: kept first 1/1 unsynced ops but op 1 (truncate to 5000), lost once its 4096-byte block's zeroing landed torn (sectors [1,2,3,4,5,6] of 7), the rest lost",
    );
    expect(torn.length).toBe(64);
    // Never the zeroing landed whole (a choice of its own) nor not at all (the truncate lost: the durable bytes).
    for (const r of runs(torn)) {
      expect(r).not.toBe("[0,10000)=7");
      expect(r).not.toBe("[0,5000)=7 [5000,8192)=0 [8192,10000)=7");
    }
  });

  test("a zeroing of a few sectors: every subset but none and all, in any order", async () => {
    // 6,000 bytes cut to 5,000: the zeroing writes [4608, 6000) at 4 KiB and 64 KiB blocks alike, 3 sectors. The
    // cut's sector alone is the 1 KiB block's zeroing landed whole, a choice of its own: not offered again.
    const sim = SimFS.withDir("/w");
    await (await durableFile(sim, fill(6000, 7))).truncate(5000);
    expect(runs(zeroedTorn(all(sim)))).toEqual([
      "[0,5120)=7 [5120,5632)=0 [5632,6000)=7",
      "[0,5000)=7 [5000,5632)=0 [5632,6000)=7",
      "[0,5632)=7 [5632,6000)=0",
      "[0,5000)=7 [5000,5120)=0 [5120,5632)=7 [5632,6000)=0",
      "[0,5120)=7 [5120,6000)=0",
    ]);
  });

  test("a zeroing of one sector cannot tear: nothing is offered", async () => {
    const sim = SimFS.withDir("/w");
    await (await durableFile(sim, fill(1200, 7))).truncate(1100); // zeroes [1100, 1200): one sector
    expect(zeroedTorn(all(sim, { maxImages: 100_000, reorderSamples: 64 }))).toEqual([]);
  });

  test("a write before the cut torn while the zeroed block landed whole", async () => {
    // 1,024 bytes of 9s over [3000, 4024) (sectors [2560, 3072), [3072, 3584), [3584, 4096) of the file), then a cut at
    // 5,000: the write lands in part, the cut is lost after zeroing [5000, 8192).
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.write(fill(1024, 9), 3000);
    await f.truncate(5000);
    const images = earlierTorn(all(sim, { maxImages: 100_000, reorderSamples: 64 }));
    expect(runs(images)).toContain("[0,3000)=7 [3000,3072)=9 [3072,5000)=7 [5000,8192)=0 [8192,10000)=7");
    expect(runs(images)).toContain("[0,3072)=7 [3072,3584)=9 [3584,5000)=7 [5000,8192)=0 [8192,10000)=7");
    expect(images.map((i) => i.description)).toContain(
      "/w/a: kept first 2/2 unsynced ops but op 1 torn (sectors [0] of 3 landed) beside op 2 (truncate to 5000), lost once its 4096-byte block's zeroing landed, the rest lost",
    );
  });

  test("the write torn is the first one lost: the writes before it kept, the ones after it up to the cut lost", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(10_000, 7));
    await f.write(fill(10, 8), 100); // op 1, kept
    await f.write(fill(1024, 9), 3000); // op 2, torn
    await f.write(fill(10, 6), 200); // op 3, lost
    await f.truncate(5000); // op 4
    const shown = runs(earlierTorn(all(sim, { maxImages: 100_000, reorderSamples: 64 })));
    expect(shown).toContain(
      "[0,100)=7 [100,110)=8 [110,3000)=7 [3000,3072)=9 [3072,5000)=7 [5000,8192)=0 [8192,10000)=7",
    );
    // The sector of the cut lands as the page cache held it: a write into it is there, torn or not.
    const cutSector = SimFS.withDir("/w");
    const g = await durableFile(cutSector, fill(10_000, 7));
    await g.write(fill(1024, 9), 4000); // [4000, 5024): the file's sectors 7, 8 and 9, the cut's ([4608, 5120))
    await g.truncate(4700);
    const torn = earlierTorn(all(cutSector, { maxImages: 100_000, reorderSamples: 64 }));
    expect(torn.length).toBeGreaterThan(0);
    for (const r of runs(torn.filter((i) => i.description.includes("4096-byte"))))
      expect(r).toMatch(/,4700\)=9 \[4700,8192\)=0 \[8192,10000\)=7$/);
  });

  test("their own budget: the choices before are offered as before, each new kind up to reorderSamples more", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(40_000, 7));
    for (let i = 0; i < 12; i++) {
      await f.truncate(39_000 - i * 3000);
      await f.write(fill(1500, 20 + i), 100 * i);
    }
    const images = all(sim, { maxImages: 100_000, reorderSamples: 5 });
    // As sim-fs.truncate-zeroed-tail.test.ts's many-truncates test: 5 usual, 5 others.
    expect(whole(images).length).toBe(10);
    expect(zeroedTorn(images).length).toBe(5);
    expect(earlierTorn(images).length).toBe(5);
    expect(zeroedTorn(all(sim, { maxImages: 100_000, reorderSamples: 0 }))).toEqual([]);
    expect(earlierTorn(all(sim, { maxImages: 100_000, reorderSamples: 0 }))).toEqual([]);
    const everything = runs(all(sim, { maxImages: 100_000 }));
    expect(new Set(everything).size).toBe(everything.length);
  });
});
