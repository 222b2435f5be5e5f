/**
 * A restore whose log is in place, durable and complete, and whose directory lock then fails to release, resolves:
 * the failure is on the result (`lockReleaseFailure`, a `WAL_IO` naming the directory and saying the log is restored)
 * and emitted as a process warning, so it cannot pass unseen. Before, the release's failure rejected the restore, and
 * a caller that retried it was refused as not empty, over a log that was fully restored.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, expect, it, vi } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** `sim`, whose directory lock's release throws `thrown` after releasing (the first time only, when `once`). */
function releaseThrows(sim: SimFS, thrown: unknown) {
  const seam = wrapFileSystem(sim, (file) => file, {
    tryLock: (path: string) => {
      const release = sim.tryLock(path);
      if (release === null) return null;
      return () => {
        release();
        throw thrown;
      };
    },
  } as never);
  return seam;
}

it("resolves with the log in place, and reports the release's failure on the result and as a process warning", async () => {
  const store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 6 });
  const committed = Array.from({ length: 6 }, (_, i) => ({ i }));
  const sim = new SimFS();
  const thrown = new Error("EIO: closing the lock");
  const warnings: unknown[] = [];
  vi.spyOn(process, "emitWarning").mockImplementation((warning: unknown) => {
    warnings.push(warning);
  });

  const result = await restore({ store, dir: "/r", fs: releaseThrows(sim, thrown) });

  expect(result.lastLsn).not.toBe(null);
  const failure = result.lockReleaseFailure;
  expect(failure).toMatchObject({ name: "WalError", code: "WAL_IO", details: { path: "/r" } });
  // The lock's own refusal of its release (WAL_IO), whose cause is what the seam threw.
  expect(failure?.cause).toMatchObject({ code: "WAL_IO", cause: thrown });
  expect(failure?.message).toContain("restored");
  expect(failure?.message).toContain("EIO: closing the lock");
  expect(warnings).toEqual([failure]);

  // The log is there and durable: it opens, from the durable image too, with every archived commit.
  for (const fs of [sim, sim.durableImage()]) {
    const { wal, events } = await Wal.open<JsonValue>("/r", { fs, codec: jsonCodec });
    expect(events).toEqual(committed);
    await wal.close();
  }
});

it("a release that fails with something that is not an Error is reported the same way", async () => {
  const store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 2 });
  vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
  const result = await restore({ store, dir: "/r", fs: releaseThrows(new SimFS(), "just a string") });
  expect(result.lockReleaseFailure).toMatchObject({
    code: "WAL_IO",
    cause: { code: "WAL_IO", cause: "just a string" },
  });
});

it("a restore that fails, and whose lock's release then throws, rejects with its own failure and removes what it wrote", async () => {
  const store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 2 });
  const sim = new SimFS();
  const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
  const own = new Error("onProgress gave up");
  const failed = restore({
    store,
    dir: "/r",
    fs: releaseThrows(sim, new Error("EIO: closing the lock")),
    onProgress: () => {
      throw own;
    },
  });
  await expect(failed).rejects.toBe(own);
  expect(await sim.stat("/r")).toBe(null);
  expect(emit).not.toHaveBeenCalled();
});

it("a restore whose lock releases has no lockReleaseFailure and emits no warning", async () => {
  const store = memoryArchive();
  await archivedLog(new SimFS(), store, { commits: 2 });
  const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
  const result = await restore({ store, dir: "/r", fs: new SimFS() });
  expect(result).not.toHaveProperty("lockReleaseFailure");
  expect(emit).not.toHaveBeenCalled();
});
