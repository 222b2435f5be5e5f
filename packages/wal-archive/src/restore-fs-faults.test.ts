/**
 * A restore whose own file system fails (creating `dir`, opening, writing or renaming a segment, fsyncing the
 * directory) rejects with that `WAL_IO` and leaves the file system as it found it: the directory it created is gone,
 * no file is left open, and a restore afterwards succeeds.
 */

import { type SimErrno, SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const CASES: [
  op: "mkdirp" | "open" | "write" | "rename" | "syncDir",
  skip: number,
  errno: SimErrno,
  syscall: string,
][] = [
  ["mkdirp", 0, "EACCES", "mkdir"],
  ["open", 0, "EMFILE", "open"],
  ["write", 2, "ENOSPC", "write"],
  ["rename", 0, "EIO", "rename"],
  ["rename", 2, "EIO", "rename"],
  ["syncDir", 1, "EIO", "fsync"],
  ["syncDir", 3, "EIO", "fsync"],
];

describe("a restore whose target file system fails", () => {
  for (const [op, skip, errno, syscall] of CASES) {
    it(`${op} #${skip + 1} ${errno}: WAL_IO, the directory removed, nothing open`, async () => {
      const fs = new SimFS();
      const store = memoryArchive();
      await archivedLog(fs, store);
      const fault = fs.injectFault({ op, errno, skip, path: /^\/r(\/|$)/ });
      const failure = await restore({ store, dir: "/r", fs }).then(
        () => expect.unreachable("the restore resolved"),
        (e: unknown) => e,
      );
      expect(fault.hits).toBe(1);
      expect(failure).toMatchObject({ code: "WAL_IO", details: { errno, syscall } });
      expect(await fs.stat("/r")).toBeNull();
      expect(fs.stats.opens - fs.stats.closes).toBe(0);
      // Nothing left behind stands in the way of the next restore.
      expect((await restore({ store, dir: "/r", fs })).segments).toBeGreaterThan(1);
    });
  }
});
