import { basename, dirname } from "node:path/posix";
import { isWalError } from "@lora/wal-codec";
import { describe, expect, test } from "vitest";
import { runFileSystemConformance } from "./file-system-conformance.js";
import { type CrashImage, SimFS } from "./sim-fs.js";

runFileSystemConformance({
  describe,
  test,
  expect,
  create: async () => {
    const fs = new SimFS();
    await fs.mkdirp("/t");
    return { fs, root: "/t", cleanup: async () => {} };
  },
});

test("SimFS reports file identities, by path and for an open file, that crash images and clones keep", async () => {
  const fs = SimFS.withDir("/w");
  const file = await fs.open("/w/a", "createExclusive");
  await file.datasync();
  await fs.syncDir("/w");
  const identity = (await fs.stat("/w/a"))?.identity;
  expect(identity).toMatch(/^sim:\d+$/);
  expect(await file.identity?.()).toBe(identity);
  expect((await fs.clone().stat("/w/a"))?.identity).toBe(identity);
  for (const image of fs.crashImages()) expect((await image.fs.stat("/w/a"))?.identity).toBe(identity);
  await file.close();
});

const bytes = (...v: number[]) => Uint8Array.from(v);
const text = (fs: SimFS, path: string) => Array.from(fs.readFileSync(path));
const all = (sim: SimFS, options?: Parameters<SimFS["crashImages"]>[0]): CrashImage[] => [...sim.crashImages(options)];
/** Contents of `path` per image: an array of byte arrays, `null` where the file does not exist. */
const contents = (images: CrashImage[], path: string) =>
  images.map((i) => (i.fs.listSync("/w").includes(path.slice(3)) ? Array.from(i.fs.readFileSync(path)) : null));

/** A SimFS with the directory /w already there (durable): these tests are about what happens inside it. */
function setup(): Promise<SimFS> {
  return Promise.resolve(SimFS.withDir("/w"));
}

/** A file created and made durable (data + entry), ready for unsynced writes. */
async function durableFile(sim: SimFS, path: string, data: Uint8Array) {
  const f = await sim.open(path, "createExclusive");
  await f.write(data, 0);
  await f.datasync();
  await sim.syncDir("/w");
  return f;
}

describe("SimFS crash images", () => {
  test("nothing unsynced: one image equal to the current state", async () => {
    const sim = await setup();
    await durableFile(sim, "/w/a", bytes(1, 2));
    const images = all(sim);
    expect(images.length).toBe(1);
    expect(images[0]?.description).toBe("no unsynced state");
    expect(text(images[0]?.fs as SimFS, "/w/a")).toEqual([1, 2]);
  });

  test("unsynced writes: dropped, kept, and every prefix", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    await f.write(bytes(2), 1);
    await f.write(bytes(3), 2);
    await f.write(bytes(4), 3);
    const images = all(sim);
    expect(images[0]?.description).toBe("[drop all unsynced] /w/a: dropped 3 unsynced ops");
    expect(images[1]?.description).toBe("[keep all] /w/a: kept all 3 unsynced ops");
    expect(contents(images.slice(0, 4), "/w/a")).toEqual([[1], [1, 2, 3, 4], [1, 2], [1, 2, 3]]);
    expect(images[2]?.description).toBe("/w/a: kept first 1/3 unsynced ops");
    // The source still shows everything and keeps its unsynced state.
    expect(text(sim, "/w/a")).toEqual([1, 2, 3, 4]);
  });

  test("a later write can land while earlier ones are lost, leaving a hole of zeros", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    await f.write(bytes(2), 1);
    await f.write(bytes(3), 2);
    await f.write(bytes(4), 3);
    const reordered = all(sim).filter((i) => i.description.includes("out of order"));
    expect(reordered.map((i) => i.description)).toEqual([
      "/w/a: kept first 0/3 unsynced ops, then op 2 (write 1 B at 2) landed out of order, the rest lost",
      "/w/a: kept first 1/3 unsynced ops, then op 3 (write 1 B at 3) landed out of order, the rest lost",
      "/w/a: kept first 0/3 unsynced ops, then op 3 (write 1 B at 3) landed out of order, the rest lost",
    ]);
    expect(contents(reordered, "/w/a")).toEqual([
      [1, 0, 3],
      [1, 2, 0, 4],
      [1, 0, 0, 4],
    ]);
  });

  test("a write never lands out of order across a truncate (the truncate moves instead)", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1, 1, 1));
    await f.write(bytes(2), 3);
    await f.truncate(2);
    await f.write(bytes(3), 2);
    await f.write(bytes(4), 3);
    const reordered = all(sim).filter((i) => i.description.includes("out of order"));
    // Only op 4 may land without op 3: both follow the truncate.
    expect(reordered.map((i) => i.description)).toEqual([
      "/w/a: kept first 2/4 unsynced ops, then op 4 (write 1 B at 3) landed out of order, the rest lost",
    ]);
    expect(contents(reordered, "/w/a")).toEqual([[1, 1, 0, 4]]);
  });

  test("many unsynced writes: reordered landings are sampled, the last write without the one before included", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    for (let i = 1; i <= 40; i++) await f.write(bytes(i), i);
    const reordered = all(sim, { maxImages: 100_000, reorderSamples: 5 }).filter((i) =>
      i.description.includes("out of order"),
    );
    expect(reordered.length).toBe(5);
    const none = all(sim, { maxImages: 100_000, reorderSamples: 0 });
    expect(none.filter((i) => i.description.includes("out of order"))).toEqual([]);
    for (const bad of [-1, 1.5, Number.NaN]) {
      expect(() => all(sim, { reorderSamples: bad })).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
      );
      expect(() => all(sim, { tornSamples: bad })).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
    }
    expect(reordered[0]?.description).toBe(
      "/w/a: kept first 38/40 unsynced ops, then op 40 (write 1 B at 40) landed out of order, the rest lost",
    );
  });

  test("datasync makes data durable: images then only vary after it", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    await f.write(bytes(2), 1);
    await f.datasync();
    await f.write(bytes(3), 2);
    expect(contents(all(sim), "/w/a")).toEqual([
      [1, 2],
      [1, 2, 3],
    ]);
    expect(text(sim.durableImage(), "/w/a")).toEqual([1, 2]);
  });

  test("truncates are unsynced operations too", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1, 2, 3));
    await f.truncate(1);
    await f.write(bytes(9), 1);
    // Then the truncate lost while the write after it landed (sim-fs.truncate-order.test.ts), and lost after zeroing
    // the rest of its block, alone or under that write (sim-fs.truncate-zeroed-tail.test.ts).
    expect(contents(all(sim), "/w/a")).toEqual([[1, 2, 3], [1, 9], [1], [1, 9, 3], [1, 0, 0], [1, 9, 0]]);
  });

  test("a write over several sectors tears at 512-byte sectors: every prefix and other subsets", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", new Uint8Array(0));
    const data = new Uint8Array(1536).fill(7); // sectors 0, 1, 2
    await f.write(data, 0);
    const images = all(sim);
    const torn = images.filter((i) => i.description.includes("torn"));
    // 2 sector prefixes ([0], [0,1]) + 4 non-prefix subsets ([1], [2], [0,2], [1,2]).
    expect(torn.length).toBe(6);
    const find = (sectors: string) => torn.find((i) => i.description.includes(`sectors [${sectors}] of 3`));
    expect(find("0")?.fs.readFileSync("/w/a").length).toBe(512);
    expect(find("0,1")?.fs.readFileSync("/w/a").length).toBe(1024);
    const gap = find("1,2")?.fs.readFileSync("/w/a") as Uint8Array;
    expect(gap.length).toBe(1536);
    expect(gap.subarray(0, 512).every((b) => b === 0)).toBe(true); // the missing sector is a hole
    expect(gap.subarray(512).every((b) => b === 7)).toBe(true);
    const mid = find("1")?.fs.readFileSync("/w/a") as Uint8Array;
    expect(mid.length).toBe(1024);
    expect(find("1")?.description).toBe(
      "/w/a: kept first 0/1 unsynced op, op 1 (write 1536 B at 0) torn: sectors [1] of 3 landed",
    );
  });

  test("a write over 4 sectors tears into every subset; over more, prefixes, the first sector lost alone and tornSamples others", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", new Uint8Array(0));
    await f.write(new Uint8Array(4 * 512).fill(7), 0);
    const torn4 = all(sim).filter((i) => i.description.includes("torn"));
    expect(torn4.length).toBe(2 ** 4 - 2); // every subset but none and all
    expect(new Set(torn4.map((i) => i.description)).size).toBe(14);
    const big = await setup();
    const g = await durableFile(big, "/w/a", new Uint8Array(0));
    await g.write(new Uint8Array(8 * 512).fill(7), 0);
    const sectorsOf = (i: CrashImage) => /sectors \[([\d,]*)\]/.exec(i.description)?.[1] ?? "";
    const torn8 = all(big).filter((i) => i.description.includes("torn"));
    const isPrefix = (list: string) => list.split(",").every((v, n) => Number(v) === n);
    expect(torn8.filter((i) => isPrefix(sectorsOf(i))).length).toBe(7);
    // The first sector lost alone (where synced pieces meet, a record split across it), then the default tornSamples.
    expect(torn8.filter((i) => !isPrefix(sectorsOf(i))).length).toBe(1 + 8);
    expect(torn8.filter((i) => sectorsOf(i) === "1,2,3,4,5,6,7")).toHaveLength(1);
    expect(all(big, { tornSamples: 3 }).filter((i) => i.description.includes("torn")).length).toBe(7 + 1 + 3);
    expect(all(big, { tornSamples: 0 }).map(sectorsOf)).toContain("1,2,3,4,5,6,7");
  });

  test("each write over 4 sectors, torn with its first sector lost, is an image on top of a sampled budget", async () => {
    // Where a writer's synced pieces meet: 100 bytes fsynced, a zero fill ahead (as a preallocating writer does), then
    // a 4 KiB piece that starts mid-sector, then a short write.
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", new Uint8Array(100).fill(1));
    await f.write(new Uint8Array(8192), 4196);
    await f.write(new Uint8Array(4096).fill(2), 100);
    await f.write(new Uint8Array(600).fill(3), 12388);
    const fill =
      "kept first 0/3 unsynced ops, op 1 (write 8192 B at 4196) torn: sectors [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16] of 17 landed";
    const piece = "kept first 1/3 unsynced ops, op 2 (write 4096 B at 100) torn: sectors [1,2,3,4,5,6,7,8] of 9 landed";
    for (const seed of [1, 2, 3, 4, 5]) {
      const images = all(sim, { maxImages: 3, seed });
      expect(images).toHaveLength(5); // three sampled (drop all and keep all among them), the two tears on top
      expect(images.filter((i) => i.description === `/w/a: ${fill}`)).toHaveLength(1);
      const tears = images.filter((i) => i.description === `/w/a: ${piece}`);
      expect(tears, `seed ${seed}`).toHaveLength(1);
      const data = (tears[0] as CrashImage).fs.readFileSync("/w/a");
      expect(data.byteLength).toBe(12388); // the fill kept, the short write lost
      expect(Array.from(data.subarray(0, 512))).toEqual([...new Array(100).fill(1), ...new Array(412).fill(0)]);
      expect(data.subarray(512, 4196).every((b) => b === 2)).toBe(true);
    }
    // With every image listed, each tear once: the draws never repeat it.
    const everything = all(sim, { maxImages: 100_000 }).map((i) => i.description);
    expect(everything.filter((d) => d.endsWith(piece))).toHaveLength(1);
  });

  test("tears respect sector alignment in the file, not in the write", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", new Uint8Array(500));
    await f.write(new Uint8Array(20).fill(5), 500); // bytes 500..519: sectors 0 and 1
    const torn = all(sim).filter((i) => i.description.includes("torn"));
    // Sectors [0] and [1] of 2: the prefix and the non-prefix subset.
    expect(torn.map((i) => i.fs.readFileSync("/w/a").length)).toEqual([512, 520]);
    const first = torn.find((i) => i.description.includes("sectors [0] of 2"))?.fs.readFileSync("/w/a");
    expect(first?.length).toBe(512);
    expect(Array.from(first?.subarray(500) ?? [])).toEqual(new Array(12).fill(5));
  });

  test("a single-sector write is atomic", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", new Uint8Array(0));
    await f.write(new Uint8Array(512).fill(1), 0);
    expect(all(sim).some((i) => i.description.includes("torn"))).toBe(false);
  });

  test("a created file without a directory fsync may vanish, even after datasync", async () => {
    const sim = await setup();
    const f = await sim.open("/w/new", "createExclusive");
    await f.write(bytes(1, 2), 0);
    await f.datasync();
    const images = all(sim);
    expect(images.map((i) => i.fs.listSync("/w"))).toEqual([[], ["new"]]);
    expect(images[0]?.description).toBe('[drop all unsynced] dir /w: create "new" lost');
    expect(text(images[1]?.fs as SimFS, "/w/new")).toEqual([1, 2]);
    await sim.syncDir("/w");
    expect(all(sim).length).toBe(1);
  });

  test("an unlinked file comes back without a directory fsync", async () => {
    const sim = await setup();
    await durableFile(sim, "/w/old", bytes(4));
    await sim.unlink("/w/old");
    const images = all(sim);
    expect(images.map((i) => i.fs.listSync("/w"))).toEqual([["old"], []]);
    expect(text(images[0]?.fs as SimFS, "/w/old")).toEqual([4]);
    expect(images[0]?.description).toBe('[drop all unsynced] dir /w: unlink "old" lost');
  });

  test("a rename is undone atomically without a directory fsync", async () => {
    const sim = await setup();
    await durableFile(sim, "/w/a.tmp", bytes(1));
    await durableFile(sim, "/w/a", bytes(0));
    await sim.rename("/w/a.tmp", "/w/a");
    const images = all(sim);
    expect(images.map((i) => i.fs.listSync("/w"))).toEqual([["a", "a.tmp"], ["a"]]);
    expect(text(images[0]?.fs as SimFS, "/w/a")).toEqual([0]);
    expect(text(images[1]?.fs as SimFS, "/w/a")).toEqual([1]);
    expect(images[1]?.description).toBe('[keep all] dir /w: rename "a.tmp" → "a" kept');
  });

  test("directory entries and file data combine; each entry op is independent", async () => {
    const sim = await setup();
    await durableFile(sim, "/w/1.wal", bytes(1));
    const f = await sim.open("/w/2.wal", "createExclusive");
    await f.write(bytes(2), 0);
    await sim.unlink("/w/1.wal");
    // file: dropped | kept (2), dir: 4 subsets of {create 2.wal, unlink 1.wal}
    const images = all(sim);
    expect(images.length).toBe(8);
    const listings = new Set(images.map((i) => i.fs.listSync("/w").join(",")));
    expect(listings).toEqual(new Set(["1.wal", "1.wal,2.wal", "2.wal", ""])); // "" = both lost: the strict model
    const both = images.find((i) => i.fs.listSync("/w").length === 0);
    expect(both?.description).toContain('create "2.wal" lost, unlink "1.wal" kept');
  });

  test("an fsync covers its own file only: another file's unsynced writes can still be lost", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    const g = await durableFile(sim, "/w/b", bytes(1));
    await f.write(bytes(2), 1);
    await g.write(bytes(2), 1);
    await f.datasync();
    await f.sync();
    expect(contents(all(sim), "/w/b")).toEqual([[1], [1, 2]]);
    expect(contents(all(sim), "/w/a")).toEqual([
      [1, 2],
      [1, 2],
    ]);
  });

  test("a directory fsync covers its own directory only", async () => {
    const sim = await setup();
    sim.mkdirpSync("/v");
    await (await sim.open("/w/a", "createExclusive")).close();
    await (await sim.open("/v/b", "createExclusive")).close();
    await sim.syncDir("/w");
    const images = all(sim);
    expect(images.map((i) => [i.fs.listSync("/w"), i.fs.listSync("/v")])).toEqual([
      [["a"], []],
      [["a"], ["b"]],
    ]);
  });

  test("a rename across directories needs both directory fsyncs: the old name may stay, the new one vanish", async () => {
    const sim = await setup();
    sim.mkdirpSync("/v");
    await durableFile(sim, "/w/a", bytes(1));
    await sim.rename("/w/a", "/v/a");
    await sim.syncDir("/v");
    // The create in /v is durable; the unlink in /w is not: the file may have two names.
    expect(all(sim).map((i) => [i.fs.listSync("/w"), i.fs.listSync("/v")])).toEqual([
      [["a"], ["a"]],
      [[], ["a"]],
    ]);
    const other = await setup();
    other.mkdirpSync("/v");
    await durableFile(other, "/w/a", bytes(1));
    await other.rename("/w/a", "/v/a");
    await other.syncDir("/w");
    expect(all(other).map((i) => [i.fs.listSync("/w"), i.fs.listSync("/v")])).toEqual([
      [[], []],
      [[], ["a"]],
    ]);
  });

  test("an unlinked file that comes back brings its unsynced writes, each choice of them", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    await f.write(bytes(2), 1);
    await sim.unlink("/w/a");
    const back = all(sim).filter((i) => i.fs.listSync("/w").includes("a"));
    expect(new Set(back.map((i) => text(i.fs, "/w/a").join(",")))).toEqual(new Set(["1", "1,2"]));
    // Created and unlinked since the last directory fsync: reachable from the pending entry operations only.
    const t = await sim.open("/w/t", "createExclusive");
    await t.write(bytes(7, 7), 0);
    await sim.unlink("/w/t");
    const seen = all(sim, { maxImages: 10_000 }).filter((i) => i.fs.listSync("/w").includes("t"));
    expect(new Set(seen.map((i) => text(i.fs, "/w/t").join(",")))).toEqual(new Set(["", "7,7"]));
  });

  test("up to 8 entry operations in a directory: every subset; beyond, each alone kept and alone lost, plus dirSamples", async () => {
    const sim = await setup();
    for (const n of ["a", "b", "c", "d"]) await (await sim.open(`/w/${n}`, "createExclusive")).close();
    const four = all(sim, { maxImages: 10_000, dirSamples: 0 }).map((i) => i.fs.listSync("/w").join(","));
    expect(new Set(four).size).toBe(16);
    const many = await setup();
    const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
    for (const n of names) await (await many.open(`/w/${n}`, "createExclusive")).close();
    const listings = (options: Parameters<SimFS["crashImages"]>[0]) =>
      new Set(all(many, { maxImages: 10_000, ...options }).map((i) => i.fs.listSync("/w").join(",")));
    const base = listings({ dirSamples: 0 });
    for (const n of names) {
      expect(base.has(n)).toBe(true);
      expect(base.has(names.filter((m) => m !== n).join(","))).toBe(true);
    }
    // none, all, 9 prefixes, 10 alone kept, 10 alone lost; two of those are prefixes too.
    expect(base.size).toBe(2 + 9 + 20 - 2);
    const sampled = listings({}).size; // 16 seeded subsets more, less those drawn twice or already listed
    expect(sampled).toBeGreaterThan(base.size + 8);
    expect(sampled).toBeLessThanOrEqual(base.size + 16);
  });

  test("sampled images draw from every choice of a file, not only the first ones", async () => {
    const sim = await setup();
    for (const name of ["a", "b"]) {
      const f = await durableFile(sim, `/w/${name}`, new Uint8Array(0));
      await f.write(new Uint8Array(8 * 512).fill(7), 0);
    }
    // Each file: dropped, kept, 7 torn prefixes, 8 other torn subsets: 17 × 17 choices, 64 sampled; then each file's
    // write with its first sector lost, one image each on top.
    const images = all(sim, { maxImages: 64 });
    expect(images.length).toBe(64 + 2);
    const partsOfA = new Set(images.map((i) => i.description.split("; ")[0]?.replace(/^\[[^\]]*\] /, "")));
    expect(partsOfA.size).toBeGreaterThan(10);
  });

  test("sampled reorderings lose more than the one write before the landing one", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    for (let i = 1; i <= 40; i++) await f.write(bytes(i), i);
    const gaps = all(sim, { maxImages: 100_000, reorderSamples: 20 })
      .map((i) => /kept first (\d+)\/40 unsynced ops, then op (\d+)/.exec(i.description))
      .filter((m) => m !== null)
      .map((m) => Number(m[2]) - 1 - Number(m[1]));
    expect(gaps.length).toBe(20);
    expect(gaps.some((g) => g > 1)).toBe(true);
  });

  test("images are independent, fully durable SimFS instances", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    await f.write(bytes(2), 1);
    const [dropped, kept] = all(sim) as [CrashImage, CrashImage];
    const g = await kept.fs.open("/w/a", "readWrite");
    await g.write(bytes(9), 0);
    expect(text(kept.fs, "/w/a")).toEqual([9, 2]);
    expect(text(sim, "/w/a")).toEqual([1, 2]);
    expect(text(dropped.fs, "/w/a")).toEqual([1]);
    expect(all(dropped.fs).length).toBe(1);
    // The image is durable: its own drop-all image keeps the content.
    expect(text(kept.fs.durableImage(), "/w/a")).toEqual([1, 2]);
  });

  test("capture happens at the call: later changes to the source do not leak into images", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    await f.write(bytes(2), 1);
    const iterable = sim.crashImages();
    await f.write(bytes(3), 2);
    await f.datasync();
    expect(contents([...iterable], "/w/a")).toEqual([[1], [1, 2]]);
    expect(contents([...iterable], "/w/a")).toEqual([[1], [1, 2]]); // re-iterable
  });

  test("maxImages bounds the count; sampling is deterministic per seed and keeps both extremes", async () => {
    const sim = await setup();
    for (const name of ["a", "b", "c"]) {
      const f = await durableFile(sim, `/w/${name}`, new Uint8Array(0));
      for (let i = 0; i < 6; i++) await f.write(new Uint8Array(700).fill(i + 1), i * 700);
    }
    const a = all(sim, { maxImages: 20, seed: 1 });
    expect(a.length).toBe(20);
    expect(a[0]?.description.startsWith("[drop all unsynced]")).toBe(true);
    expect(a[1]?.description.startsWith("[keep all]")).toBe(true);
    expect(new Set(a.map((i) => i.description)).size).toBe(20);
    const again = all(sim, { maxImages: 20, seed: 1 }).map((i) => i.description);
    expect(again).toEqual(a.map((i) => i.description));
    const other = all(sim, { maxImages: 20, seed: 2 }).map((i) => i.description);
    expect(other).not.toEqual(again);
    expect(() => all(sim, { maxImages: 1 })).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
  });

  test("exhaustive when the product fits in maxImages", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    const g = await durableFile(sim, "/w/b", bytes(1));
    await f.write(bytes(2), 1);
    await f.write(bytes(3), 2);
    await g.write(bytes(2), 1);
    const images = all(sim);
    // a: dropped, kept, first 1 kept, op 2 landed alone (out of order); b: dropped, kept.
    expect(images.length).toBe(4 * 2);
    expect(new Set(images.map((i) => i.description)).size).toBe(8);
  });

  test("clone copies the unsynced state exactly", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    await f.write(bytes(2), 1);
    await sim.open("/w/b", "createExclusive");
    const copy = sim.clone();
    const before = all(sim).map((i) => i.description);
    expect(all(copy).map((i) => i.description)).toEqual(before);
    const h = await copy.open("/w/a", "readWrite");
    await h.write(bytes(5), 0);
    expect(text(sim, "/w/a")).toEqual([1, 2]);
    expect(all(sim).map((i) => i.description)).toEqual(before); // the copy's write is not the source's to lose
  });
});

describe("SimFS faults", () => {
  const errnoOf = (e: unknown) => (e as { details?: { errno?: string } }).details?.errno;

  test("an injected fault throws exactly what the Node seam throws", async () => {
    const sim = await setup();
    sim.injectFault({ op: "open", errno: "EACCES" });
    const err = await sim.open("/w/a", "createExclusive").catch((e: unknown) => e);
    expect(isWalError(err, "WAL_IO")).toBe(true);
    const e = err as { details: unknown; cause: { code: string; syscall: string; message: string } };
    expect(e.details).toEqual({ errno: "EACCES", syscall: "open", path: "/w/a" });
    expect(e.cause.code).toBe("EACCES");
    expect(e.cause.message).toBe("EACCES: permission denied, open '/w/a'");
    expect(sim.listSync("/w")).toEqual([]);
    await sim.open("/w/a", "createExclusive"); // once: the next one passes
  });

  test("fsyncgate: after a failed datasync the lost data never becomes durable, reads still show it", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    await f.write(bytes(2), 1);
    sim.injectFault({ op: "datasync", errno: "EIO" });
    expect(errnoOf(await f.datasync().catch((e: unknown) => e))).toBe("EIO");
    expect(text(sim, "/w/a")).toEqual([1, 2]);
    expect(contents(all(sim), "/w/a")).toEqual([[1]]);
    await f.write(bytes(3), 2);
    await f.datasync(); // the next sync succeeds
    expect(text(sim, "/w/a")).toEqual([1, 2, 3]);
    const images = all(sim);
    expect(images.length).toBe(1);
    // Byte 1 was lost with the failed sync; byte 2 became durable over a hole.
    expect(text(images[0]?.fs as SimFS, "/w/a")).toEqual([1, 0, 3]);
    await f.write(bytes(4), 3);
    for (const image of all(sim)) expect(text(image.fs, "/w/a")[1]).toBe(0);
  });

  test("ENOSPC on write: nothing lands", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    sim.injectFault({ op: "write", errno: "ENOSPC" });
    expect(errnoOf(await f.write(bytes(2, 3), 1).catch((e: unknown) => e))).toBe("ENOSPC");
    expect(text(sim, "/w/a")).toEqual([1]);
    expect(all(sim).length).toBe(1);
  });

  test("partialBytes: a prefix lands, then the write fails", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", new Uint8Array(0));
    sim.injectFault({ op: "write", errno: "ENOSPC", partialBytes: 3 });
    await expect(f.write(bytes(1, 2, 3, 4, 5), 0)).rejects.toThrow(/ENOSPC/);
    expect(text(sim, "/w/a")).toEqual([1, 2, 3]);
    expect(sim.stats.bytesWritten).toBe(3);
  });

  test("once by default, persistent on request, skip lets matching ops pass, path filters", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    const g = await durableFile(sim, "/w/b", bytes(1));
    const once = sim.injectFault({ op: "sync", errno: "EIO", path: "/w/b", skip: 1 });
    await f.sync(); // other path
    await g.sync(); // skipped
    await expect(g.sync()).rejects.toThrow(/EIO/);
    await g.sync();
    expect(once.hits).toBe(1);
    expect(once.active).toBe(false);
    const persistent = sim.injectFault({ op: "read", errno: "EIO", path: /\/a$/, persistent: true });
    const buf = new Uint8Array(1);
    await expect(f.read(buf, 0, 1, 0)).rejects.toThrow(/EIO/);
    await expect(f.read(buf, 0, 1, 0)).rejects.toThrow(/EIO/);
    expect(await g.read(buf, 0, 1, 0)).toBe(1);
    expect(persistent.hits).toBe(2);
    persistent.remove();
    expect(await f.read(buf, 0, 1, 0)).toBe(1);
    expect(sim.stats.faults).toBe(3);
  });

  test("a close fault fails the close after the handle is released, as close(2) frees the descriptor on EIO", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1));
    const fault = sim.injectFault({ op: "close", errno: "EIO", path: "/w/a" });
    const err = await f.close().catch((e: unknown) => e);
    expect(isWalError(err, "WAL_IO")).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ errno: "EIO", syscall: "close", path: "/w/a" });
    expect(fault.hits).toBe(1);
    // Released all the same: counted closed, further calls on it are EBADF, a second close is a no-op.
    expect(sim.stats.opens - sim.stats.closes).toBe(0);
    await expect(f.read(new Uint8Array(1), 0, 1, 0)).rejects.toThrow(/EBADF/);
    await f.close();
    expect(text(sim, "/w/a")).toEqual([1]);
  });

  test("syncDir, rename, unlink and truncate faults change nothing", async () => {
    const sim = await setup();
    const f = await durableFile(sim, "/w/a", bytes(1, 2));
    await sim.open("/w/b", "createExclusive");
    sim.injectFault({ op: "syncDir", errno: "EIO" });
    sim.injectFault({ op: "rename", errno: "EIO" });
    sim.injectFault({ op: "unlink", errno: "EIO" });
    sim.injectFault({ op: "truncate", errno: "EIO" });
    await expect(sim.syncDir("/w")).rejects.toThrow(/EIO/);
    await expect(sim.rename("/w/a", "/w/c")).rejects.toThrow(/EIO/);
    await expect(sim.unlink("/w/a")).rejects.toThrow(/EIO/);
    await expect(f.truncate(0)).rejects.toThrow(/EIO/);
    expect(sim.listSync("/w")).toEqual(["a", "b"]);
    expect(text(sim, "/w/a")).toEqual([1, 2]);
    expect(all(sim).length).toBe(2); // the create of b is still unsynced
  });
});

describe("SimFS directories", () => {
  /** Names in `dir` per image, `null` where `dir` itself is missing. */
  const exists = (fs: SimFS, dir: string): boolean =>
    dir === "/" || (exists(fs, dirname(dir)) && fs.listSync(dirname(dir)).includes(basename(dir)));
  const listings = (images: CrashImage[], dir: string) =>
    images.map((i) => (exists(i.fs, dir) ? i.fs.listSync(dir) : null));

  /** `/a/b/c/f` holding [1, 2], data and entry fsynced, in directories mkdirp made and nothing else synced. */
  async function fileInNewDirs(): Promise<SimFS> {
    const sim = new SimFS();
    await sim.mkdirp("/a/b/c");
    const f = await sim.open("/a/b/c/f", "createExclusive");
    await f.write(bytes(1, 2), 0);
    await f.datasync();
    await sim.syncDir("/a/b/c");
    return sim;
  }

  test("each level mkdirp creates is an entry of its parent: lost, with its durable file, until that parent is synced", async () => {
    const sim = await fileInNewDirs();
    const images = all(sim);
    // Three directories, each one entry kept or lost: 8 images; the file survives in the one keeping all three.
    expect(images.length).toBe(8);
    expect(images[0]?.description).toBe(
      '[drop all unsynced] dir /: mkdir "a" lost; dir /a: mkdir "b" lost; dir /a/b: mkdir "c" lost',
    );
    expect(images[0]?.fs.listSync("/")).toEqual([]);
    const withFile = images.filter((i) => listings([i], "/a/b/c")[0]?.includes("f") === true);
    expect(withFile.map((i) => i.description)).toEqual([
      '[keep all] dir /: mkdir "a" kept; dir /a: mkdir "b" kept; dir /a/b: mkdir "c" kept',
    ]);
    expect(text(withFile[0]?.fs as SimFS, "/a/b/c/f")).toEqual([1, 2]);
    // "b" kept in a lost "a" is lost with it.
    const bKeptALost = images.find(
      (i) => i.description === 'dir /: mkdir "a" lost; dir /a: mkdir "b" kept; dir /a/b: mkdir "c" kept',
    );
    expect(bKeptALost?.fs.listSync("/")).toEqual([]);
    expect(sim.durableImage().listSync("/")).toEqual([]);

    // Syncing the parents from below up to the root: only then does every image hold the file.
    await sim.syncDir("/a/b");
    await sim.syncDir("/a");
    expect(listings(all(sim), "/a/b/c")).toEqual([null, ["f"]]);
    await sim.syncDir("/");
    const durable = all(sim);
    expect(durable.map((i) => i.description)).toEqual(["no unsynced state"]);
    expect(text(durable[0]?.fs as SimFS, "/a/b/c/f")).toEqual([1, 2]);
    expect(text(sim.durableImage(), "/a/b/c/f")).toEqual([1, 2]);
  });

  test("syncDir of the new directory itself does not make its own entry durable", async () => {
    const sim = SimFS.withDir("/w");
    await sim.mkdirp("/w/d");
    await sim.syncDir("/w/d");
    expect(listings(all(sim), "/w/d")).toEqual([null, []]);
    await sim.syncDir("/w");
    expect(listings(all(sim), "/w/d")).toEqual([[]]);
  });

  test("link: the new name is lost by a crash until its directory is synced; kept, it names the file's durable bytes", async () => {
    const sim = await setup();
    const f = await sim.open("/w/tmp", "createExclusive");
    await f.write(bytes(1, 2, 3), 0);
    await f.sync();
    await f.close();
    await sim.link("/w/tmp", "/w/name");
    await sim.unlink("/w/tmp");
    expect(sim.listSync("/w")).toEqual(["name"]);
    expect(sim.stats.links).toBe(1);
    const images = all(sim);
    expect(images[0]?.description).toBe(
      '[drop all unsynced] dir /w: create "tmp" lost, create "name" (linked from /w/tmp) lost, unlink "tmp" lost',
    );
    // Every subset of the three entry operations; wherever the link is kept, the name holds the fsynced bytes whole.
    expect(images).toHaveLength(8);
    const withName = images.filter((i) => i.fs.listSync("/w").includes("name"));
    expect(withName).toHaveLength(4);
    for (const image of withName) expect(text(image.fs, "/w/name"), image.description).toEqual([1, 2, 3]);
    // The two names of one inode stay one file in an image: a write through one shows through the other.
    const both = images.find((i) => i.fs.listSync("/w").join() === "name,tmp")?.fs;
    if (both === undefined) throw new Error("no image keeps both names");
    const g = await both.open("/w/tmp", "readWrite");
    await g.write(bytes(9), 0);
    expect(text(both, "/w/name")).toEqual([9, 2, 3]);
    await sim.syncDir("/w");
    expect(all(sim).map((i) => i.fs.listSync("/w"))).toEqual([["name"]]);
  });

  test("rename between two links of one file is a no-op: no name removed, no entry operation for a crash to land", async () => {
    const sim = await setup();
    await durableFile(sim, "/w/a", bytes(4, 5));
    await sim.link("/w/a", "/w/b");
    await sim.syncDir("/w");
    await sim.rename("/w/a", "/w/b");
    expect(sim.stats.renames).toBe(1);
    expect(sim.listSync("/w")).toEqual(["a", "b"]);
    const images = all(sim);
    expect(images.map((i) => i.description)).toEqual(["no unsynced state"]);
    expect(images[0]?.fs.listSync("/w")).toEqual(["a", "b"]);
  });

  test("link: EEXIST over a file or a directory, ENOENT from a missing file, EPERM from a directory; faults", async () => {
    const sim = await setup();
    await durableFile(sim, "/w/a", bytes(1));
    await durableFile(sim, "/w/b", bytes(2));
    await sim.mkdirp("/w/d");
    await expect(sim.link("/w/a", "/w/b")).rejects.toThrow(/EEXIST/);
    await expect(sim.link("/w/a", "/w/d")).rejects.toThrow(/EEXIST/);
    await expect(sim.link("/w/missing", "/w/c")).rejects.toThrow(/ENOENT/);
    await expect(sim.link("/w/d", "/w/c")).rejects.toThrow(/EPERM/);
    const fault = sim.injectFault({ op: "link", path: "/w/c", errno: "EIO" });
    await expect(sim.link("/w/a", "/w/c")).rejects.toThrow(/EIO/);
    expect(fault.hits).toBe(1);
    expect(text(sim, "/w/b")).toEqual([2]);
    expect(sim.listSync("/w")).toEqual(["a", "b", "d"]);
    await sim.link("/w/a", "/w/c");
    expect(text(sim, "/w/c")).toEqual([1]);
  });

  test("rmdir is undone by a crash until the parent is synced; the directory comes back with what it durably held", async () => {
    const sim = SimFS.withDir("/w");
    await sim.mkdirp("/w/d");
    await sim.syncDir("/w");
    const f = await sim.open("/w/d/f", "createExclusive");
    await f.write(bytes(7), 0);
    await f.datasync();
    await sim.syncDir("/w/d");
    await sim.unlink("/w/d/f");
    await sim.rmdir("/w/d");
    expect(sim.listSync("/w")).toEqual([]);
    const images = all(sim);
    expect(images[0]?.description).toBe(
      '[drop all unsynced] dir /w: rmdir "d" lost; dir /w/d (removed): unlink "f" lost',
    );
    expect(new Set(listings(images, "/w/d").map((l) => JSON.stringify(l)))).toEqual(new Set(["null", "[]", '["f"]']));
    expect(text(images[0]?.fs as SimFS, "/w/d/f")).toEqual([7]);
    await sim.syncDir("/w");
    expect(listings(all(sim), "/w/d")).toEqual([null]);
  });

  test("a directory removed and made again is another directory: an image holds the old one or the new one", async () => {
    const sim = SimFS.withDir("/w");
    await sim.mkdirp("/w/d");
    await sim.syncDir("/w");
    await (await sim.open("/w/d/old", "createExclusive")).close();
    await sim.syncDir("/w/d");
    await sim.unlink("/w/d/old");
    await sim.rmdir("/w/d");
    await sim.mkdirp("/w/d");
    await (await sim.open("/w/d/new", "createExclusive")).close();
    await sim.syncDir("/w/d");
    // Old /w/d: unlink kept or lost; /w: every subset of {rmdir d, mkdir d}.
    const seen = new Set(listings(all(sim), "/w/d").map((l) => JSON.stringify(l)));
    expect(seen).toEqual(new Set(['["old"]', "[]", "null", '["new"]']));
    const copy = sim.clone();
    expect(all(copy).map((i) => i.description)).toEqual(all(sim).map((i) => i.description));
    await sim.syncDir("/w");
    expect(listings(all(sim), "/w/d")).toEqual([["new"]]);
  });

  test("a fault changes nothing; a failed syncDir makes nothing durable", async () => {
    const sim = SimFS.withDir("/w");
    await sim.mkdirp("/w/gone");
    await sim.mkdirp("/w/kept");
    await sim.syncDir("/w");
    const fault = sim.injectFault({ op: "rmdir", errno: "EIO" });
    await expect(sim.rmdir("/w/kept")).rejects.toThrow(/EIO/);
    expect(fault.hits).toBe(1);
    await sim.rmdir("/w/gone");
    expect(sim.listSync("/w")).toEqual(["kept"]);
    expect(sim.stats.rmdirs).toBe(2);
    sim.injectFault({ op: "syncDir", errno: "EIO" });
    await expect(sim.syncDir("/w")).rejects.toThrow(/EIO/);
    expect(all(sim).map((i) => i.fs.listSync("/w"))).toEqual([["gone", "kept"], ["kept"]]);
  });

  test("many new directories in one directory follow the entry limits: dirSamples beyond 8", async () => {
    const sim = SimFS.withDir("/w");
    const names = Array.from({ length: 10 }, (_, i) => `d${i}`);
    for (const n of names) await sim.mkdirp(`/w/${n}/inner`);
    // /w: 10 mkdirs (none, all, 9 prefixes, 10 alone kept, 10 alone lost, less 2 counted twice) x 2^10 inner mkdirs.
    const ofW = (options: Parameters<SimFS["crashImages"]>[0]) =>
      new Set(all(sim, { maxImages: 100_000, ...options }).map((i) => i.fs.listSync("/w").join(",")));
    expect(ofW({ dirSamples: 0, maxImages: 2 })).toEqual(new Set(["", names.join(",")]));
    expect(ofW({ dirSamples: 0, seed: 3, maxImages: 4000 }).size).toBe(2 + 9 + 20 - 2);
  });

  test("sampled images are distinct states: choices under a lost directory do not spend the budget", async () => {
    const sim = SimFS.withDir("/w");
    await sim.mkdirp("/w/a/b/c/d/e/f");
    const file = await sim.open("/w/a/b/c/d/e/f/x", "createExclusive");
    for (let i = 0; i < 6; i++) await file.write(new Uint8Array(100).fill(i + 1), i * 100);
    /** Every directory and file of an image, with the files' bytes. */
    const stateOf = (fs: SimFS, path = "/"): string[] =>
      fs.listSync(path).flatMap((name) => {
        const child = path === "/" ? `/${name}` : `${path}/${name}`;
        try {
          return [`${child}/`, ...stateOf(fs, child)];
        } catch {
          return [`${child}=${Array.from(fs.readFileSync(child)).join(",")}`];
        }
      });
    // The product (2^6 directory choices x the file's, its entry's) is sampled; most of it is "/w/a lost".
    const images = all(sim, { maxImages: 256 });
    const states = images.map((i) => stateOf(i.fs).join(" "));
    expect(new Set(states).size).toBe(images.length);
    // Images with the file, each with other bytes: 4 of 256 images before (11 distinct states in all).
    expect(states.filter((state) => state.includes("/x=")).length).toBeGreaterThanOrEqual(10);
  });

  test("refuses a directory whose file was created, even unsynced, and the root", async () => {
    const sim = SimFS.withDir("/w");
    await (await sim.open("/w/f", "createExclusive")).close();
    await expect(sim.rmdir("/w")).rejects.toThrow(/ENOTEMPTY/);
    await expect(sim.rmdir("/")).rejects.toThrow(/EBUSY/);
    expect(sim.listSync("/w")).toEqual(["f"]);
  });

  test("withDir, mkdirpSync and writeFileSync make their directories durable at once: directories that were there", async () => {
    const sim = SimFS.withDir("/p/q");
    sim.mkdirpSync("/r/s");
    sim.writeFileSync("/t/u/f", bytes(1));
    sim.writeFileSync("/v/g", bytes(2), { durable: false });
    await sim.mkdirp("/x/y");
    sim.mkdirpSync("/x/y"); // an existing directory made by mkdirp becomes durable too
    const images = all(sim);
    expect(images.length).toBe(4); // only the unsynced file /v/g varies: its data and its entry
    for (const image of images) {
      expect(image.fs.listSync("/")).toEqual(["p", "r", "t", "v", "x"]);
      expect(image.fs.listSync("/x")).toEqual(["y"]);
      expect(text(image.fs, "/t/u/f")).toEqual([1]);
    }
  });

  test("mkdirpSync of a directory made again after an rmdir makes it durable: no image takes it away", async () => {
    const sim = SimFS.withDir("/w");
    await sim.mkdirp("/w/d");
    await sim.syncDir("/w");
    await sim.rmdir("/w/d");
    await sim.mkdirp("/w/d");
    sim.mkdirpSync("/w/d");
    sim.writeFileSync("/w/d/f", bytes(1));
    // Made anew by mkdirpSync where an unsynced mkdirp + rmdir left only pending entry operations.
    await sim.mkdirp("/w/e");
    await sim.rmdir("/w/e");
    sim.mkdirpSync("/w/e");
    const images = all(sim);
    expect(images.map((i) => [i.description, i.fs.listSync("/w")])).toEqual([["no unsynced state", ["d", "e"]]]);
    expect(text(images[0]?.fs as SimFS, "/w/d/f")).toEqual([1]);
  });
});

describe("SimFS observation, locks and conveniences", () => {
  test("withDir makes the directory and its parents, empty, without counting", async () => {
    const sim = SimFS.withDir("/a/b");
    expect(sim.listSync("/a/b")).toEqual([]);
    expect(sim.listSync("/a")).toEqual(["b"]);
    expect(sim.stats.mkdirs).toBe(0);
    expect(sim.seq).toBe(0);
    await (await sim.open("/a/b/f", "createExclusive")).close();
    expect(sim.listSync("/a/b")).toEqual(["f"]);
  });

  test("stats count calls and bytes", async () => {
    const sim = await setup();
    const f = await sim.open("/w/a", "createExclusive");
    await f.write(bytes(1, 2, 3), 0);
    await f.write(bytes(4), 3);
    await f.datasync();
    await f.sync();
    await sim.syncDir("/w");
    await f.read(new Uint8Array(10), 0, 10, 0);
    await f.close();
    expect(sim.stats).toMatchObject({
      opens: 1,
      writes: 2,
      bytesWritten: 4,
      datasyncs: 1,
      syncs: 1,
      dirSyncs: 1,
      reads: 1,
      bytesRead: 4,
      closes: 1,
      faults: 0,
    });
  });

  test("onOperation reports every mutation synchronously, so images can be taken at each step", async () => {
    const sim = await setup();
    const seen: string[] = [];
    const counts: number[] = [];
    const off = sim.onOperation((e) => {
      seen.push(`${e.seq}:${e.op}:${e.path}${e.failed ? ":failed" : ""}`);
      counts.push([...sim.crashImages()].length);
    });
    const f = await sim.open("/w/a", "createExclusive");
    await f.write(bytes(1), 0);
    await f.datasync();
    await sim.syncDir("/w");
    sim.injectFault({ op: "write", errno: "EIO" });
    await f.write(bytes(2), 1).catch(() => {});
    await f.read(new Uint8Array(1), 0, 1, 0); // not a mutation
    off();
    await f.write(bytes(3), 2);
    expect(seen).toEqual(["1:open:/w/a", "2:write:/w/a", "3:datasync:/w/a", "4:syncDir:/w", "5:write:/w/a:failed"]);
    expect(counts).toEqual([2, 4, 2, 1, 1]);
    expect(sim.seq).toBe(6);
  });

  test("tryLock is exclusive per instance until released", () => {
    const sim = new SimFS();
    const release = sim.tryLock("/w/.lora-wal.lock");
    expect(release).not.toBe(null);
    expect(sim.tryLock("/w/.lora-wal.lock")).toBe(null);
    expect(new SimFS().tryLock("/w/.lora-wal.lock")).not.toBe(null);
    release?.();
    release?.();
    const again = sim.tryLock("/w/./.lora-wal.lock");
    expect(again).not.toBe(null);
    expect(sim.clone().tryLock("/w/.lora-wal.lock")).not.toBe(null);
  });

  test("writeFileSync durable and volatile, readFileSync, listSync", () => {
    const sim = new SimFS();
    sim.writeFileSync("/d/a", bytes(1, 2));
    expect(sim.listSync("/d")).toEqual(["a"]);
    expect(all(sim).length).toBe(1);
    sim.writeFileSync("/d/b", bytes(3), { durable: false });
    expect(text(sim, "/d/b")).toEqual([3]);
    expect(all(sim).map((i) => i.fs.listSync("/d"))).toEqual([["a"], ["a", "b"], ["a"], ["a", "b"]]);
    sim.writeFileSync("/d/a", bytes(9)); // damage injection on a durable file
    expect(text(sim.durableImage(), "/d/a")).toEqual([9]);
    expect(() => sim.readFileSync("/d/missing")).toThrow(/ENOENT/);
    expect(() => sim.listSync("/nope")).toThrow(/ENOENT/);
    sim.writeFileSync("/d/c", bytes(4, 4, 4), { durable: false });
    sim.writeFileSync("/d/c", bytes(5), { durable: false }); // replaces: no tail of the longer content stays
    expect(text(sim, "/d/c")).toEqual([5]);
  });

  test("paths are normalised", async () => {
    const sim = await setup();
    const f = await sim.open("/w/../w/./a", "createExclusive");
    expect(f.path).toBe("/w/a");
    expect(sim.listSync("/w/")).toEqual(["a"]);
  });
});
