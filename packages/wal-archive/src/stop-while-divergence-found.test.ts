/**
 * A stop() made while the pass that finds another history in the store is still running resolves, as the stop of a
 * diverged archiver does (it ships nothing more, so there is nothing to flush). It rejected with
 * `WAL_ARCHIVE_DIVERGED`: the stop's flush was waiting when the pass failed, and took the divergence as its answer.
 * Each store call on the way to the finding is held by hand, and stop() is called while it is held.
 */

import { Wal } from "@lora/wal";
import { crc32, isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { archiveKey, parseArchiveKey } from "./archive-keys.js";
import type { ArchiveStore } from "./archive-store.js";
import { startArchiver } from "./archiver.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

const opts = { codec: jsonCodec, segmentTargetBytes: 300 };

/** A promise resolved by hand. */
function handResolved(): { readonly promise: Promise<void>; resolve(): void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve: () => resolve() };
}

/** A store whose calls are named in `calls`; the one numbered `holdAt` waits until `release()`. */
function heldStore(inner: ArchiveStore, holdAt: number) {
  const calls: string[] = [];
  const reached = handResolved();
  const released = handResolved();
  const held = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    const i = calls.push(what) - 1;
    if (i === holdAt) {
      reached.resolve();
      await released.promise;
    }
    return await call();
  };
  const store: ArchiveStore = {
    name: inner.name,
    put: (...args) => held("put", () => inner.put(...args)),
    get: (...args) => held("get", () => inner.get(...args)),
    list: (...args) => held("list", () => inner.list(...args)),
    delete: (...args) => held("delete", () => inner.delete(...args)),
  };
  return { store, calls, reached: reached.promise, release: () => released.resolve() };
}

/** A log and a store that holds another history of it, found at catch-up. */
interface Diverging {
  readonly wal: Wal<JsonValue>;
  readonly fs: SimFS;
  readonly store: ArchiveStore;
}

/** The store holds a segment beyond the log's newest: found in the listing. */
async function restoredToEarlierPoint(): Promise<Diverging> {
  const fs = new SimFS();
  const store = memoryArchive();
  const commits = await archivedLog(fs, store, { commits: 30, segmentTargetBytes: 300 });
  await restore({ store, dir: "/b", toLsn: commits[10] as number, fs });
  const { wal } = await Wal.open<JsonValue>("/b", { ...opts, fs });
  return { wal, fs, store };
}

/**
 * The store's newest sealed segment has the log's size and base LSN but other bytes (its key names their CRC-32):
 * found once that object is fetched and compared.
 */
async function otherBytesOfNewestSealed(): Promise<Diverging> {
  const fs = new SimFS();
  const real: MemoryArchive = memoryArchive();
  await archivedLog(fs, real, { commits: 30, segmentTargetBytes: 300 });
  const sealed = (await real.list("segments/")).flatMap((o) => {
    const k = parseArchiveKey(o.key);
    return k?.kind === "segment" ? [{ key: o.key, ...k }] : [];
  });
  const newest = sealed.reduce((a, b) => (b.id > a.id ? b : a));
  const other = ((await real.get(newest.key)) as Uint8Array).slice();
  other[other.length - 1] = (other[other.length - 1] as number) ^ 0xff;
  const otherKey = archiveKey({ ...newest, crc32: crc32(other) });
  const store: ArchiveStore = {
    name: real.name,
    put: (...args) => real.put(...args),
    delete: (...args) => real.delete(...args),
    get: async (key, options) => (key === otherKey ? other.slice() : await real.get(key, options)),
    list: async (prefix, options) =>
      (await real.list(prefix, options)).map((o) => (o.key === newest.key ? { ...o, key: otherKey } : o)),
  };
  const { wal } = await Wal.open<JsonValue>("/a", { ...opts, fs });
  return { wal, fs, store };
}

describe("stop() while the pass that finds another history runs", () => {
  for (const [name, setUp, path] of [
    ["a segment beyond the log's newest", restoredToEarlierPoint, ["list"]],
    ["other bytes in the newest sealed segment", otherBytesOfNewestSealed, ["list", "get"]],
  ] as const) {
    it(`${name}: the store calls up to the finding are ${path.join(", ")}`, async () => {
      const { wal, fs, store } = await setUp();
      const counted = heldStore(store, -1);
      const archiver = startArchiver(wal, { store: counted.store, fs, intervalMs: 2 ** 31 - 1 });
      const failure = await archiver.flush().then(
        () => null,
        (error: unknown) => error,
      );
      expect(isWalError(failure, "WAL_ARCHIVE_DIVERGED")).toBe(true);
      expect(counted.calls).toEqual(path);
      await archiver.stop();
      await wal.close();
    });

    for (let at = 0; at < path.length; at++) {
      it(`${name}: stop() made while store call ${at} (${path[at]}) is held resolves`, async () => {
        const { wal, fs, store } = await setUp();
        const held = heldStore(store, at);
        const archiver = startArchiver(wal, { store: held.store, fs, intervalMs: 2 ** 31 - 1 });
        await held.reached;
        const stopped = archiver.stop().then(
          () => "resolved",
          (error: unknown) => error,
        );
        held.release();
        // Before: WalError WAL_ARCHIVE_DIVERGED.
        expect(await stopped).toBe("resolved");
        expect(archiver.status().state).toBe("stopped");
        // The finding was not lost: status() still says why nothing more is shipped.
        expect(archiver.status().lastError?.code).toBe("WAL_ARCHIVE_DIVERGED");
        await wal.close();
      });
    }
  }
});
