/**
 * `probeDirectoryLock` on a self-locking file system takes the lock and lets it go at once. When the release function
 * it got throws, that throw left the probe as it was, with no code, although the probe's answer was known (the lock
 * was free) and the lock it took may still be held: a later `lockDirectory` of the directory is then `WAL_LOCKED` by
 * the probe's own leftover. It is now `WAL_IO` with the throw as the `cause` (a `WalError` as it is), as a held lock's
 * `release()` reports the same failure, with the directory in `details.path`, never a `null` that would hide it.
 */

import { isWalError, WalError } from "@lora/wal-codec";
import { expect, it } from "vitest";
import { rejection, throwingRelease } from "../test/support.js";
import { lockDirectory, probeDirectoryLock } from "./handle-lock.js";

it("a probe whose release throws and leaves the lock held is WAL_IO with the throw as the cause", async () => {
  const boom = new Error("boom");
  const { fs, calls } = throwingRelease(boom, { releases: false });
  const refused = await rejection(() => probeDirectoryLock(fs, "/d"));
  expect(isWalError(refused, "WAL_IO")).toBe(true);
  expect(refused).toMatchObject({ cause: boom, details: { path: "/d" } });
  expect((refused as Error).message).toContain("boom");
  expect(calls()).toBe(1);
  // What the failure was about: the probe's own lock is still held, and the next holder is refused because of it.
  const after = await rejection(() => lockDirectory(fs, "/d"));
  expect(isWalError(after, "WAL_LOCKED")).toBe(true);
});

it("a probe whose release throws after releasing is WAL_IO too: whether it let go cannot be told", async () => {
  const { fs } = throwingRelease("a string");
  const refused = await rejection(() => probeDirectoryLock(fs, "/d"));
  expect(refused).toMatchObject({ name: "WalError", code: "WAL_IO", cause: "a string", details: { path: "/d" } });
  const lock = await lockDirectory(fs, "/d");
  await expect(lock.release()).rejects.toMatchObject({ code: "WAL_IO" });
});

it("a WalError thrown by the probe's release function is the rejection as it is", async () => {
  const coded = new WalError("WAL_IO", "unlock failed");
  expect(await rejection(() => probeDirectoryLock(throwingRelease(coded, { releases: false }).fs, "/d"))).toBe(coded);
});

it("a probe of a lock another holder has still answers WAL_LOCKED, calling no release function", async () => {
  const { fs, calls } = throwingRelease(new Error("boom"));
  const held = await lockDirectory(fs, "/d");
  expect(isWalError(await probeDirectoryLock(fs, "/d"), "WAL_LOCKED")).toBe(true);
  expect(calls()).toBe(0);
  await expect(held.release()).rejects.toMatchObject({ code: "WAL_IO" });
  expect(calls()).toBe(1);
});
