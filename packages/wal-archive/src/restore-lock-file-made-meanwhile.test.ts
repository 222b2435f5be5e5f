/**
 * A failed restore removes the lock file only when its own lock created it, as the lock acquisition itself reports
 * (`HeldLock.createdFile`). It used to decide by looking for the file just before it took the lock: a holder that
 * created `.lora-wal.lock` and let go between that look and the lock (a `Wal` that opened and closed the directory,
 * LoraDB) left a file the restore took for its own, and the failed restore removed it. Driven through the file-system
 * seam: its lock, on being taken, first plays that other holder (creates the lock file, and for the second case writes a
 * segment as an opened `Wal` does), so the interleaving is the same on every run.
 */

import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const DIR = "/r";
const LOCK = `${DIR}/.lora-wal.lock`;

/** `sim`, whose lock's acquisition is preceded by another holder's: `meanwhile` runs, then the lock is taken. */
function otherHolderFirst(sim: SimFS, meanwhile: () => void) {
  return wrapFileSystem(sim, (file) => file, {
    tryLock: (path: string) => {
      meanwhile();
      return sim.tryLock(path);
    },
  } as never);
}

it("a restore that fails after another holder made the lock file right before its lock leaves that file", async () => {
  const store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 4 });
  const sim = new SimFS();
  const own = new Error("onProgress gave up");
  const failed = restore({
    store,
    dir: DIR,
    fs: otherHolderFirst(sim, () => sim.writeFileSync(LOCK, new Uint8Array(0))),
    onProgress: () => {
      throw own;
    },
  });
  await expect(failed).rejects.toBe(own);
  // `dir` was created by the restore but holds the other holder's lock file now: it stays, and so does the file.
  expect(sim.listSync(DIR)).toEqual([".lora-wal.lock"]);
});

it("a restore refused under its lock because a Wal opened the directory meanwhile leaves the Wal's lock file", async () => {
  const store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 4 });
  const sim = new SimFS();
  sim.mkdirpSync(DIR);
  const failed = restore({
    store,
    dir: DIR,
    fs: otherHolderFirst(sim, () => {
      sim.writeFileSync(LOCK, new Uint8Array(0));
      sim.writeFileSync(`${DIR}/0000000001.wal`, new Uint8Array(32));
    }),
  });
  await expect(failed).rejects.toMatchObject({
    code: "WAL_INVALID_OPTION",
    message: expect.stringContaining("not empty"),
  });
  expect(sim.listSync(DIR).sort()).toEqual([".lora-wal.lock", "0000000001.wal"]);
});
