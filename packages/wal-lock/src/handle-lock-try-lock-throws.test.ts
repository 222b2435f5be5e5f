/**
 * A self-locking file system whose `tryLock` throws when called: `lockDirectory` rejected with that throw as it was,
 * the one place of the lock that let a seam's failure out without a code (its release function's throw is `WAL_IO`,
 * see handle-lock-release-throws.test.ts). It is now `WAL_IO` with the throw as the `cause` (a `WalError` as it is),
 * and nothing is held. `probeDirectoryLock` answers `null` for it: whether another holder has the lock cannot be
 * told, as for a kernel lock whose probe fails.
 */

import { isWalError, WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { rejection } from "../test/support.js";
import { lockDirectory, probeDirectoryLock } from "./handle-lock.js";

/** SimFS whose `tryLock` throws `thrown` while `failing` says so, and locks as SimFS does otherwise. */
function throwingTryLock(thrown: unknown): { fs: WalFileSystem; sim: SimFS; heal(): void } {
  const sim = new SimFS();
  sim.mkdirpSync("/d");
  let failing = true;
  const fs = new Proxy(sim, {
    get(target, key) {
      if (key === "tryLock") {
        return (path: string) => {
          if (failing) throw thrown;
          return target.tryLock(path);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { fs, sim, heal: () => (failing = false) };
}

it("lockDirectory rejects with WAL_IO (the throw as the cause) when the file system's tryLock throws", async () => {
  const boom = new Error("boom");
  const { fs, sim, heal } = throwingTryLock(boom);
  const refused = await rejection(() => lockDirectory(fs, "/d"));
  expect(isWalError(refused, "WAL_IO")).toBe(true);
  expect(refused).toMatchObject({ cause: boom, details: { path: "/d" } });
  expect((refused as Error).message).toContain("boom");
  // Nothing is held: the same directory locks once tryLock works.
  heal();
  const lock = await lockDirectory(fs, "/d");
  await lock.release();
  expect(sim.listSync("/d")).toEqual([]); // a self-locking lock makes no file
});

it("a WalError thrown by tryLock is the rejection as it is; anything else thrown is a cause", async () => {
  const coded = new WalError("WAL_LOCKED", "held elsewhere");
  expect(await rejection(() => lockDirectory(throwingTryLock(coded).fs, "/d"))).toBe(coded);
  const refused = await rejection(() => lockDirectory(throwingTryLock("a string").fs, "/d"));
  expect(refused).toMatchObject({ name: "WalError", code: "WAL_IO", cause: "a string" });
});

it("probeDirectoryLock answers null (cannot be told) when the file system's tryLock throws", async () => {
  await expect(probeDirectoryLock(throwingTryLock(new Error("boom")).fs, "/d")).resolves.toBeNull();
});
