/**
 * An archiver given an `fs` of its own checks, before it writes anything through it, that the seam reaches the files
 * the handle writes: another SimFS holding another log at the handle's path, or one holding nothing there, leaves it
 * `failing` with the reason and archives nothing. It used to archive the other seam's log (and write its slot there)
 * while the handle's log was never archived nor held back from truncation.
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import type { FileStat, WalFileSystem } from "@lora/wal-segment";
import { boundProperty, countingFileSystem, SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { type ArchivableWal, startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

const DIR = "/w";

async function handleWith(events: JsonValue[]) {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, { codec: jsonCodec, fs });
  for (const e of events) await wal.commitTx([e]);
  return { fs, wal };
}

/** Another SimFS holding another log at the handle's path. */
async function otherLog(): Promise<SimFS> {
  const { fs, wal } = await handleWith([{ other: 1 }, { other: 2 }]);
  await wal.close();
  return fs;
}

async function refusedWith(fs: WalFileSystem) {
  const { fs: handleFs, wal } = await handleWith([{ mine: 1 }]);
  const store = memoryArchive();
  const archiver = startArchiver(wal, { store, fs, intervalMs: 5 });
  const flushed = await archiver.flush().then(
    () => null,
    (error: unknown) => error,
  );
  const status = archiver.status();
  await archiver.stop({ flush: false });
  await wal.close();
  return { flushed, status, objects: await store.list(""), handleFs };
}

describe("startArchiver with an fs that does not reach the handle's files", () => {
  it("is failing with WAL_INVALID_OPTION as the cause when another seam holds another log there", async () => {
    // The handle on the real disk, the archiver's fs a SimFS holding another log at the same path: both report
    // identities, and they differ.
    const parent = await mkdtemp(join(tmpdir(), "archiver-fs-reaches-"));
    try {
      const dir = join(parent, "w");
      const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
      await wal.commitTx([{ mine: 1 }]);
      const other = SimFS.withDir(parent);
      const { wal: otherWal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, fs: other });
      await otherWal.commitTx([{ other: 1 }]);
      await otherWal.close();
      const before = other.listSync(dir);
      const store = memoryArchive();
      const archiver = startArchiver(wal, { store, fs: other, intervalMs: 5 });
      const flushed = await archiver.flush().then(
        () => null,
        (error: unknown) => error,
      );
      expect(archiver.status()).toMatchObject({ state: "failing", uploadedSegments: 0, uploadedPieces: 0 });
      await archiver.stop({ flush: false });
      await wal.close();
      expect(flushed).toMatchObject({
        code: "WAL_ARCHIVE_UNAVAILABLE",
        cause: { code: "WAL_INVALID_OPTION", details: { path: join(dir, "0000000001.wal") } },
      });
      expect(String((flushed as Error).message)).toMatch(
        /is another file through fs \(identity sim:\d+, the handle's is \d+:\d+\)/,
      );
      expect(await store.list("")).toEqual([]);
      // Nothing written through the other seam: no slot made there.
      expect(other.listSync(dir)).toEqual(before);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it("is failing when the other seam has no such file, and names it", async () => {
    const empty = SimFS.withDir(DIR);
    const { flushed, objects } = await refusedWith(empty);
    expect(flushed).toMatchObject({ code: "WAL_ARCHIVE_UNAVAILABLE", cause: { code: "WAL_INVALID_OPTION" } });
    expect(String((flushed as Error).message)).toMatch(
      /\/w\/0000000001\.wal exists through the handle's seam but not through fs/,
    );
    expect(objects).toEqual([]);
    expect(empty.listSync(DIR)).toEqual([]);
  });

  it("cannot tell another seam whose stat reports no identity and holds a file there (documented)", async () => {
    const other = await otherLog();
    const blind = wrapFileSystem(
      other,
      (file) =>
        new Proxy(file, { get: (target, key) => (key === "identity" ? undefined : boundProperty(target, key)) }),
      {
        stat: async (path: string): Promise<FileStat | null> => {
          const s = await other.stat(path);
          return s === null ? null : { size: s.size, isFile: s.isFile, isDirectory: s.isDirectory };
        },
      },
    );
    const { flushed, objects } = await refusedWith(blind);
    expect(flushed).toBeNull();
    expect(objects.length).toBeGreaterThan(0);
  });
});

describe("startArchiver on a handle whose directory holds no segment through the archiver's seam", () => {
  it("is failing with WAL_INVALID_OPTION as the cause, writes nothing there, and does not wait forever", async () => {
    // A handle of one's own (no fs(): Node's file system) whose dir() names an empty directory.
    const parent = await mkdtemp(join(tmpdir(), "archiver-no-segment-"));
    try {
      const { wal } = await handleWith([{ mine: 1 }]);
      const view: ArchivableWal = {
        dir: () => parent,
        fsyncedLsn: () => wal.fsyncedLsn(),
        onLifecycle: (listener) => wal.onLifecycle(listener),
      };
      const archiver = startArchiver(view, { store: memoryArchive(), intervalMs: 5 });
      const flushed = await archiver.flush().then(
        () => null,
        (error: unknown) => error,
      );
      await archiver.stop({ flush: false });
      await wal.close();
      expect(flushed).toMatchObject({ code: "WAL_ARCHIVE_UNAVAILABLE", cause: { code: "WAL_INVALID_OPTION" } });
      expect(String((flushed as Error).message)).toMatch(/holds no log segment through the handle's seam/);
      expect(await readdir(parent)).toEqual([]);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe("startArchiver with an fs that does reach them", () => {
  it("archives through a wrapper over the handle's seam", async () => {
    const { fs, wal } = await handleWith([{ mine: 1 }]);
    const store = memoryArchive();
    const archiver = startArchiver(wal, { store, fs: countingFileSystem(fs).fs, intervalMs: 5 });
    await archiver.flush();
    expect(archiver.status()).toMatchObject({ state: "running", lastError: null, archivedLsn: wal.fsyncedLsn() });
    await archiver.stop();
    await wal.close();
  });
});
