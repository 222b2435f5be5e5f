/**
 * Restore and verify list the archive in two calls (pieces and sealed segments). An archiver working on the same
 * store meanwhile uploads a segment's sealed object and then deletes its pieces: a seal landing between the two
 * listings must not leave the segment out of both, which made a sound archive read as one with a hole.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { restore } from "./restore.js";
import { liveArchive } from "./test-support/live-archive.js";
import { verifyArchive } from "./verify-archive.js";

it("a segment sealed and archived between restore's (and verify's) two listings is not missed", async () => {
  const { fs, store, wal, archiver, sealOne } = await liveArchive();
  expect(store.keys().some((k) => k.startsWith("partial/"))).toBe(true);

  // The archiver seals a segment right after the first listing call of each reader.
  let listings = 0;
  const live: ArchiveStore = {
    name: store.name,
    put: (key, bytes, options) => store.put(key, bytes, options),
    get: (key, options) => store.get(key, options),
    delete: (key, options) => store.delete(key, options),
    async list(prefix, options) {
      const out = await store.list(prefix, options);
      if (listings++ % 2 === 0) await sealOne();
      return out;
    },
  };
  const report = await verifyArchive(live);
  expect(report.problems).toEqual([]);
  const restored = await restore({ store: live, dir: "/r", fs });
  expect(restored.lastLsn).toBeGreaterThan(0);
  await archiver.stop();
  const lastLsn = wal.fsyncedLsn();
  await wal.close();
  // What was restored opens, with every record of the archive's listing.
  const { wal: copy, events } = await Wal.open<JsonValue>("/r", { codec: jsonCodec, fs });
  expect(events.length).toBeGreaterThan(0);
  expect(restored.lastLsn).toBeLessThanOrEqual(lastLsn);
  await copy.close();
});
