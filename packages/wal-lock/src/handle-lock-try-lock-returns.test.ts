/**
 * A self-locking file system's `tryLock` answers a release function (locked) or `null` (held elsewhere). One that
 * answered anything else (`undefined`, `true`, an object, a promise from an `async tryLock`) was taken for a release
 * function: `lockDirectory` handed out a lock whose `release()` then failed with a `TypeError` as its cause, and
 * nothing said the seam broke its contract. Both `lockDirectory` and `probeDirectoryLock` now refuse it with `WAL_IO`
 * (a seam's lock failing when called, as a `tryLock` that throws), naming what it returned, and no lock is handed out.
 * A promise is let go of once it settles: the release function it gives is called, so nothing stays held.
 */

import { isWalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { rejection } from "../test/support.js";
import { lockDirectory, probeDirectoryLock } from "./handle-lock.js";

/** SimFS whose `tryLock` answers `answer(sim's own tryLock, path)` in place of what SimFS answers. */
function answering(answer: (tryLock: (path: string) => (() => void) | null, path: string) => unknown): {
  fs: WalFileSystem;
  sim: SimFS;
} {
  const sim = new SimFS();
  sim.mkdirpSync("/d");
  const fs = new Proxy(sim, {
    get(target, key) {
      if (key === "tryLock") return (path: string) => answer((p) => target.tryLock(p), path);
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { fs, sim };
}

const ANSWERS: readonly [string, unknown][] = [
  ["undefined", undefined],
  ["true", true],
  ["0", 0],
  ["a string", "unlock"],
  ["an object", { release: () => {} }],
];

for (const [name, value] of ANSWERS) {
  it(`a tryLock that returns ${name} is WAL_IO from lockDirectory and probeDirectoryLock, naming what it returned`, async () => {
    const { fs, sim } = answering(() => value);
    for (const call of [() => lockDirectory(fs, "/d"), () => probeDirectoryLock(fs, "/d")]) {
      const refused = await rejection(call);
      expect(isWalError(refused, "WAL_IO")).toBe(true);
      expect(refused).toMatchObject({ details: { path: "/d" } });
      expect((refused as Error).cause).toBe(undefined); // not a TypeError from calling it
      expect((refused as Error).message).toContain("neither a release function nor null");
    }
    // Nothing was held, and SimFS itself was never locked.
    const lock = await lockDirectory(sim, "/d");
    await lock.release();
    expect(sim.listSync("/d")).toEqual([]);
  });
}

it("a tryLock that returns a promise (an async tryLock) is WAL_IO, and the lock it settles to is let go of", async () => {
  let released = 0;
  // What an `async tryLock` returns: a promise of the lock it took.
  const { fs, sim } = answering((tryLock, path) => {
    const release = tryLock(path);
    return Promise.resolve(
      release === null
        ? null
        : () => {
            released++;
            release();
          },
    );
  });
  const refused = await rejection(() => lockDirectory(fs, "/d"));
  expect(isWalError(refused, "WAL_IO")).toBe(true);
  expect((refused as Error).message).toContain("a promise");
  // Let the promise settle and its release run (a count of turns, not a wait on the clock).
  for (let i = 0; i < 5 && released === 0; i++) await Promise.resolve();
  expect(released).toBe(1);
  const lock = await lockDirectory(sim, "/d");
  await lock.release();
  const probed = await rejection(() => probeDirectoryLock(fs, "/d"));
  expect(isWalError(probed, "WAL_IO")).toBe(true);
  for (let i = 0; i < 5 && released === 1; i++) await Promise.resolve();
  expect(released).toBe(2);
  await (await lockDirectory(sim, "/d")).release();
});

it("a tryLock that returns a promise rejecting is WAL_IO, and the rejection is not left unhandled", async () => {
  const { fs } = answering(() => Promise.reject(new Error("async boom")));
  const refused = await rejection(() => lockDirectory(fs, "/d"));
  expect(isWalError(refused, "WAL_IO")).toBe(true);
});
