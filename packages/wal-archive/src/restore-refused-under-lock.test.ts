/**
 * A restore refused by its look under the lock (something appeared in `dir` while it listed the archive) changes
 * nothing: the lock file its own lock created goes again, whatever else `dir` holds; one it found there stays. Real
 * files, since only the kernel lock creates a lock file. (From a review: the lock file stayed beside the new entry, one
 * file more than the directory held, since only a lock file left alone was removed.)
 */

import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { LOCK_FILE_NAME } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";
import { gatedStore } from "./test-support/gated-store.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let store: MemoryArchive;
let runs = 0;

beforeAll(async () => {
  tmp = await makeTempDir("wal-archive-refused-under-lock");
  store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 12 });
});

afterAll(async () => {
  await tmp?.cleanup();
});

it.each([
  ["missing", [] as string[], false],
  ["empty", [], true],
  ["holding only the lock file", [LOCK_FILE_NAME], true],
])(
  "into a directory %s when it looked first, where a file appeared while the archive was listed: refused, the directory as it was then",
  async (_, found, exists) => {
    const dir = join(tmp.path, `r${++runs}`);
    if (exists) await mkdir(dir);
    for (const name of found) await writeFile(join(dir, name), "");
    const gated = gatedStore(store, "list", 1);
    const restoring = restore({ store: gated.store, dir }).then(
      () => "restored",
      (e: unknown) => e,
    );
    await gated.reached;
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "notes.txt"), "mine");
    gated.open();

    expect(await restoring).toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining("notes.txt"),
    });
    expect((await readdir(dir)).sort()).toEqual([...found, "notes.txt"].sort());
  },
);
