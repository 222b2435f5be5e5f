/**
 * `fsArchive` puts an object into a key directory that exists but whose entry may not be on disk yet (an earlier put
 * killed between its `mkdirp` and the parent's fsync): once the put has resolved, every state a power loss can leave
 * holds the object.
 */

import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { fsArchive } from "./fs-archive.js";

it("every crash image after a put into a key directory made unsynced holds the object", async () => {
  const sim = SimFS.withDir("/backup");
  await sim.mkdirp("/backup/archive/a/b"); // the killed put's mkdirp, archive root included: not on disk
  const store = fsArchive("/backup/archive", { fs: sim });
  await store.put("a/b/obj", Uint8Array.of(1, 2, 3));
  const missing: string[] = [];
  for (const image of sim.crashImages({ maxImages: 64, seed: 30 })) {
    const got = await fsArchive("/backup/archive", { fs: image.fs }).get("a/b/obj");
    if (got === null || got.length !== 3) missing.push(image.description);
  }
  expect(missing).toEqual([]);
});

it("the existing key directory's parent is fsynced once per store; a parent that cannot be fsynced is skipped", async () => {
  const sim = SimFS.withDir("/backup/archive/k");
  const store = fsArchive("/backup/archive", { fs: sim });
  const synced: string[] = [];
  const off = sim.onOperation((e) => {
    if (e.op === "syncDir") synced.push(e.path);
  });
  await store.put("k/1", Uint8Array.of(1));
  await store.put("k/2", Uint8Array.of(2));
  off();
  expect(synced).toEqual(["/backup/archive", "/backup", "/", "/backup/archive/k", "/backup/archive/k"]);
  // EACCES on the parent (not ours to fsync) is skipped; EIO fails the put, and the next put fsyncs again.
  const other = SimFS.withDir("/backup/archive/k");
  const second = fsArchive("/backup/archive", { fs: other });
  other.injectFault({ op: "syncDir", path: "/backup/archive", errno: "EACCES" });
  await second.put("k/1", Uint8Array.of(1));
  const third = fsArchive("/backup/archive", { fs: other });
  other.injectFault({ op: "syncDir", path: "/backup/archive", errno: "EIO" });
  await expect(third.put("k/2", Uint8Array.of(2))).rejects.toMatchObject({ code: "WAL_IO" });
  await third.put("k/2", Uint8Array.of(2));
  expect(other.stats.faults).toBe(2);
});

it("a key directory removed under the store is made again, durably, by a later put there", async () => {
  const sim = SimFS.withDir("/backup/archive");
  const store = fsArchive("/backup/archive", { fs: sim });
  await store.put("k/1", Uint8Array.of(1));
  // Someone cleans the key directory away; the store made it durable once and remembers that.
  await sim.unlink("/backup/archive/k/1");
  await sim.rmdir("/backup/archive/k");
  // The put that finds it gone may fail (ENOENT); the one after it must not.
  let puts = 0;
  for (let ok = false; !ok && puts < 2; puts++) {
    ok = await store.put("k/2", Uint8Array.of(2)).then(
      () => true,
      () => false,
    );
  }
  expect(await fsArchive("/backup/archive", { fs: sim.durableImage() }).get("k/2")).toEqual(Uint8Array.of(2));
});
