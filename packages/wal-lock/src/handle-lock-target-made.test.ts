/**
 * A `LockTarget` is what `lockTargetOf` decided for a file system: a hand-made `{ lockTarget: "node" }` type-checked
 * as one, and `lockDirectory` took it for a file system with no name and no `tryLock`, so it took a lock inside this
 * process, keyed by that object, and the kernel lock (another process's, LoraDB's) was acquired beside it.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFileSystem } from "@lora/wal-segment";
import { expect, it } from "vitest";
import { acquireDirLock } from "./dir-lock.js";
import { type LockTarget, lockDirectory, lockTargetOf } from "./handle-lock.js";

it("only lockTargetOf makes a LockTarget: a hand-made one does not type-check", async () => {
  // @ts-expect-error a LockTarget is only what lockTargetOf returns
  const forged: LockTarget = { lockTarget: "node" };
  const made: LockTarget = lockTargetOf(createNodeFileSystem());
  expect(made).toEqual(forged);
  const dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-target-"));
  try {
    // What lockTargetOf made takes the kernel lock: another acquire is refused while it is held.
    const held = await lockDirectory(made, dir, 0, { checkIntervalMs: 0 });
    await expect(acquireDirLock(dir, { retryBudgetMs: 0 })).rejects.toMatchObject({ code: "WAL_LOCKED" });
    await held.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
