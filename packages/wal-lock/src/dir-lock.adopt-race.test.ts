/**
 * A held lock re-creating its removed `.lora-wal.lock` inside `check()` must end up locking the file at the path: if
 * the file it just opened is replaced before it is locked, the lock it takes is on a file nobody can find, and LoraDB
 * would get in through the new one. So after locking, `check()` stats the path again and, when it is another file,
 * starts over on that one.
 *
 * The replacement happens inside one synchronous `check()`, so no other code of this process can run there: the
 * test puts it there through `node:fs` itself (a real rename of a real file over the path, right after the real
 * `openSync` of the lock file returns), as another process could do at that moment.
 */

import { closeSync, openSync, renameSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { lockFileFree } from "../test/support.js";
import { acquireDirLockInternal, LOCK_FILE_NAME, MAX_MOVED_RETRIES } from "./dir-lock.js";

const hook = vi.hoisted(() => ({
  /** Runs right after each `openSync` of this path returns, while `times` is above 0 (counting down). */
  path: undefined as string | undefined,
  times: 0,
  afterOpen: undefined as undefined | (() => void),
}));

vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  const openSync = ((...args: Parameters<typeof real.openSync>) => {
    const fd = real.openSync(...args);
    if (hook.afterOpen !== undefined && hook.times > 0 && args[0] === hook.path) {
      hook.times--;
      hook.afterOpen();
    }
    return fd;
  }) as typeof real.openSync;
  return { ...real, openSync, default: { ...real, openSync } };
});

const unixOnly = process.platform === "win32";

let dir: string;
let lockPath: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-adopt-race-"));
  lockPath = join(dir, LOCK_FILE_NAME);
  hook.afterOpen = undefined;
  hook.times = 0;
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it.skipIf(unixOnly)(
  "check() locks the file at the path when the one it re-created is replaced before it locks it",
  async () => {
    const lock = await acquireDirLockInternal(dir, { checkIntervalMs: 0 });
    try {
      const replacement = join(dir, "replacement");
      await writeFile(replacement, "");
      await rm(lockPath);
      hook.path = lockPath;
      hook.times = 1;
      hook.afterOpen = () => {
        // Synchronous, as it must be inside check(): the same rename(2) another process would make.
        renameSync(replacement, lockPath);
      };

      expect(lock.check()).toBeNull();
      expect(hook.times).toBe(0); // the race did happen inside this check
      expect(lockFileFree(lockPath)).toBe(false); // and the lock is on the file now at the path
      expect(lock.check()).toBeNull();
    } finally {
      await lock.release();
    }
    expect(lockFileFree(lockPath)).toBe(true);
  },
);

it.skipIf(unixOnly)(
  "check() reports the lock lost when the file keeps being replaced each time it locks it",
  async () => {
    const lock = await acquireDirLockInternal(dir, { checkIntervalMs: 0 });
    try {
      await rm(lockPath);
      let opens = 0;
      hook.path = lockPath;
      hook.times = Number.POSITIVE_INFINITY;
      hook.afterOpen = () => {
        opens++;
        const next = join(dir, `replacement-${opens}`);
        closeSync(openSync(next, "w"));
        renameSync(next, lockPath);
      };
      const lost = lock.check();
      hook.times = 0;
      expect(lost).toMatchObject({ code: "WAL_LOCK_LOST", message: expect.stringMatching(/kept being replaced/) });
      expect(opens).toBe(MAX_MOVED_RETRIES + 1);
      expect(lockFileFree(lockPath)).toBe(true); // nothing of it is held: each file it locked was closed again
    } finally {
      await lock.release();
    }
  },
);
