/**
 * `lockDirectory` and `probeDirectoryLock` look at the seam's lock properties (`lockBase`, `name`, `tryLock`) once
 * each and through `readCallerValue`, as the seam's methods are checked: one that throws when read is refused with
 * `WAL_INVALID_OPTION` (the throw as the cause), not escaped as its own error, and the value read is the value used.
 * `tryLock` was read once to check it and again to call it, and `lockBase` raw.
 */

import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { lockDirectory, probeDirectoryLock } from "./handle-lock.js";

/** What `run` rejects with. */
async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("not refused");
}

function expectRefused(error: unknown, thrown: Error, label: string): void {
  expect(error, label).toMatchObject({ name: "WalError", code: "WAL_INVALID_OPTION" });
  expect((error as Error).message, label).toContain(thrown.message);
  expect((error as Error).cause, label).toBe(thrown);
}

it("a lockBase, name or tryLock that throws when read is refused with WAL_INVALID_OPTION, the throw as the cause", async () => {
  const base = new SimFS();
  base.mkdirpSync("/d");
  for (const property of ["lockBase", "name", "tryLock"]) {
    const thrown = new Error(`no ${property}`);
    // `name` and `tryLock` are looked at on the file system a `lockBase` chain ends at: here, the one given.
    const fs = Object.defineProperty(property === "name" ? {} : { name: "view" }, property, {
      get: () => {
        throw thrown;
      },
    }) as unknown as WalFileSystem;
    expectRefused(await rejection(() => lockDirectory(fs, "/d")), thrown, `lockDirectory, ${property}`);
    expectRefused(await rejection(() => probeDirectoryLock(fs, "/d")), thrown, `probeDirectoryLock, ${property}`);
  }
  // Nothing was locked along the way: the base's lock is free.
  await (await lockDirectory(base, "/d")).release();
});

it("a lockBase and a tryLock that answer differently when read again are read once and used as read", async () => {
  const sim = new SimFS();
  sim.mkdirpSync("/d");
  const reads = { lockBase: 0, tryLock: 0 };
  // A self-locking file system whose `tryLock` is a function the first time it is read and not after.
  const selfLocking = {
    name: "self-locking",
    get tryLock() {
      reads.tryLock++;
      return reads.tryLock === 1 ? (path: string) => sim.tryLock(path) : undefined;
    },
  };
  // A view whose `lockBase` is that file system the first time it is read and nothing after.
  const view = {
    name: "view",
    get lockBase() {
      reads.lockBase++;
      return reads.lockBase === 1 ? selfLocking : undefined;
    },
  } as unknown as WalFileSystem;
  const lock = await lockDirectory(view, "/d");
  expect(reads).toEqual({ lockBase: 1, tryLock: 1 });
  // The lock taken is SimFS's own: SimFS itself is refused while the view holds it.
  await expect(lockDirectory(sim, "/d")).rejects.toMatchObject({ code: "WAL_LOCKED" });
  await lock.release();
  await (await lockDirectory(sim, "/d")).release();
});
