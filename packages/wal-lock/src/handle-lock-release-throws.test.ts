/**
 * `HeldLock.release()` returns a promise, also when a self-locking file system's release function throws: it used to
 * call that function synchronously and let its throw escape the call, so `lock.release().catch(...)` (what `restore`
 * runs on its failure path, to keep the restore's own error) threw the release's error in place of it. The throw is
 * now a rejection, `WAL_IO` with it as the `cause`, once: a later call shares that answer and the function is not
 * called again. `releaseOutcome` turns that rejection into a value, for the holders (`Wal.open`, `close()`, `restore`)
 * whose own outcome it must not replace.
 */

import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { throwingRelease } from "../test/support.js";
import { type HeldLock, lockDirectory, releaseOutcome } from "./handle-lock.js";

it("a release function that throws is a rejected promise (WAL_IO, the throw as the cause), answered once", async () => {
  const boom = new Error("boom");
  const { fs, calls } = throwingRelease(boom);
  const lock = await lockDirectory(fs, "/d");
  let released: Promise<void> | undefined;
  expect(() => {
    released = lock.release();
  }).not.toThrow();
  await expect(released).rejects.toMatchObject({ name: "WalError", code: "WAL_IO", cause: boom });
  await expect(lock.release()).rejects.toMatchObject({ code: "WAL_IO", cause: boom });
  expect(calls()).toBe(1);
  // The lock itself was let go before the throw: a later lock of the directory is taken.
  const again = await lockDirectory(fs, "/d");
  expect(() => {
    void again.release().catch(() => undefined);
  }).not.toThrow();
});

it("a WalError thrown by the release function is rejected as it is", async () => {
  const { WalError } = await import("@lora/wal-codec");
  const coded = new WalError("WAL_IO", "release failed");
  const { fs } = throwingRelease(coded);
  const lock = await lockDirectory(fs, "/d");
  await expect(lock.release()).rejects.toBe(coded);
});

it("releaseOutcome resolves to what the release rejected with, and to undefined once a release succeeded", async () => {
  const boom = new Error("boom");
  const { fs } = throwingRelease(boom);
  const failing = await lockDirectory(fs, "/d");
  expect(await releaseOutcome(failing)).toEqual({ error: expect.objectContaining({ code: "WAL_IO", cause: boom }) });
  const sim = new SimFS();
  sim.mkdirpSync("/d");
  expect(await releaseOutcome(await lockDirectory(sim, "/d"))).toBe(undefined);
});

it("releaseOutcome of a caller's HeldLock whose release throws at once resolves to that throw, never throwing", async () => {
  // `HeldLock` is an exported interface: a wrapper around a lock (a test's, a caller's) may implement `release` as a
  // plain function that throws. The throw is the release's failure, as a rejection would be.
  const boom = new Error("boom");
  let calls = 0;
  const lock: HeldLock = {
    createdFile: false,
    check: () => null,
    onLost: () => () => {},
    release: () => {
      calls++;
      throw boom;
    },
  };
  let outcome: Promise<unknown> | undefined;
  expect(() => {
    outcome = releaseOutcome(lock);
  }).not.toThrow();
  expect(await outcome).toEqual({ error: boom });
  expect(calls).toBe(1);
});
