/**
 * Failures outside the store: reading a sealed segment to upload it, and an object the attach listing named that is
 * gone when fetched. Neither is retried call by call: the archiver says `failing` with the cause
 * (`WAL_ARCHIVE_UNAVAILABLE`), and the next pass (here a flush's) tries again; once it succeeds the state is
 * `running` again and the archive holds the log.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { type Archiver, startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

/** No timer pass: only events and flushes run the archiver. */
const NEVER = 2 ** 31 - 1;

/** Wait, bounded by count, until the archiver says `failing`. */
async function untilFailing(archiver: Archiver): Promise<void> {
  for (let i = 0; i < 2000 && archiver.status().state !== "failing"; i++) await new Promise((r) => setTimeout(r, 1));
  expect(archiver.status().state).toBe("failing");
}

/** The events a restore of `store` opens with. */
async function restoredEvents(store: ArchiveStore, fs: SimFS, dir: string): Promise<JsonValue[]> {
  await restore({ store, dir, fs });
  const { wal, events } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, fs });
  await wal.close();
  return events;
}

describe("an archiver failing outside the store", () => {
  it("a sealed segment that cannot be read: failing with the cause, then uploaded by the next flush", async () => {
    const fs = new SimFS();
    const store = memoryArchive();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 200 });
    const states: string[] = [];
    const archiver = startArchiver(wal, { store, fs, intervalMs: NEVER, onStateChange: (s) => states.push(s.state) });
    await wal.commitTx([{ i: 0 }]);
    await archiver.flush();
    const fault = fs.injectFault({ op: "read", path: "/w/0000000001.wal", errno: "EIO" });
    const events: JsonValue[] = [{ i: 0 }];
    for (let i = 1; wal.activeSegmentId() < 2; i++) {
      events.push({ i });
      await wal.commitTx([{ i }]);
    }
    await untilFailing(archiver);
    expect(fault.hits).toBe(1);
    const { lastError } = archiver.status();
    expect(isWalError(lastError, "WAL_ARCHIVE_UNAVAILABLE")).toBe(true);
    expect(lastError?.cause).toMatchObject({ code: "WAL_IO", details: { errno: "EIO", syscall: "read" } });
    expect(archiver.status()).toMatchObject({ pendingSegments: 1, uploadedSegments: 0, failures: 1 });

    await archiver.flush();
    expect(states).toEqual(["failing", "running"]);
    expect(archiver.status()).toMatchObject({ pendingSegments: 0, uploadedSegments: 1, archivedLsn: wal.fsyncedLsn() });
    await archiver.stop();
    await wal.close();
    expect(await restoredEvents(store, fs, "/r")).toEqual(events);
  });

  it("an object listed at attach and gone when fetched: failing, then a new listing at the next flush", async () => {
    const fs = new SimFS();
    const inner = memoryArchive();
    await archivedLog(fs, inner);
    let gets = 0;
    // The first fetch finds nothing, as if the object had been pruned between the listing and the fetch.
    const store: ArchiveStore = {
      name: inner.name,
      put: (...a) => inner.put(...a),
      list: (...a) => inner.list(...a),
      delete: (...a) => inner.delete(...a),
      get: (key, options) => (gets++ === 0 ? Promise.resolve(null) : inner.get(key, options)),
    };
    const { wal, events: before } = await Wal.open<JsonValue>("/a", { codec: jsonCodec, fs, segmentTargetBytes: 200 });
    const lists = inner.calls.list;
    const archiver = startArchiver(wal, { store, fs, intervalMs: NEVER });
    await untilFailing(archiver);
    const { lastError } = archiver.status();
    expect(isWalError(lastError, "WAL_ARCHIVE_UNAVAILABLE")).toBe(true);
    expect(lastError?.cause).toMatchObject({ code: "WAL_ARCHIVE_MISSING" });
    expect(archiver.status()).toMatchObject({ uploadedPieces: 0, uploadedSegments: 0, failures: 1 });

    await wal.commitTx([{ after: 1 }]);
    await archiver.flush();
    expect(inner.calls.list - lists).toBeGreaterThanOrEqual(2); // listed again
    expect(archiver.status()).toMatchObject({ state: "running", archivedLsn: wal.fsyncedLsn() });
    await archiver.stop();
    await wal.close();
    expect(await restoredEvents(inner, fs, "/r")).toEqual([...before, { after: 1 }]);
  });
});
