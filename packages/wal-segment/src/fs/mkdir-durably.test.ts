/**
 * `mkdirDurably`: a directory it creates, or finds whose entry an earlier killed call never made durable, is in
 * every state a power loss can leave; its parent's fsync fails the call unless the errno says it cannot be done.
 */

import { describe, expect, it } from "vitest";
import { SimFS } from "../testing/sim-fs.js";
import { mkdirDurably } from "./mkdir-durably.js";

/** The descriptions of the crash images of `sim` that lack directory `path`. */
async function imagesWithout(sim: SimFS, path: string): Promise<string[]> {
  const lacking: string[] = [];
  for (const image of sim.crashImages({ maxImages: 64, seed: 31 })) {
    if ((await image.fs.stat(path)) === null) lacking.push(image.description);
  }
  return lacking;
}

/** The directories `syncDir` is called on while `run` runs. */
async function syncedDirs(sim: SimFS, run: () => Promise<unknown>): Promise<string[]> {
  const synced: string[] = [];
  const off = sim.onOperation((e) => {
    if (e.op === "syncDir") synced.push(e.path);
  });
  try {
    await run();
  } finally {
    off();
  }
  return synced;
}

describe("mkdirDurably", () => {
  it("creates the missing levels, names them outermost first, and each survives power loss", async () => {
    const sim = SimFS.withDir("/data");
    let created: string[] = [];
    const synced = await syncedDirs(sim, async () => {
      created = await mkdirDurably(sim, "/data/a/b");
    });
    expect(created).toEqual(["/data/a", "/data/a/b"]);
    expect(synced).toEqual(["/data", "/data/a", "/"]);
    expect(await imagesWithout(sim, "/data/a/b")).toEqual([]);
  });

  it("makes durable an existing directory an earlier call left unsynced, and creates nothing", async () => {
    const sim = SimFS.withDir("/data");
    await sim.mkdirp("/data/a/b"); // the killed call's mkdirp: in the page cache only
    expect((await imagesWithout(sim, "/data/a/b")).length).toBeGreaterThan(0);
    expect(await mkdirDurably(sim, "/data/a/b")).toEqual([]);
    expect(await imagesWithout(sim, "/data/a/b")).toEqual([]);
  });

  it("skips a parent that cannot be fsynced, fails on any other errno, and ignores failures further up", async () => {
    const skipped = SimFS.withDir("/data/a");
    skipped.injectFault({ op: "syncDir", path: "/data", errno: "EACCES" });
    await expect(mkdirDurably(skipped, "/data/a")).resolves.toEqual([]);

    const failing = SimFS.withDir("/data/a");
    failing.injectFault({ op: "syncDir", path: "/data", errno: "EIO" });
    await expect(mkdirDurably(failing, "/data/a")).rejects.toMatchObject({ code: "WAL_IO" });

    const above = SimFS.withDir("/data/a");
    above.injectFault({ op: "syncDir", path: "/", errno: "EIO" });
    await expect(mkdirDurably(above, "/data/a")).resolves.toEqual([]);
  });

  it("does nothing for the root", async () => {
    const sim = new SimFS();
    expect(await syncedDirs(sim, () => mkdirDurably(sim, "/"))).toEqual([]);
  });
});
