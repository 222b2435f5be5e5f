/**
 * The identity check at open covers the directory too: a directory replaced between the lock on it and the lock on
 * its file (the file moved into the new directory, so the file's own check passes) is found, and the attempt starts
 * again, so the directory locked is the one at the path. Kept without it, the directory lock stayed on the old
 * directory, which nothing opens any more, and the new lock reported itself lost at its first check.
 */

import { mkdir, mkdtemp, rename, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { rejection } from "../test/support.js";
import { acquireDirLock, acquireDirLockInternal, LOCK_FILE_NAME } from "./dir-lock.js";

let base: string;
let dir: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "lora-wal-lock-dir-replaced-"));
  dir = join(base, "d");
  await mkdir(dir);
});
afterEach(() => rm(base, { recursive: true, force: true }));

it.skipIf(process.platform === "win32")(
  "retries when the directory is replaced between its lock and the file's, and holds the directory at the path",
  async () => {
    const old = join(base, "old");
    let attempts = 0;
    const lock = await acquireDirLockInternal(dir, {
      checkIntervalMs: 0,
      beforeFileLock: async (attempt) => {
        attempts = attempt + 1;
        if (attempt !== 0) return;
        // The directory replaced, the lock file (opened in the old one) moved into the new one: the file at the
        // path is still the one opened.
        await rename(dir, old);
        await mkdir(dir);
        await rename(join(old, LOCK_FILE_NAME), join(dir, LOCK_FILE_NAME));
      },
    });
    try {
      expect(attempts).toBe(2);
      expect(lock.check()).toBeNull();
      // The directory at the path is locked: a second holder is refused there even with the lock file gone.
      await unlink(join(dir, LOCK_FILE_NAME));
      expect(await rejection(() => acquireDirLock(dir, { retryBudgetMs: 0 }))).toMatchObject({ code: "WAL_LOCKED" });
      // And the old one is not.
      const elsewhere = await acquireDirLock(old, { retryBudgetMs: 0 });
      await elsewhere.release();
    } finally {
      await lock.release();
    }
  },
);
