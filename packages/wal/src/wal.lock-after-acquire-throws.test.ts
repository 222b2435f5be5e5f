/**
 * `Wal.open` releases the directory lock before any error is thrown, also when the `lock.afterAcquire` failpoint (a
 * testing build's hook, called right after the lock is taken) throws: the open is refused with what it threw and the
 * directory can be opened again at once. (From a review: the failpoint was called before the `try` whose `catch`
 * releases the lock, so a throw there left the lock held by a handle nobody had, and every later open of the
 * directory in this process was refused `WAL_LOCKED`.)
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { withTestingHooks } from "./testing/index.js";
import { Wal } from "./wal.js";

const DIR = "/w";

it("a throw at lock.afterAcquire rejects the open with it and releases the lock", async () => {
  const fs = new SimFS();
  const thrown = new Error("injected at lock.afterAcquire");
  const points: string[] = [];
  const opened = Wal.open<JsonValue>(
    DIR,
    withTestingHooks(
      { fs, codec: jsonCodec },
      {
        failpoint: (name) => {
          points.push(name);
          if (name === "lock.afterAcquire") throw thrown;
        },
      },
    ),
  );
  await expect(opened).rejects.toBe(thrown);
  expect(points).toEqual(["lock.afterAcquire"]);
  // Released: the lock's own test (SimFS's tryLock) finds it free, and the next open gets it.
  const release = fs.tryLock(`${DIR}/.lora-wal.lock`);
  expect(release).not.toBeNull();
  release?.();
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  await wal.close();
});

it("an open that fails, and whose lock's release then fails too, rejects with its own failure", async () => {
  const fs = new SimFS();
  const tryLock = fs.tryLock.bind(fs);
  fs.tryLock = (path: string) => {
    const release = tryLock(path);
    if (release === null) return null;
    return () => {
      release();
      throw new Error("EIO: closing the lock");
    };
  };
  const thrown = new Error("injected at lock.afterAcquire");
  const opened = Wal.open<JsonValue>(
    DIR,
    withTestingHooks(
      { fs, codec: jsonCodec },
      {
        failpoint: (name) => {
          if (name === "lock.afterAcquire") throw thrown;
        },
      },
    ),
  );
  // The open's own failure says what went wrong; the release's would hide it.
  await expect(opened).rejects.toBe(thrown);
});
