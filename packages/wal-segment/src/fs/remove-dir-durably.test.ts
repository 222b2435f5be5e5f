import { dirname, join } from "node:path";
import { makeTempDir, settlesWithinTurns } from "@lora/test-utils";
import { WalError } from "@lora/wal-codec";
import { describe, expect, test } from "vitest";
import { SimFS } from "../testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "../testing/wrapped-fs.js";
import type { WalFileSystem } from "./file-system.js";
import { createNodeFileSystem } from "./node-file-system.js";
import { removeEmptyDirDurably } from "./remove-dir-durably.js";

interface Fixture {
  readonly fs: WalFileSystem;
  readonly root: string;
  cleanup(): Promise<void>;
}

const seams: readonly [string, () => Promise<Fixture>][] = [
  [
    "the Node seam",
    async () => {
      const tmp = await makeTempDir("lora-wal-rmdir-durably");
      const fs = createNodeFileSystem();
      return {
        fs,
        root: tmp.path,
        cleanup: tmp.cleanup,
      };
    },
  ],
  ["SimFS", () => Promise.resolve({ fs: SimFS.withDir("/t"), root: "/t", cleanup: () => Promise.resolve() })],
];

/**
 * `inner`, recording each `syncDir` and optionally failing it. The parent's fsync is what makes a removal durable:
 * the tests on both seams count it (the real one cannot show a crash); SimFS's crash images show it below.
 */
function countingSyncDir(inner: WalFileSystem, fail = false): { fs: WalFileSystem; synced: string[] } {
  const synced: string[] = [];
  const fs = wrapFileSystem(inner, (file) => file, {
    async syncDir(path: string) {
      synced.push(path);
      if (fail) throw new WalError("WAL_IO", `syncDir ${path} failed`, { details: { errno: "EIO", path } });
      await inner.syncDir(path);
    },
  });
  return { fs, synced };
}

/** Make `path` a durable empty directory. */
async function durableDir(fs: WalFileSystem, path: string): Promise<void> {
  await fs.mkdirp(path);
  await fs.syncDir(dirname(path));
}

describe.each(seams)("removeEmptyDirDurably on %s", (_name, create) => {
  const withFixture = (body: (f: Fixture) => Promise<void>) => async () => {
    const f = await create();
    try {
      await body(f);
    } finally {
      await f.cleanup();
    }
  };

  test(
    "removes an empty directory and fsyncs its parent once, which makes the removal durable",
    withFixture(async ({ fs: inner, root }) => {
      const dir = join(root, "made");
      await durableDir(inner, dir);
      const { fs, synced } = countingSyncDir(inner);
      expect(await removeEmptyDirDurably(fs, dir)).toBe(true);
      expect(synced).toEqual([root]);
      expect(await inner.stat(dir)).toBeNull();
    }),
  );

  test(
    "leaves a directory with entries and a missing one as they are, syncing nothing and never rejecting",
    withFixture(async ({ fs: inner, root }) => {
      const full = join(root, "full");
      await durableDir(inner, join(full, "inner"));
      const { fs, synced } = countingSyncDir(inner);
      expect(await removeEmptyDirDurably(fs, full)).toBe(false);
      expect(await inner.readdir(full)).toEqual(["inner"]);
      expect(await removeEmptyDirDurably(fs, join(root, "missing"))).toBe(false);
      expect(synced).toEqual([]);
    }),
  );

  test(
    "a failing parent fsync is ignored: the directory is removed and it resolves true",
    withFixture(async ({ fs: inner, root }) => {
      const dir = join(root, "made");
      await durableDir(inner, dir);
      const { fs, synced } = countingSyncDir(inner, true);
      expect(await removeEmptyDirDurably(fs, dir)).toBe(true);
      expect(synced).toEqual([root]);
      expect(await inner.stat(dir)).toBeNull();
    }),
  );

  test(
    "resolves only once the parent fsync has returned",
    withFixture(async ({ fs: inner, root }) => {
      const dir = join(root, "made");
      await durableDir(inner, dir);
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let syncAsked = (): void => undefined;
      const asked = new Promise<void>((resolve) => {
        syncAsked = resolve;
      });
      const fs = wrapFileSystem(inner, (file) => file, {
        async syncDir(path: string) {
          syncAsked();
          await held;
          await inner.syncDir(path);
        },
      });
      const result = removeEmptyDirDurably(fs, dir);
      // Waits for the fsync to be asked for (after the rmdir), not for a number of turns: a real rmdir on a busy
      // machine can take longer than any fixed count.
      await asked;
      expect(await inner.stat(dir)).toBeNull(); // rmdir done, the fsync still held
      expect(await settlesWithinTurns(result, 5)).toBe(false);
      release();
      expect(await result).toBe(true);
    }),
  );

  test(
    "a seam without rmdir: nothing is touched, it resolves false",
    withFixture(async ({ fs: inner, root }) => {
      const dir = join(root, "made");
      await durableDir(inner, dir);
      const { fs, synced } = countingSyncDir(inner);
      const noRmdir = new Proxy(fs, {
        get: (target, key) => (key === "rmdir" ? undefined : boundProperty(target, key)),
      });
      expect(noRmdir.rmdir).toBeUndefined();
      expect(await removeEmptyDirDurably(noRmdir, dir)).toBe(false);
      expect(synced).toEqual([]);
      expect(await inner.stat(dir)).not.toBeNull();
    }),
  );
});

describe("removeEmptyDirDurably in SimFS crash images", () => {
  test("no crash image brings the removed directory back; without the parent's fsync one does", async () => {
    const sim = SimFS.withDir("/t/made");
    expect(await removeEmptyDirDurably(sim, "/t/made")).toBe(true);
    const images = [...sim.crashImages()];
    expect(images.map((i) => i.fs.listSync("/t"))).toEqual([[]]);
    const unsynced = SimFS.withDir("/t/made");
    const noSync = wrapFileSystem(unsynced, (file) => file, { syncDir: () => Promise.resolve() });
    expect(await removeEmptyDirDurably(noSync, "/t/made")).toBe(true);
    expect([...unsynced.crashImages()].map((i) => i.fs.listSync("/t"))).toEqual([["made"], []]);
  });
});
