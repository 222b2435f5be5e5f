/**
 * A restore beside a live archiver: when the archiver seals the newest segment after the restore listed the store
 * and before it fetched that segment's pieces, the pieces are gone (the sealed object replaced them). The restore
 * lists again and restores from the sealed object, a bounded number of times; it used to fail
 * `WAL_ARCHIVE_MISSING` ("listed but is gone").
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { restore } from "./restore.js";
import { liveArchive } from "./test-support/live-archive.js";

/** `store`, with `beforeGet` run before each fetch of a piece. */
function sealingOnFetch(store: ArchiveStore, beforeGet: () => Promise<void>): ArchiveStore {
  return {
    name: store.name,
    put: (key, bytes, options) => store.put(key, bytes, options),
    async get(key, options) {
      if (key.startsWith("partial/")) await beforeGet();
      return store.get(key, options);
    },
    delete: (key, options) => store.delete(key, options),
    list: (prefix, options) => store.list(prefix, options),
  };
}

it("lists again when the archiver seals the segment whose pieces it is about to fetch, and restores it", async () => {
  const { fs, store, wal, archiver, sealOne } = await liveArchive();
  expect(store.keys().some((k) => k.startsWith("partial/"))).toBe(true);
  let seals = 0;
  const live = sealingOnFetch(store, async () => {
    if (seals++ === 0) await sealOne();
  });
  const restored = await restore({ store: live, dir: "/r", fs });
  expect(seals).toBeGreaterThanOrEqual(1);
  await archiver.stop();
  await wal.close();
  const { wal: copy, events } = await Wal.open<JsonValue>("/r", { codec: jsonCodec, fs });
  await copy.close();
  const { wal: source, events: all } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
  await source.close();
  // The restore holds a prefix of the log up to what the second listing archived.
  expect(events.length).toBeGreaterThan(0);
  expect(all.slice(0, events.length)).toEqual(events);
  expect(restored.lastLsn).toBeGreaterThan(0);
});

it("lists again the same way into a directory holding a restore's leftovers, and leaves none", async () => {
  const { fs, store, wal, archiver, sealOne } = await liveArchive();
  fs.writeFileSync("/r/0000000001.wal.restoring", new Uint8Array(40));
  let seals = 0;
  const live = sealingOnFetch(store, async () => {
    if (seals++ === 0) await sealOne();
  });
  const restored = await restore({ store: live, dir: "/r", fs });
  expect(seals).toBeGreaterThanOrEqual(2);
  expect(fs.listSync("/r").filter((n) => n.endsWith(".restoring"))).toEqual([]);
  await archiver.stop();
  await wal.close();
  const { wal: copy, events } = await Wal.open<JsonValue>("/r", { codec: jsonCodec, fs });
  await copy.close();
  expect(events.length).toBeGreaterThan(0);
  expect(restored.lastLsn).toBeGreaterThan(0);
});

it("gives up after three listings, each overtaken by a seal, with WAL_ARCHIVE_MISSING and nothing left", async () => {
  const { fs, store, wal, archiver, sealOne } = await liveArchive();
  expect(store.keys().some((k) => k.startsWith("partial/"))).toBe(true);
  let seals = 0;
  const live = sealingOnFetch(store, async () => {
    seals++;
    await sealOne();
  });
  await expect(restore({ store: live, dir: "/r", fs })).rejects.toMatchObject({
    code: "WAL_ARCHIVE_MISSING",
    message: expect.stringContaining("was listed but is gone"),
  });
  expect(seals).toBe(3);
  expect(await fs.stat("/r")).toBeNull(); // the directory the refused restore made is removed too
  await archiver.stop();
  await wal.close();
});
