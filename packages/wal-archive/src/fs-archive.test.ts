import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { eventLoopTurnsDuring, makeTempDir } from "@lora/test-utils";
import { crc32, isWalError } from "@lora/wal-codec";
import { SimFS, type SimOperationEvent, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, test } from "vitest";
import { CRC_SLICE_BYTES } from "./crc32-in-slices.js";
import { type FsArchive, fsArchive } from "./fs-archive.js";
import { restore } from "./restore.js";
import { runArchiveStoreConformance } from "./testing/archive-store-conformance.js";

runArchiveStoreConformance({
  describe,
  test,
  expect,
  label: "fsArchive, real directory",
  create: async () => {
    const tmp = await makeTempDir("wal-archive-fs");
    return { store: fsArchive(join(tmp.path, "archive")), cleanup: tmp.cleanup };
  },
});

runArchiveStoreConformance({
  describe,
  test,
  expect,
  label: "fsArchive on SimFS",
  create: () => Promise.resolve({ store: fsArchive("/archive", { fs: new SimFS() }), cleanup: async () => {} }),
});

const pattern = (n: number, salt: number) => Uint8Array.from({ length: n }, (_, i) => (i * 29 + salt) & 0xff);

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to reject");
}

describe("fsArchive", () => {
  test("its name is fs:<dir>, the directory resolved", () => {
    expect(fsArchive("/mnt/backup/wal", { fs: new SimFS() }).name).toBe("fs:/mnt/backup/wal");
    expect(fsArchive("/mnt/backup/wal/", { fs: new SimFS() }).dir).toBe("/mnt/backup/wal");
    expect(() => fsArchive("")).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
  });

  test("objects are files under the directory; list ignores temporary files, stray names and other files", async () => {
    const tmp = await makeTempDir("wal-archive-fs");
    try {
      const dir = join(tmp.path, "archive");
      const store = fsArchive(dir);
      await store.put("segments/a.wal", pattern(10, 1));
      expect(await readdir(join(dir, "segments"))).toEqual(["a.wal"]);
      // What a crashed put leaves, and files that are not valid keys.
      await writeFile(join(dir, "segments", "b.wal.tmp-0123456789ab"), pattern(5, 2));
      await writeFile(join(dir, "segments", "not a key"), pattern(5, 3));
      await mkdir(join(dir, "empty-dir"));
      expect(await store.list()).toEqual([{ key: "segments/a.wal", size: 10 }]);
      expect(await store.get("segments/b.wal")).toBe(null);
      // The temporary-file pattern is reserved: such keys are refused rather than silently unlisted.
      for (const call of [
        store.put("segments/b.wal.tmp-0123456789ab", pattern(1, 1)),
        store.get("segments/b.wal.tmp-0123456789ab"),
        store.delete("x.tmp-1"),
      ]) {
        expect(isWalError(await failure(call), "WAL_INVALID_ARGUMENT")).toBe(true);
      }
      expect(await store.list("missing/")).toEqual([]);
      expect(await fsArchive(join(tmp.path, "never-created")).list()).toEqual([]);
      expect(await fsArchive(join(tmp.path, "never-created")).get("a")).toBe(null);
    } finally {
      await tmp.cleanup();
    }
  });

  test("an archive directory that is a file is refused by list, not listed as an empty archive", async () => {
    const tmp = await makeTempDir("wal-archive-fs");
    try {
      const file = join(tmp.path, "a-file");
      await writeFile(file, pattern(3, 1));
      for (const [dir, prefix] of [
        [file, ""],
        [file, "segments/"],
        [join(file, "archive"), ""],
      ] as const) {
        const error = await failure(fsArchive(dir).list(prefix));
        expect(isWalError(error, "WAL_IO"), `${dir} ${prefix}`).toBe(true);
        expect((error as { details: { errno?: string } }).details.errno).toBe("ENOTDIR");
        expect((error as Error).message).toContain(prefix === "" ? ": list failed: " : `: list ${prefix} failed: `);
      }
      // A key prefix under an object (a file where the prefix needs a directory) is still nothing under it.
      const store = fsArchive(join(tmp.path, "archive"));
      await store.put("segments", pattern(2, 2));
      expect(await store.list("segments/x/")).toEqual([]);
    } finally {
      await tmp.cleanup();
    }
  });

  test("an archive directory under a file is refused by every list, with or without a key prefix", async () => {
    const tmp = await makeTempDir("wal-archive-fs");
    try {
      const file = join(tmp.path, "a-file");
      await writeFile(file, pattern(3, 1));
      const stores = [fsArchive(join(file, "archive")), fsArchive(join(file, "a", "b"))];
      for (const store of stores) {
        // segments/ and partial/ are what listArchive, verifyArchive and restore list.
        for (const prefix of ["", "segments/", "partial/", "segments/0000000001"]) {
          const error = await failure(store.list(prefix));
          expect(isWalError(error, "WAL_IO"), `${store.dir} ${prefix}`).toBe(true);
          expect((error as { details: { errno?: string } }).details.errno, `${store.dir} ${prefix}`).toBe("ENOTDIR");
        }
      }
      // A restore from such a path names the wrong path, not an archive that falls short of its target.
      const restoreError = await failure(restore({ store: stores[0] as FsArchive, dir: join(tmp.path, "restored") }));
      expect(isWalError(restoreError, "WAL_IO"), String(restoreError)).toBe(true);
      expect((restoreError as { details: { errno?: string } }).details.errno).toBe("ENOTDIR");
    } finally {
      await tmp.cleanup();
    }
  });

  test("on SimFS too, an archive directory under a file is refused by a list with a key prefix", async () => {
    const sim = new SimFS();
    sim.writeFileSync("/backups/wal.tar", pattern(3, 1), { durable: true });
    for (const prefix of ["", "segments/", "partial/"]) {
      const error = await failure(fsArchive("/backups/wal.tar/archive", { fs: sim }).list(prefix));
      expect(isWalError(error, "WAL_IO"), prefix).toBe(true);
      expect((error as { details: { errno?: string } }).details.errno, prefix).toBe("ENOTDIR");
    }
    // A root that may be searched but not read, with a key prefix under an object: still nothing under it.
    const store = fsArchive("/searchable", { fs: sim });
    await store.put("segments", pattern(2, 2));
    sim.injectFault({ op: "readdir", path: "/searchable", errno: "EACCES", persistent: true });
    expect(await store.list("segments/x/")).toEqual([]);
    // Not there yet (nothing on the way is a file) still lists as empty, with or without a prefix.
    expect(await fsArchive("/backups/later", { fs: sim }).list("segments/")).toEqual([]);
    expect(await fsArchive("/elsewhere/later", { fs: sim }).list("partial/")).toEqual([]);
  });

  test("an archive directory removed while a list with a key prefix under an object runs lists as empty", async () => {
    const sim = new SimFS();
    const store = fsArchive("/archive", { fs: sim });
    await store.put("segments", pattern(2, 2));
    // The walk meets the object where the prefix needs a directory (ENOTDIR); the archive is removed before the
    // list looks at what the archive directory is: not there (yet) is an empty archive, not a wrong path.
    const racing = wrapFileSystem(sim, (file) => file, {
      readdir: async (path: string) => {
        const names = sim.readdir(path);
        if (path !== "/archive/segments/x") return await names;
        await names.catch(() => undefined);
        await sim.unlink("/archive/segments");
        await sim.rmdir("/archive");
        return await names;
      },
    });
    expect(await fsArchive("/archive", { fs: racing }).list("segments/x/")).toEqual([]);
  });

  test("a signal that is not an AbortSignal is refused, and nothing is written", async () => {
    const sim = new SimFS();
    const store = fsArchive("/archive", { fs: sim });
    const events: SimOperationEvent[] = [];
    sim.onOperation((event) => events.push(event));
    for (const signal of [{}, "x", 5, null] as unknown as AbortSignal[]) {
      for (const call of [
        store.put("k", pattern(1, 1), { signal }),
        store.get("k", { signal }),
        store.list("", { signal }),
        store.delete("k", { signal }),
      ]) {
        const error = await failure(call);
        expect(isWalError(error, "WAL_INVALID_ARGUMENT")).toBe(true);
        expect((error as Error).message).toMatch(/signal must be an AbortSignal/);
      }
    }
    expect(events).toEqual([]);
    expect(await sim.stat("/archive")).toBe(null);
  });

  test("put writes a temporary file, fsyncs it, renames it and fsyncs the directory; new directories first", async () => {
    const sim = new SimFS();
    await sim.mkdirp("/backup");
    const store = fsArchive("/backup/archive", { fs: sim });
    const ops: string[] = [];
    const off = sim.onOperation((e: SimOperationEvent) => {
      const path = e.path.replace(/\.tmp-[0-9a-f]+$/, ".tmp-*");
      ops.push(`${e.op} ${path}${e.to === undefined ? "" : ` -> ${e.to}`}`);
    });
    await store.put("segments/0001.wal", pattern(100, 1));
    await store.put("segments/0002.wal", pattern(100, 2));
    off();
    expect(ops).toEqual([
      "mkdirp /backup/archive/segments",
      "syncDir /backup",
      "syncDir /backup/archive",
      "syncDir /", // above the directories created: maybe made by a killed put, best effort
      "open /backup/archive/segments/0001.wal.tmp-*",
      "write /backup/archive/segments/0001.wal.tmp-*",
      "sync /backup/archive/segments/0001.wal.tmp-*",
      "rename /backup/archive/segments/0001.wal.tmp-* -> /backup/archive/segments/0001.wal",
      "syncDir /backup/archive/segments",
      "open /backup/archive/segments/0002.wal.tmp-*",
      "write /backup/archive/segments/0002.wal.tmp-*",
      "sync /backup/archive/segments/0002.wal.tmp-*",
      "rename /backup/archive/segments/0002.wal.tmp-* -> /backup/archive/segments/0002.wal",
      "syncDir /backup/archive/segments",
    ]);
  });

  test("a re-put of an existing object fsyncs it and its directory again (it may not have been durable)", async () => {
    const sim = new SimFS();
    const store = fsArchive("/a", { fs: sim });
    await store.put("k/x", pattern(10, 1));
    // A put that crashed after its rename and before the directory fsync: visible, not durable.
    sim.writeFileSync("/a/k/y", pattern(10, 2), { durable: false });
    expect(sim.durableImage().listSync("/a/k")).toEqual(["x"]);
    const ops: string[] = [];
    const off = sim.onOperation((e) => ops.push(`${e.op} ${e.path}`));
    await store.put("k/y", pattern(10, 2));
    off();
    expect(ops).toEqual(["sync /a/k/y", "syncDir /a/k"]);
    expect(sim.durableImage().listSync("/a/k")).toEqual(["x", "y"]);
  });

  test("every crash image of every step of a put holds the object whole or not at all, and keeps earlier puts", async () => {
    const sim = new SimFS();
    const store = fsArchive("/archive", { fs: sim });
    const objects = [
      { key: "segments/0000000001.wal", bytes: pattern(3000, 1) },
      { key: "segments/0000000002.wal", bytes: pattern(1, 2) },
      { key: "partial/0000000003/piece-a", bytes: pattern(5000, 3) },
      { key: "partial/0000000003/piece-b", bytes: new Uint8Array(0) },
    ];
    /** Crash images taken during the puts, each with how many puts had resolved when it was taken. */
    const images: { fs: SimFS; description: string; resolved: number; during: number }[] = [];
    let resolved = 0;
    let during = -1;
    sim.onOperation(() => {
      for (const image of sim.crashImages({ maxImages: 64 })) {
        images.push({ fs: image.fs, description: image.description, resolved, during });
      }
    });
    for (const [i, o] of objects.entries()) {
      during = i;
      await store.put(o.key, o.bytes, { crc32: crc32(o.bytes) });
      resolved = i + 1;
    }
    // One last set after the final put, with nothing left unsynced.
    for (const image of sim.crashImages())
      images.push({ fs: image.fs, description: image.description, resolved, during: -1 });

    let partial = 0;
    let absentDuringPut = 0;
    let presentDuringPut = 0;
    for (const image of images) {
      const restored = fsArchive("/archive", { fs: image.fs });
      const listed = new Map((await restored.list()).map((o) => [o.key, o.size]));
      for (const [i, o] of objects.entries()) {
        const got = await restored.get(o.key);
        const where = `${image.description} (put ${i}, ${image.resolved} resolved)`;
        if (i < image.resolved) {
          // A put that resolved is present, whole, in every later image.
          expect({ where, size: got?.byteLength }).toEqual({ where, size: o.bytes.byteLength });
        }
        if (got === null) {
          expect({ where, listed: listed.has(o.key) }).toEqual({ where, listed: false });
          if (i === image.during) absentDuringPut++;
          continue;
        }
        if (got.byteLength !== o.bytes.byteLength || Buffer.compare(got, o.bytes) !== 0) partial++;
        expect({ where, listed: listed.get(o.key) }).toEqual({ where, listed: o.bytes.byteLength });
        if (i === image.during) presentDuringPut++;
      }
    }
    expect(partial).toBe(0);
    // The images covered both outcomes of the puts in progress (otherwise the test checked nothing interesting).
    expect(absentDuringPut).toBeGreaterThan(0);
    expect(presentDuringPut).toBeGreaterThan(0);
    expect(images.length).toBeGreaterThan(50);
  });

  test("an I/O failure rejects WAL_IO with the Node error as cause, names the object, and leaves no file behind", async () => {
    const sim = new SimFS();
    const store = fsArchive("/archive", { fs: sim });
    await store.put("segments/ok", pattern(10, 1));
    sim.injectFault({ op: "rename", errno: "EIO" });
    const error = await failure(store.put("segments/x", pattern(10, 2)));
    expect(isWalError(error, "WAL_IO")).toBe(true);
    const e = error as { details: { object?: string; errno?: string }; cause?: { code?: string }; message: string };
    expect(e.details.object).toBe("segments/x");
    expect(e.details.errno).toBe("EIO");
    expect(e.cause?.code).toBe("EIO");
    expect(e.message).toContain("fs:/archive");
    expect(sim.listSync("/archive/segments")).toEqual(["ok"]);

    sim.injectFault({ op: "sync", errno: "ENOSPC" });
    expect(
      ((await failure(store.put("segments/y", pattern(10, 3)))) as { cause?: { code?: string } }).cause?.code,
    ).toBe("ENOSPC");
    expect(sim.listSync("/archive/segments")).toEqual(["ok"]);

    sim.injectFault({ op: "open", errno: "EACCES" });
    const got = await failure(store.get("segments/ok"));
    expect(isWalError(got, "WAL_IO")).toBe(true);
    expect((got as { details: { object?: string } }).details.object).toBe("segments/ok");

    sim.injectFault({ op: "readdir", errno: "EIO" });
    expect(isWalError(await failure(store.list()), "WAL_IO")).toBe(true);
    sim.injectFault({ op: "unlink", errno: "EROFS" });
    expect(isWalError(await failure(store.delete("segments/ok")), "WAL_IO")).toBe(true);
    expect(await store.list()).toEqual([{ key: "segments/ok", size: 10 }]);
  });

  test("checks a large object's crc32 in slices, giving the event loop back between them, before writing", async () => {
    // A sealed segment is 8 MiB: checked in one call, it would hold the writer's event loop for milliseconds.
    const sim = new SimFS();
    const store = fsArchive("/archive", { fs: sim });
    const bytes = pattern(3 * CRC_SLICE_BYTES + 1, 7);
    const { turns, rejected } = await eventLoopTurnsDuring(
      store.put("segments/big", bytes, { crc32: (crc32(bytes) ^ 1) >>> 0 }),
    );
    expect(isWalError(rejected, "WAL_ARCHIVE_CORRUPT")).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(await sim.readdir("/")).toEqual([]);
  });

  test("puts of one key run in the order they were called, whatever their checksums take", async () => {
    const store = fsArchive("/archive", { fs: new SimFS() });
    const first = pattern(3 * CRC_SLICE_BYTES, 1); // its checksum takes three turns of the event loop
    const second = pattern(16, 2);
    const outcomes = await Promise.allSettled([
      store.put("k", first, { crc32: crc32(first) }),
      store.put("k", second, { crc32: crc32(second) }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
    expect((await store.get("k"))?.byteLength).toBe(first.byteLength);
  });

  test("concurrent puts of one key with different bytes: exactly one wins, the others are refused", async () => {
    const sim = new SimFS();
    const store = fsArchive("/archive", { fs: sim });
    const variants = Array.from({ length: 6 }, (_, i) => pattern(64, i));
    const outcomes = await Promise.allSettled(variants.map((v) => store.put("race/key", v)));
    const won = outcomes.flatMap((o, i) => (o.status === "fulfilled" ? [i] : []));
    expect(won.length).toBe(1);
    for (const o of outcomes) {
      if (o.status === "rejected") expect(isWalError(o.reason, "WAL_INVALID_ARGUMENT")).toBe(true);
    }
    expect(await store.get("race/key")).toEqual(variants[won[0] as number]);
  });
});
