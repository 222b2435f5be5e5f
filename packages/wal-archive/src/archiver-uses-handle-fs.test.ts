/**
 * `startArchiver(wal)` on a handle opened over a file-system seam of its own (SimFS here, a test's or an embedder's
 * seam in general) reads the segments and writes its slot through that seam, the handle's (`wal.fs()`), without
 * `fs` given again. It used to take Node's file system whenever `fs` was left out: it listed and read the segments
 * at the handle's path on the real disk (another log, or none) and created its slot there, while the handle's own
 * log was never archived and its truncation never held back. An `fs` given explicitly still wins (a wrapper over
 * the handle's seam, as fault-injection tests use).
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { readSlot } from "@lora/wal-replay";
import { countingFileSystem, SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ArchivableWal, startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";

let parent: string;
let dir: string;
beforeEach(async () => {
  parent = await mkdtemp(join(tmpdir(), "archiver-handle-fs-"));
  // A path that exists on the real disk's side too: what the archiver wrote there by mistake is seen.
  dir = join(parent, "wal");
});
afterEach(async () => {
  await rm(parent, { recursive: true, force: true });
});

async function eventsOf(fs: SimFS, at: string): Promise<JsonValue[]> {
  const { wal, events } = await Wal.open<JsonValue>(at, { codec: jsonCodec, fs });
  await wal.close();
  return events;
}

describe("startArchiver on a handle over SimFS, without fs", () => {
  it("archives the handle's log through its seam, and touches nothing on the real disk", async () => {
    const fs = SimFS.withDir(parent);
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, fs, segmentTargetBytes: 200 });
    expect(wal.fs()).toBe(fs);
    const store = memoryArchive();
    const archiver = startArchiver(wal, { store, intervalMs: 5 });
    const written: JsonValue[] = [];
    for (let i = 0; i < 20; i++) {
      written.push({ i });
      await wal.commitTx([{ i }]);
    }
    await archiver.flush();
    expect(archiver.status()).toMatchObject({ state: "running", archivedLsn: wal.fsyncedLsn(), lastError: null });
    // The slot is the handle's, in its seam.
    expect((await readSlot(dir, "archive", { fs })).confirmedLsn).toBeGreaterThan(0);
    await archiver.stop();
    await wal.close();
    expect(await readdir(parent)).toEqual([]);
    await restore({ store, dir: join(parent, "restored"), fs });
    expect(await eventsOf(fs, join(parent, "restored"))).toEqual(written);
  });

  it("an fs given explicitly wins: a wrapper over the handle's seam is the one used", async () => {
    const fs = SimFS.withDir(parent);
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, fs });
    await wal.commitTx([{ a: 1 }]);
    const counting = countingFileSystem(fs);
    const archiver = startArchiver(wal, { store: memoryArchive(), fs: counting.fs, intervalMs: 5 });
    await archiver.flush();
    await archiver.stop();
    await wal.close();
    expect(counting.counts.totalBytesRead((path) => path.startsWith(dir))).toBeGreaterThan(0);
    expect(await readdir(parent)).toEqual([]);
  });
});

describe("a handle of one's own (ArchivableWal) whose fs() is not a seam", () => {
  it("is refused with WAL_INVALID_ARGUMENT before anything is started, held or written", async () => {
    const fs = SimFS.withDir(parent);
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, fs });
    await wal.commitTx([{ a: 1 }]);
    const held: string[] = [];
    for (const bad of [() => null, () => "/tmp", () => ({}), 5]) {
      const view = {
        dir: () => wal.dir(),
        fsyncedLsn: () => wal.fsyncedLsn(),
        onLifecycle: (l: Parameters<ArchivableWal["onLifecycle"]>[0]) => {
          held.push("onLifecycle");
          return wal.onLifecycle(l);
        },
        retain: (name: string, position: () => number) => {
          held.push("retain");
          return wal.retain(name, position);
        },
        fs: bad,
      } as unknown as ArchivableWal;
      let error: unknown;
      try {
        startArchiver(view, { store: memoryArchive() });
      } catch (e) {
        error = e;
      }
      expect(isWalError(error, "WAL_INVALID_ARGUMENT"), String(error)).toBe(true);
    }
    const thrower = new Error("the seam is gone");
    const throwing = {
      dir: () => wal.dir(),
      fsyncedLsn: () => wal.fsyncedLsn(),
      onLifecycle: () => () => undefined,
      fs: () => {
        throw thrower;
      },
    } as unknown as ArchivableWal;
    expect(() => startArchiver(throwing, { store: memoryArchive() })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_ARGUMENT", cause: thrower }),
    );
    expect(held).toEqual([]);
    await wal.close();
    expect(fs.listSync(dir).some((name) => name === "slots")).toBe(false);
  });
});
