/**
 * A restore refused `WAL_LOCKED` leaves the directory to its holder, also one it created itself: the holder took the
 * lock between the restore's `mkdir` and its own attempt, so the directory is the holder's now, even while it is
 * still empty. On Node's file system the holder's lock file keeps such a directory from being removed anyway; a lock
 * that makes no file (SimFS's, the in-process registry) shows it. (From a review: the refused restore removed the
 * empty directory under a `Wal.open` that held its lock, which then failed creating its first segment: ENOENT.)
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { interceptOpen, SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

it("a restore into a missing directory that a Wal locks right after the restore created it is refused WAL_LOCKED and leaves the directory; the Wal opens and commits", async () => {
  const store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 6 });
  const fs = new SimFS();

  // The restore, held at the fsync of the parent after its mkdir (the last step before it takes the lock).
  const created = gate();
  const restoreGoes = gate();
  const restoreFs = wrapFileSystem(fs, (f) => f, {
    syncDir: async (path: string) => {
      created.open();
      await restoreGoes.promise;
      await fs.syncDir(path);
    },
  });
  const restoring = restore({ store, dir: "/r", fs: restoreFs }).then(
    () => "restored",
    (e: unknown) => e,
  );
  await created.promise;
  expect(await fs.stat("/r")).not.toBe(null);

  // The Wal, held once it holds the lock, before it creates its first file.
  const locked = gate();
  const walGoes = gate();
  const walFs = interceptOpen(fs, async (path, mode, next) => {
    if (mode !== "read") {
      locked.open();
      await walGoes.promise;
    }
    return await next(path, mode);
  });
  const opening = Wal.open<JsonValue>("/r", { fs: walFs, codec: jsonCodec });
  // Settled here too, so its rejection (the failure this test catches) is never unhandled meanwhile.
  opening.catch(() => undefined);
  await locked.promise;

  restoreGoes.open();
  expect(await restoring).toMatchObject({ code: "WAL_LOCKED" });
  expect(await fs.stat("/r")).toMatchObject({ isDirectory: true });

  walGoes.open();
  const opened = await opening;
  await opened.wal.commitTx([{ mine: 1 }]);
  await opened.wal.close();
  const { wal, events } = await Wal.open<JsonValue>("/r", { fs, codec: jsonCodec });
  await wal.close();
  expect(events).toEqual([{ mine: 1 }]);
});
