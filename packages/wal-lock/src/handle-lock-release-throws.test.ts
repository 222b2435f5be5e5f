/**
 * A file system's own lock whose release throws (a seam may): `HeldLock.release()` promises a rejection, never a
 * throw, so a caller's `release().catch(...)` or `.then(ok, failed)` sees it; the lock is not counted released, so a
 * later call tries the seam's release again.
 */

import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { lockDirectory } from "./handle-lock.js";

it("a seam release that throws is a rejection, and a later release tries again", async () => {
  const sim = SimFS.withDir("/w");
  const tryLock = sim.tryLock.bind(sim);
  const thrown = new Error("EIO: closing the lock");
  let calls = 0;
  sim.tryLock = (path: string) => {
    const release = tryLock(path);
    if (release === null) return null;
    return () => {
      calls++;
      if (calls === 1) throw thrown;
      release();
    };
  };
  const lock = await lockDirectory(sim, "/w");
  let returned: Promise<void> | undefined;
  expect(() => {
    returned = lock.release();
  }).not.toThrow();
  await expect(returned).rejects.toBe(thrown);
  // Still held: another holder is refused until a release succeeds.
  await expect(lockDirectory(sim, "/w")).rejects.toMatchObject({ code: "WAL_LOCKED" });
  await lock.release();
  expect(calls).toBe(2);
  // Idempotent once released.
  await lock.release();
  expect(calls).toBe(2);
  const again = await lockDirectory(sim, "/w");
  await again.release();
});
