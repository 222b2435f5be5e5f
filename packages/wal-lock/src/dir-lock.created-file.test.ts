/**
 * A held lock says whether its own acquisition created `.lora-wal.lock` (`createdFile`), decided by the open that
 * created it (`O_EXCL`), not by a look before the lock: a file another holder created and let go of between such a look
 * and the lock was taken for one of ours, and a caller that leaves the directory as it found it (a failed `restore`)
 * removed a lock file it did not make. The locks that make no file (a self-locking file system's, the in-process
 * registry) never say they created one.
 */

import { writeFileSync } from "node:fs";
import { mkdtemp, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { acquireDirLock, acquireDirLockInternal, LOCK_FILE_NAME } from "./dir-lock.js";
import { lockDirectory } from "./handle-lock.js";

let dir: string;
let lockPath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-created-file-"));
  lockPath = join(dir, LOCK_FILE_NAME);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it("is true when the lock file was missing, false when it was there", async () => {
  const first = await acquireDirLock(dir);
  expect(first.createdFile).toBe(true);
  await first.release();
  expect((await stat(lockPath)).isFile()).toBe(true);
  const second = await acquireDirLock(dir);
  expect(second.createdFile).toBe(false);
  await second.release();
});

it("is false for a file another holder created right before the acquisition opened it", async () => {
  // The interleaving a look before the lock cannot see: missing when looked at, there when the attempt opens it.
  const lock = await acquireDirLockInternal(dir, {
    checkIntervalMs: 0,
    beforeAttempt: (attempt) => {
      if (attempt === 0) writeFileSync(lockPath, "");
    },
  });
  try {
    expect(lock.createdFile).toBe(false);
  } finally {
    await lock.release();
  }
});

it("is true when the open of the attempt that holds the lock created the file", async () => {
  const opened: boolean[] = [];
  const lock = await acquireDirLockInternal(dir, {
    checkIntervalMs: 0,
    beforeFileLock: async () => {
      opened.push((await stat(lockPath)).isFile());
    },
  });
  try {
    expect(opened).toEqual([true]);
    expect(lock.createdFile).toBe(true);
  } finally {
    await lock.release();
  }
});

it("is false for a dangling symbolic link, whose target the open creates as it always did", async () => {
  // `O_EXCL` refuses the link and a plain open does not follow it: after a bounded number of tries, the open of before.
  await symlink(join(dir, "target"), lockPath);
  const lock = await acquireDirLock(dir);
  try {
    expect(lock.createdFile).toBe(false);
    expect((await stat(join(dir, "target"))).isFile()).toBe(true);
  } finally {
    await lock.release();
  }
});

it("is false for the locks that make no file: a self-locking file system's and the in-process registry's", async () => {
  const sim = new SimFS();
  sim.mkdirpSync("/d");
  const self = await lockDirectory(sim, "/d");
  expect(self.createdFile).toBe(false);
  await self.release();
  const registry = await lockDirectory({ ...createNodeFileSystem(), name: "plain" }, dir);
  expect(registry.createdFile).toBe(false);
  await registry.release();
  // The registry's lock made no file in `dir`.
  await expect(stat(lockPath)).rejects.toMatchObject({ code: "ENOENT" });
});
