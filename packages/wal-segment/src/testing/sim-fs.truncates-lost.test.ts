import { describe, expect, test } from "vitest";
import { durableFile } from "../test-support/durable-file.js";
import { type CrashImage, SimFS } from "./sim-fs.js";

// Truncates after a file's last fsync reach the disk in order (one journal), so a power loss can lose several of them
// together while the writes between them land, and the block each shrinking cut zeroed in the page cache (data) may
// land while every size change is lost. These choices come on top of the image budget: the images of every other
// choice are exactly what they were without them.

const fill = (length: number, value: number) => new Uint8Array(length).fill(value);
const all = (sim: SimFS, options?: Parameters<SimFS["crashImages"]>[0]): CrashImage[] => [...sim.crashImages(options)];
const together = (images: CrashImage[]) => images.filter((i) => i.description.includes("lost together"));

/** The file's bytes as runs, `[from,to)=value`. */
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

/** Three cuts, each followed by a write: 31 images without the choices of several truncates lost, 15 of those. */
async function cutsAndWrites(sim: SimFS): Promise<void> {
  const f = await durableFile(sim, fill(12_000, 9));
  await f.truncate(9000);
  await f.write(fill(50, 1), 8000);
  await f.truncate(6000);
  await f.write(fill(50, 2), 5000);
  await f.truncate(3000);
  await f.write(fill(50, 3), 3000);
}

describe("SimFS crash images: several truncates lost together", () => {
  test("two cuts with no fsync between: the old length, zeros from the second cut to its block's end, the old data past it", async () => {
    // cutFile's two steps without the fsync between them: what that fsync rules out.
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(20_000, 9));
    await f.truncate(100 + 4096);
    await f.truncate(100);
    const images = together(all(sim));
    expect(images.map((i) => i.description)).toEqual([
      "/w/a: kept first 2/2 unsynced ops but op 1 (truncate to 4196) and op 2 (truncate to 100), lost together, the newest lost after zeroing its 4096-byte block from the cut, the rest lost",
      "/w/a: kept first 2/2 unsynced ops but op 1 (truncate to 4196) and op 2 (truncate to 100), lost together, each lost after zeroing its 4096-byte block from the cut, the rest lost",
    ]);
    expect(runs(images)).toEqual([
      ["[0,100)=9", "[100,4096)=0", "[4096,20000)=9"],
      ["[0,100)=9", "[100,4096)=0", "[4096,4196)=9", "[4196,8192)=0", "[8192,20000)=9"],
    ]);
    // Both lost and nothing zeroed is the durable state, an image already: not shown again.
    expect(images.filter((i) => !i.description.includes("zeroing"))).toEqual([]);
  });

  test("cuts lost together while the writes between them landed, each write over the old bytes", async () => {
    const sim = SimFS.withDir("/w");
    await cutsAndWrites(sim);
    // 18 such choices: with room for all of them (beyond 16 they are sampled).
    const images = together(all(sim, { reorderSamples: 100 }));
    const plain = images.filter((i) => !i.description.includes("zeroing"));
    expect(plain.map((i) => i.description)).toEqual([
      "/w/a: kept first 4/6 unsynced ops but op 1 (truncate to 9000) and op 3 (truncate to 6000), lost together, the rest lost",
      "/w/a: kept first 6/6 unsynced ops but op 1 (truncate to 9000), op 3 (truncate to 6000) and op 5 (truncate to 3000), lost together, the rest lost",
      "/w/a: kept first 6/6 unsynced ops but op 3 (truncate to 6000) and op 5 (truncate to 3000), lost together, the rest lost",
    ]);
    expect(runs(plain)).toEqual([
      ["[0,5000)=9", "[5000,5050)=2", "[5050,8000)=9", "[8000,8050)=1", "[8050,12000)=9"],
      [
        "[0,3000)=9",
        "[3000,3050)=3",
        "[3050,5000)=9",
        "[5000,5050)=2",
        "[5050,8000)=9",
        "[8000,8050)=1",
        "[8050,12000)=9",
      ],
      [
        "[0,3000)=9",
        "[3000,3050)=3",
        "[3050,5000)=9",
        "[5000,5050)=2",
        "[5050,8000)=9",
        "[8000,8050)=1",
        "[8050,9000)=9",
      ],
    ]);
    // Every one a state no other image of the file leaves.
    const states = all(sim).map((i) => runsOf(i.fs.readFileSync("/w/a")).join(" "));
    expect(new Set(states).size).toBe(states.length);
  });

  test("the image budget spans the other choices only: their images come first, exactly as many, the new ones on top", async () => {
    for (const [maxImages, budgeted] of [
      [256, 31],
      [16, 16],
    ] as const) {
      const sim = SimFS.withDir("/w");
      await cutsAndWrites(sim);
      const images = all(sim, { maxImages });
      const firstNew = images.findIndex((i) => i.description.includes("lost together"));
      expect(firstNew).toBe(budgeted);
      expect(together(images.slice(firstNew))).toHaveLength(images.length - budgeted);
      expect(images.length - budgeted).toBe(15);
    }
  });

  test("bounded by reorderSamples per file (all of them when fewer), and 0 turns them off", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, fill(40_000, 9));
    for (let i = 0; i < 8; i++) {
      await f.truncate(36_000 - 4000 * i - 100);
      await f.write(fill(10, i + 1), 1000 * i);
    }
    expect(together(all(sim, { reorderSamples: 4 }))).toHaveLength(4);
    expect(together(all(sim, { reorderSamples: 16 }))).toHaveLength(16);
    expect(together(all(sim, { reorderSamples: 0 }))).toEqual([]);
    const few = SimFS.withDir("/w");
    await cutsAndWrites(few);
    expect(together(all(few, { reorderSamples: 100 }))).toHaveLength(15);
  });
});
