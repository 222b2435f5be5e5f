/**
 * Issue 12 case 7 through the real handle: `.lora-wal.lock` removed while a `Wal` (or LoraDB, in a child process)
 * holds the directory must not let a second `Wal.open` in. Before the directory lock and the `/proc` search, the
 * second open succeeded and overwrote acknowledged, fsynced commits of the first.
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rename, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isWalError } from "@lora/wal-codec";
import { LOCK_FILE_NAME } from "@lora/wal-lock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ev, rejection } from "../test/support.js";
import { Wal } from "./wal.js";

// The lock package's holders: LoraDB itself, and a bare `flock` on a file as LoraDB takes it (Linux).
const LORA_HOLDER = fileURLToPath(new URL("../../wal-lock/test/fixtures/lora-holder.mjs", import.meta.url));
const FLOCK_HOLDER = fileURLToPath(new URL("../../wal-lock/test/fixtures/flock-holder.mjs", import.meta.url));

let dir: string;
let lockPath: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-case7-"));
  lockPath = join(dir, LOCK_FILE_NAME);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("case 7 through Wal.open", () => {
  it("a second Wal.open is refused with WAL_LOCKED, and the 10 acknowledged commits all survive", async () => {
    const { wal } = await Wal.open(dir);
    try {
      for (let i = 0; i < 10; i++) await wal.commitTx([ev(i)]);
      await unlink(lockPath); // "clearing a stale lock"

      const refused = await rejection(() => Wal.open(dir, { lockRetryMs: 0 }));
      expect(isWalError(refused, "WAL_LOCKED")).toBe(true);
      expect((refused as Error).message).toBe(
        `WAL directory is already open by another live handle: ${dir} (a Wal or a restore, in this process or ` +
          `another, or LoraDB; tried once): close it or stop its process, whose exit ` +
          `releases the lock (never delete .lora-wal.lock to clear it), or retry for longer (Wal.open's lockRetryMs)`,
      );
    } finally {
      await wal.close();
    }
    const again = await Wal.open(dir);
    expect(again.events).toEqual(Array.from({ length: 10 }, (_, i) => ev(i)));
    await again.wal.close();
  });

  it.skipIf(process.platform !== "linux")(
    "Wal.open is refused while a LoraDB process holds the removed lock file",
    async () => {
      const child = spawn(process.execPath, [LORA_HOLDER, dir], { stdio: ["pipe", "pipe", "inherit"] });
      const exited = once(child, "exit");
      try {
        const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
        expect(line).toBe("open");
        await unlink(lockPath);
        const refused = await rejection(() => Wal.open(dir));
        expect(isWalError(refused, "WAL_LOCKED")).toBe(true);
        expect((refused as Error).message).toContain(`was removed while process ${child.pid} still holds it`);
      } finally {
        child.kill("SIGKILL");
        await exited;
      }
      const after = await Wal.open(dir);
      await after.wal.close();
    },
    30_000,
  );

  /**
   * A handle on `dir` whose lock file another process (as LoraDB would) has just taken: that process holds a new
   * lock file, and it replaces ours at the path in one rename, so the path never lacks a file and the handle's check
   * cannot re-create one in between. One commit was made before. The lock's background check is a faked interval
   * (the caller fakes `setInterval`), so it runs only when the test advances the fake clock.
   */
  async function handleWithLockTaken(): Promise<{ wal: Wal; stop: () => Promise<void> }> {
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 256 });
    const theirs = join(dir, "theirs.lock");
    const child = spawn(process.execPath, [FLOCK_HOLDER, theirs], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = once(child, "exit");
    const stop = async () => {
      await wal.close().catch(() => undefined);
      child.kill("SIGKILL");
      await exited;
    };
    try {
      await wal.commitTx([ev(0)]);
      const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
      expect(line).toBe("locked");
      await rename(theirs, lockPath);
    } catch (error) {
      await stop();
      throw error;
    }
    return { wal, stop };
  }

  it.skipIf(process.platform !== "linux")(
    "a handle whose lock file was taken by another holder stops writing: WAL_POISONED caused by WAL_LOCK_LOST",
    async () => {
      // Only the rotation may find the loss here, so the verdict is bound by the count of commits: a real 1 s
      // background check could fire while a commit waits for its fsync on a slow machine, and fail that commit with
      // WAL_LOCK_LOST itself (the next test covers the background check).
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      try {
        const { wal, stop } = await handleWithLockTaken();
        try {
          // The next rotation checks the lock before it touches the directory.
          let refused: unknown;
          for (let i = 1; i < 50 && refused === undefined; i++) {
            refused = await wal.commitTx([ev(i)]).then(
              () => undefined,
              (e: unknown) => e,
            );
          }
          expect(isWalError(refused, "WAL_POISONED")).toBe(true);
          expect(isWalError((refused as Error).cause, "WAL_LOCK_LOST")).toBe(true);
          expect(wal.bgFailure()).not.toBeNull();
        } finally {
          await stop();
        }
      } finally {
        vi.useRealTimers();
      }
    },
  );

  it.skipIf(process.platform !== "linux")(
    "the lock's background check poisons a handle whose lock file was taken, with no call made: WAL_LOCK_LOST",
    async () => {
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      try {
        const { wal, stop } = await handleWithLockTaken();
        try {
          expect(wal.failure()).toBeNull();
          // One period of the background check (1 s), on the fake clock.
          vi.advanceTimersByTime(1000);
          expect(isWalError(wal.failure(), "WAL_LOCK_LOST")).toBe(true);
          const refused = await rejection(() => wal.commitTx([ev(1)]));
          expect(isWalError(refused, "WAL_POISONED")).toBe(true);
          expect(isWalError((refused as Error).cause, "WAL_LOCK_LOST")).toBe(true);
        } finally {
          await stop();
        }
      } finally {
        vi.useRealTimers();
      }
    },
  );
});
