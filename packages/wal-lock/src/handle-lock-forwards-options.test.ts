/**
 * `lockDirectory` on Node's file system hands its retry budget and its check period to the kernel lock: a budget
 * longer than the default outlasts a holder that lets go after it, and `checkIntervalMs: 0` runs no background check
 * (a removed lock file is left missing until `check()`), which `restore` relies on.
 */

import { mkdtemp, readdir, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFileSystem } from "@lora/wal-segment";
import { afterEach, beforeEach, expect, it } from "vitest";
import { acquireDirLock, DEFAULT_LOCK_RETRY_BUDGET_MS, LOCK_FILE_NAME } from "./dir-lock.js";
import { lockDirectory } from "./handle-lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-handle-lock-forwards-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("a retry budget given to lockDirectory outlasts a holder that lets go after the default budget", async () => {
  const holder = await acquireDirLock(dir);
  // Retries until the holder lets go: the budget is long enough never to end first, however loaded the machine.
  const waiting = lockDirectory(createNodeFileSystem(), dir, 600_000, { checkIntervalMs: 0 });
  await sleep(3 * DEFAULT_LOCK_RETRY_BUDGET_MS);
  await holder.release();
  const lock = await waiting;
  expect(lock.check()).toBeNull();
  await lock.release();
});

it("checkIntervalMs: 0 runs no background check: a removed lock file stays missing until check()", async () => {
  const lock = await lockDirectory(createNodeFileSystem(), dir, 0, { checkIntervalMs: 0 });
  try {
    await unlink(join(dir, LOCK_FILE_NAME));
    // Longer than the default period (1000 ms): a background check would have re-created it by now.
    await sleep(1500);
    expect(await readdir(dir)).toEqual([]);
    expect(lock.check()).toBeNull();
    expect(await readdir(dir)).toEqual([LOCK_FILE_NAME]);
  } finally {
    await lock.release();
  }
});
