import { isWalError } from "@lora/wal-codec";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

it("a refused restore removes the directories it made innermost first, fsyncing each parent; one that was there stays", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store);
  // The second sealed segment is damaged: found after the first is written, so the directories hold a file by then.
  const sealed = (await store.list("segments/")).map((o) => o.key).sort();
  store.corrupt(sealed[1] as string);
  await sim.mkdirp("/kept");
  // Directory removals and fsyncs, in order, once the first removal starts.
  const undo: string[] = [];
  const fs = wrapFileSystem(sim, (file) => file, {
    async rmdir(path: string) {
      undo.push(`rmdir ${path}`);
      await sim.rmdir(path);
    },
    async syncDir(path: string) {
      if (undo.length > 0) undo.push(`syncDir ${path}`);
      await sim.syncDir(path);
    },
  });

  const failure = await restore({ store, dir: "/kept/x/y/r", fs }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(isWalError(failure, "WAL_ARCHIVE_CORRUPT")).toBe(true);
  expect(undo).toEqual([
    "rmdir /kept/x/y/r",
    "syncDir /kept/x/y",
    "rmdir /kept/x/y",
    "syncDir /kept/x",
    "rmdir /kept/x",
    "syncDir /kept",
  ]);
  expect(await sim.readdir("/kept")).toEqual([]);
});
