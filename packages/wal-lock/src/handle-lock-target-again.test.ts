/**
 * `lockTargetOf` given a `LockTarget` (its own result, passed back where a file system goes, or named as a view's
 * `lockBase`) returns it: the lock is the one decided for the file system. It took the target for a file system with
 * no name and no `tryLock`, and locked inside this process, keyed by the target: the kernel lock (another process's,
 * LoraDB's) or the file system's own registry was acquired beside it.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFileSystem, type WalFileSystem } from "@lora/wal-segment";
import { afterEach, beforeEach, expect, it } from "vitest";
import { acquireDirLock } from "./dir-lock.js";
import { lockDirectory, lockTargetOf } from "./handle-lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-target-again-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("returns a target it made as it is, so it takes the kernel lock a Node file system takes", async () => {
  const made = lockTargetOf(createNodeFileSystem());
  expect(lockTargetOf(made)).toBe(made);
  const held = await lockDirectory(lockTargetOf(made), dir, 0, { checkIntervalMs: 0 });
  try {
    await expect(acquireDirLock(dir, { retryBudgetMs: 0 })).rejects.toMatchObject({ code: "WAL_LOCKED" });
  } finally {
    await held.release();
  }
});

it("locks as the file system's registry, for a file system without a lock of its own", async () => {
  // No name Node's, no tryLock: a lock in this process's registry, keyed by the file system.
  const fs = { name: "plain" } as unknown as WalFileSystem;
  const held = await lockDirectory(fs, dir);
  try {
    await expect(lockDirectory(lockTargetOf(lockTargetOf(fs)), dir)).rejects.toMatchObject({ code: "WAL_LOCKED" });
  } finally {
    await held.release();
  }
});

it("follows a view whose lockBase is a target to that target", async () => {
  const view = { name: "view", lockBase: lockTargetOf(createNodeFileSystem()) } as unknown as WalFileSystem;
  const held = await lockDirectory(view, dir, 0, { checkIntervalMs: 0 });
  try {
    await expect(acquireDirLock(dir, { retryBudgetMs: 0 })).rejects.toMatchObject({ code: "WAL_LOCKED" });
  } finally {
    await held.release();
  }
});

it("hands out a target that names its kind only: no file system is reachable from it", () => {
  const fs = { name: "plain" } as unknown as WalFileSystem;
  const target = lockTargetOf(fs);
  expect(Object.values(target)).toEqual(["registry"]);
});
