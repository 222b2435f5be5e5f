import { describe, expect, test } from "vitest";
import { durableFile } from "../test-support/durable-file.js";
import { type CrashImage, SimFS } from "./sim-fs.js";

// Before an fsync or fdatasync of the file covers it, a truncate's size change is metadata the journal commits on its
// own schedule, unordered with data written back to other offsets (ext4 data=ordered, xfs): crash images land it
// out of order with the file's other unsynced writes.

// A shrinking cut inside a block may also be lost after zeroing the rest of that block: those images are
// sim-fs.truncate-zeroed-tail.test.ts's, left out here but where every image must be distinct.

const bytes = (...v: number[]) => Uint8Array.from(v);
const everyImage = (sim: SimFS, options?: Parameters<SimFS["crashImages"]>[0]): CrashImage[] => [
  ...sim.crashImages(options),
];
const all = (sim: SimFS, options?: Parameters<SimFS["crashImages"]>[0]): CrashImage[] =>
  everyImage(sim, options).filter((i) => !i.description.includes("lost after zeroing"));
const contentsOf = (images: CrashImage[]) => images.map((i) => Array.from(i.fs.readFileSync("/w/a")));
const moved = (images: CrashImage[]) => images.filter((i) => /truncate to \d+\)/.test(i.description));

describe("SimFS crash images: truncates out of order", () => {
  test("a truncate can be lost while a later write lands: the file keeps its length, the new bytes over the old", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, bytes(1, 2, 3, 4, 5));
    await f.truncate(2);
    await f.write(bytes(9), 2);
    const images = all(sim);
    expect(contentsOf(images)).toEqual([
      [1, 2, 3, 4, 5],
      [1, 2, 9],
      [1, 2],
      [1, 2, 9, 4, 5],
    ]);
    expect(images[3]?.description).toBe(
      "/w/a: kept first 2/2 unsynced ops but op 1 (truncate to 2), lost while later writes landed, the rest lost",
    );
  });

  test("a truncate can land while earlier writes are lost, alone or with the writes after it", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, bytes(1, 1, 1));
    await f.write(bytes(7), 0);
    await f.truncate(2);
    await f.write(bytes(8), 2);
    const early = moved(all(sim));
    expect(early.map((i) => i.description)).toEqual([
      "/w/a: kept first 0/3 unsynced ops, then op 2 (truncate to 2) landed ahead of op 1 (lost), the rest lost",
      "/w/a: kept first 0/3 unsynced ops, then op 2 (truncate to 2) and op 3 landed ahead of op 1 (lost), the rest lost",
    ]);
    expect(contentsOf(early)).toEqual([
      [1, 1],
      [1, 1, 8],
    ]);
  });

  test("a move that leaves the state of another choice is not an image of its own", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, bytes(1, 2, 3));
    // A write wholly past the cut, then the cut: the truncate landing without it is the durable state.
    await f.write(bytes(9), 5);
    await f.truncate(3);
    expect(moved(all(sim))).toEqual([]);
    expect(contentsOf(all(sim))).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3, 0, 0, 9],
    ]);
    // A truncate to the length the file has, then a write: losing the truncate changes nothing.
    const same = SimFS.withDir("/w");
    const g = await durableFile(same, bytes(1, 2, 3));
    await g.truncate(3);
    await g.write(bytes(4), 3);
    expect(moved(all(same))).toEqual([]);
    expect(all(same).length).toBe(3);
    // Nor when it leaves the state of another move: the truncate lost behind one write, or behind the same write again.
    const twice = SimFS.withDir("/w");
    const h = await durableFile(twice, bytes(1, 2, 3, 4, 5));
    await h.truncate(2);
    await h.write(bytes(9), 2);
    await h.write(bytes(9), 2);
    expect(contentsOf(moved(all(twice)))).toEqual([[1, 2, 9, 4, 5]]);
  });

  test("truncates keep their order among themselves", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, bytes(1, 2, 3, 4, 5));
    await f.truncate(3);
    await f.truncate(1);
    // Neither moves: no write lies between them, and the second never lands without the first.
    expect(contentsOf(all(sim))).toEqual([[1, 2, 3, 4, 5], [1], [1, 2, 3]]);
    const later = SimFS.withDir("/w");
    const g = await durableFile(later, bytes(1, 2, 3, 4, 5, 6));
    await g.truncate(4);
    await g.write(bytes(9), 2);
    await g.truncate(3);
    await g.write(bytes(8), 4);
    // The first truncate is lost only behind the write before the second; the second lands only after the first.
    const images = moved(all(later));
    expect(images.map((i) => i.description)).toEqual([
      "/w/a: kept first 2/4 unsynced ops but op 1 (truncate to 4), lost while later writes landed, the rest lost",
      "/w/a: kept first 4/4 unsynced ops but op 3 (truncate to 3), lost while later writes landed, the rest lost",
      "/w/a: kept first 1/4 unsynced ops, then op 3 (truncate to 3) landed ahead of op 2 (lost), the rest lost",
      "/w/a: kept first 1/4 unsynced ops, then op 3 (truncate to 3) and op 4 landed ahead of op 2 (lost), the rest lost",
      // Both lost together (the second is never kept without the first), the writes landed.
      "/w/a: kept first 4/4 unsynced ops but op 1 (truncate to 4) and op 3 (truncate to 3), lost together, the rest lost",
    ]);
    expect(contentsOf(images)).toEqual([
      [1, 2, 9, 4, 5, 6],
      [1, 2, 9, 4, 8],
      [1, 2, 3],
      [1, 2, 3, 0, 8],
      [1, 2, 9, 4, 8, 6],
    ]);
  });

  test("a truncate is never lost while a later one lands: bytes it cut never come back under a later extension", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, bytes(1, 2, 3, 4, 5, 6));
    await f.truncate(2);
    await f.write(bytes(9), 2);
    await f.truncate(5);
    // Not [1, 2, 9, 4, 5]: the second truncate landed (it extends the file) with the first, which cut 4 and 5, lost.
    expect(contentsOf(all(sim))).toEqual([
      [1, 2, 3, 4, 5, 6],
      [1, 2, 9, 0, 0],
      [1, 2],
      [1, 2, 9],
      [1, 2, 9, 4, 5, 6],
      [1, 2, 0, 0, 0],
    ]);
  });

  test("an fsync or an fdatasync makes the size change durable: nothing before it moves", async () => {
    for (const sync of ["sync", "datasync"] as const) {
      const sim = SimFS.withDir("/w");
      const f = await durableFile(sim, bytes(1, 2, 3, 4, 5));
      await f.write(bytes(6), 0);
      await f.truncate(2);
      await f[sync]();
      await f.write(bytes(9), 2);
      expect(contentsOf(all(sim))).toEqual([
        [6, 2],
        [6, 2, 9],
      ]);
    }
  });

  test("many writes around a truncate: the moves are sampled, bounded by reorderSamples, 0 turns them off", async () => {
    const sim = SimFS.withDir("/w");
    const f = await durableFile(sim, new Uint8Array(64).fill(1));
    for (let i = 0; i < 20; i++) await f.write(bytes(2), i);
    await f.truncate(10);
    for (let i = 0; i < 20; i++) await f.write(bytes(3), 10 + i);
    const sampled = moved(all(sim, { maxImages: 100_000, reorderSamples: 6 }));
    expect(sampled.length).toBe(6);
    // Always among them: the truncate lost behind every write after it, and landed ahead of every write before it.
    expect(sampled[0]?.description).toBe(
      "/w/a: kept first 41/41 unsynced ops but op 21 (truncate to 10), lost while later writes landed, the rest lost",
    );
    expect(Array.from(sampled[0]?.fs.readFileSync("/w/a") ?? [])).toEqual([
      ...new Array<number>(10).fill(2),
      ...new Array<number>(20).fill(3),
      ...new Array<number>(34).fill(1),
    ]);
    expect(sampled[1]?.description).toBe(
      "/w/a: kept first 0/41 unsynced ops, then op 21 (truncate to 10) and ops 22-41 landed ahead of ops 1-20 (lost), the rest lost",
    );
    expect(Array.from(sampled[1]?.fs.readFileSync("/w/a") ?? [])).toEqual([
      ...new Array<number>(10).fill(1),
      ...new Array<number>(20).fill(3),
    ]);
    expect(moved(all(sim, { maxImages: 100_000, reorderSamples: 0 }))).toEqual([]);
    // Distinct states, also when sampled: no two images of this one file hold the same bytes.
    const everything = contentsOf(everyImage(sim, { maxImages: 100_000 })).map((c) => c.join(","));
    expect(new Set(everything).size).toBe(everything.length);
  });
});
