/**
 * A restore whose directory lock is lost while it writes (on Node's file system: other code in this process closed
 * the lock file's descriptor, and the kernel dropped the lock with it, so LoraDB or another process could have the
 * directory now) must not put its log in place: it fails with `WAL_LOCK_LOST`, found before the first rename, and
 * undoes what it wrote, leaving the file system as it found it (the directory it created removed again).
 */

import { closeSync } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDescriptorOf } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const base = await mkdtemp(join(tmpdir(), "lora-restore-lock-lost-"));
afterEach(() => rm(base, { recursive: true, force: true }));

it.skipIf(process.platform !== "linux")(
  "fails with WAL_LOCK_LOST before any rename when its lock's descriptor is closed meanwhile, and undoes its writes",
  async () => {
    const memory = memoryArchive();
    await archivedLog(new SimFS(), memory, { commits: 12 });
    const dir = join(base, "restored");
    const lockFile = join(dir, ".lora-wal.lock");
    let closed = 0;
    let gets = 0;
    // The last object fetched: the lock is held by then and every segment but the last is written.
    const objects = (await memory.list()).length;
    const store: ArchiveStore = {
      name: memory.name,
      list: (...args) => memory.list(...args),
      get: async (key, options) => {
        if (++gets === objects) {
          closeSync(openDescriptorOf(lockFile));
          closed++;
        }
        return memory.get(key, options);
      },
      put: (...args) => memory.put(...args),
      delete: (...args) => memory.delete(...args),
    };
    const failure = await restore({ store, dir }).then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(closed).toBe(1);
    expect(isWalError(failure, "WAL_LOCK_LOST"), String(failure)).toBe(true);
    // Nothing was made visible, and the directory this restore created is gone again.
    expect(await stat(dir).catch(() => null)).toBeNull();
    expect(await readdir(base)).toEqual([]);
  },
);
