/**
 * What the held lock does with its descriptors and its file, looked at directly: an adopted or re-created lock file
 * replaces the old descriptor (closed, not leaked beside it); `check()` after `release()` touches nothing (it must not
 * re-create a removed file and lock it again, keeping a lock nobody releases); `probeDirLock` answers "held" through
 * the directory lock when the lock file was renamed away, where the `/proc` search sees only removed files; the
 * background check's period is refused above the timer's limit (Node would run it every millisecond) and when it is
 * not a whole number of ms (below 1, Node runs it every millisecond too).
 */

import { readdirSync } from "node:fs";
import { mkdtemp, readdir, rename, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFileSystem } from "@lora/wal-segment";
import { afterEach, beforeEach, expect, it } from "vitest";
import { rejection } from "../test/support.js";
import { acquireDirLock, acquireDirLockInternal, LOCK_FILE_NAME, probeDirLock } from "./dir-lock.js";
import { lockDirectory } from "./handle-lock.js";

let dir: string;
let lockPath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-held-state-"));
  lockPath = join(dir, LOCK_FILE_NAME);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const linuxOnly = process.platform !== "linux";

/** This process's open descriptors, listed synchronously so nothing else runs in between. */
function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

it.skipIf(linuxOnly)("a re-created lock file replaces the old descriptor: none is left open beside it", async () => {
  const lock = await acquireDirLockInternal(dir, { checkIntervalMs: 0 });
  try {
    for (let i = 0; i < 3; i++) {
      const before = openFds();
      await unlink(lockPath);
      const after = (() => {
        expect(lock.check()).toBeNull();
        return openFds();
      })();
      expect(after, `round ${i}`).toBe(before);
    }
  } finally {
    await lock.release();
  }
});

it("check() after release() changes nothing: a removed lock file is not re-created or locked again", async () => {
  const lock = await acquireDirLockInternal(dir, { checkIntervalMs: 0 });
  await lock.release();
  await unlink(lockPath);
  expect(lock.check()).toBeNull();
  expect(await readdir(dir)).toEqual([]);
  // Nothing of the released lock is held: another holder takes the directory at once.
  const next = await acquireDirLock(dir, { retryBudgetMs: 0 });
  await next.release();
});

it("probeDirLock says held through the directory lock when the lock file was renamed away", async () => {
  const lock = await acquireDirLockInternal(dir, { checkIntervalMs: 0 });
  try {
    // Renamed, not removed: the holder's descriptor is not "(deleted)", so only the directory lock tells.
    await rename(lockPath, join(dir, "renamed"));
    expect(await probeDirLock(dir)).toBe("held");
    expect(await readdir(dir)).toEqual(["renamed"]);
  } finally {
    await lock.release();
  }
  expect(await probeDirLock(dir)).toBe("missing");
});

it("refuses a background-check period above 2^31 - 1 ms, creating nothing", async () => {
  for (const bad of [2 ** 31, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY]) {
    expect(await rejection(() => acquireDirLockInternal(dir, { checkIntervalMs: bad })), String(bad)).toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
  }
  expect(await readdir(dir)).toEqual([]);
  const largest = await acquireDirLockInternal(dir, { checkIntervalMs: 2 ** 31 - 1 });
  await largest.release();
});

it("refuses a background-check period that is not 0 or a whole number of ms, through lockDirectory too", async () => {
  // Node runs a timer of less than 1 ms every millisecond, and a fraction is no period anyone meant: refused.
  for (const bad of [0.5, Number.MIN_VALUE, 1.5, 999.9]) {
    const direct = await rejection(() => acquireDirLockInternal(dir, { checkIntervalMs: bad }));
    expect(direct, String(bad)).toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: `checkIntervalMs must be 0 (no background check) or a whole number of ms from 1 to 2^31 - 1, got ${bad}`,
    });
    const viaHandle = await rejection(() => lockDirectory(createNodeFileSystem(), dir, 0, { checkIntervalMs: bad }));
    expect(viaHandle, String(bad)).toMatchObject({ code: "WAL_INVALID_OPTION" });
  }
  expect(await readdir(dir)).toEqual([]);
  for (const ok of [0, -0, 1, 1000]) {
    const lock = await acquireDirLockInternal(dir, { checkIntervalMs: ok });
    await lock.release();
  }
});
