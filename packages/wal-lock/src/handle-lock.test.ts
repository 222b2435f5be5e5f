/**
 * `lockDirectory` through a view (`lockBase`): the CLI's read-only view over Node's file system takes the kernel lock
 * a `Wal` takes, not a lock of its own that nothing else sees. `probeDirectoryLock`: says whether another holder has
 * the lock without keeping it or creating anything.
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFileSystem, type WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { acquireDirLock, probeDirLock } from "./dir-lock.js";
import { lockDirectory, probeDirectoryLock } from "./handle-lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-handle-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A view over `base` that names it its `lockBase`, as the CLI's read-only view does. */
function view(base: WalFileSystem, name = `view(${base.name})`): WalFileSystem {
  return { ...base, name, lockBase: base } as WalFileSystem;
}

it("a view over Node's file system takes the kernel lock: a Wal's acquire is refused while the view holds it", async () => {
  const lock = await lockDirectory(view(view(createNodeFileSystem())), dir, 0, { checkIntervalMs: 0 });
  await expect(acquireDirLock(dir, { retryBudgetMs: 0 })).rejects.toMatchObject({ code: "WAL_LOCKED" });
  expect(await probeDirLock(dir)).toBe("held");
  await lock.release();
  const again = await acquireDirLock(dir, { retryBudgetMs: 0 });
  await again.release();
});

it("a view and its base share one in-process lock; a lockBase cycle is not followed forever", async () => {
  const base = new SimFS();
  base.mkdirpSync("/d");
  const lock = await lockDirectory(view(base), "/d");
  await expect(lockDirectory(base, "/d")).rejects.toMatchObject({ code: "WAL_LOCKED" });
  await lock.release();

  const a = { ...view(base), name: "a" } as WalFileSystem & { lockBase?: WalFileSystem };
  const b = { ...view(base), name: "b", lockBase: a } as WalFileSystem;
  a.lockBase = b;
  const cyclic = await lockDirectory(a, "/d");
  await cyclic.release();
});

it("probeDirectoryLock: WAL_LOCKED while another holder has the lock, null once it is free, creating nothing", async () => {
  const sim = new SimFS();
  sim.mkdirpSync("/d");
  expect(await probeDirectoryLock(sim, "/d")).toBeNull();
  const held = await lockDirectory(sim, "/d");
  expect(await probeDirectoryLock(view(sim), "/d")).toMatchObject({ code: "WAL_LOCKED", details: { path: "/d" } });
  await held.release();
  expect(await probeDirectoryLock(sim, "/d")).toBeNull();
  // The probe kept nothing: the lock can be taken after it.
  await (await lockDirectory(sim, "/d")).release();

  const node = createNodeFileSystem();
  expect(await probeDirectoryLock(node, dir)).toBeNull();
  expect(await readdir(dir)).toEqual([]);
  const kernel = await acquireDirLock(dir);
  expect(await probeDirectoryLock(node, dir)).toMatchObject({ code: "WAL_LOCKED" });
  await kernel.release();
  expect(await probeDirectoryLock(node, dir)).toBeNull();
  // A missing directory is no holder, and the probe creates nothing there either.
  expect(await probeDirectoryLock(node, join(dir, "missing"))).toBeNull();
  expect(await readdir(dir)).toEqual([".lora-wal.lock"]);

  const plain = { ...node, name: "plain" } as WalFileSystem;
  const registry = await lockDirectory(plain, dir);
  expect(await probeDirectoryLock(plain, dir)).toMatchObject({ code: "WAL_LOCKED" });
  await registry.release();
  expect(await probeDirectoryLock(plain, dir)).toBeNull();
});

it("every lock target's WAL_LOCKED says what clears it: the in-process registry, a probe and the kernel lock alike", async () => {
  const remedy = /\(a Wal or a restore, in this process or another, or LoraDB.*never delete \.lora-wal\.lock/;
  const sim = new SimFS();
  sim.mkdirpSync("/d");
  const held = await lockDirectory(sim, "/d");
  await expect(lockDirectory(sim, "/d")).rejects.toMatchObject({
    code: "WAL_LOCKED",
    message: expect.stringMatching(remedy),
  });
  expect((await probeDirectoryLock(sim, "/d"))?.message).toMatch(remedy);
  await held.release();

  const kernel = await acquireDirLock(dir);
  await expect(lockDirectory(createNodeFileSystem(), dir, 0)).rejects.toMatchObject({
    code: "WAL_LOCKED",
    message: expect.stringMatching(/; tried once\): close it/),
  });
  expect((await probeDirectoryLock(createNodeFileSystem(), dir))?.message).toMatch(remedy);
  await kernel.release();
});
