/**
 * A log restored to an earlier point that writes events of the same sizes as the archive's: its segment seals at the
 * same size and base LSN as the store's sealed object of that segment, and with the same CRC-32 (every record ends
 * with its own CRC-32, so a segment's CRC-32 depends on its record sizes only). The archiver compares the bytes, so
 * it refuses the store instead of appending the new history's next segments to the old history's segment.
 */

import { Wal } from "@lora/wal";
import { crc32, isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { parseArchiveKey } from "./archive-keys.js";
import type { ArchiveStore } from "./archive-store.js";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { ManualClock, withArchiverClock } from "./testing/index.js";

it("an archiver refuses a store whose sealed segment has this log's size, base and CRC-32 but other bytes", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  const opts = { codec: jsonCodec, fs, segmentTargetBytes: 300 };
  // History A: segment 1 sealed and archived; the disk is lost before any piece of segment 2 is shipped.
  const { wal: a } = await Wal.open<JsonValue>("/a", opts);
  const archA = startArchiver(a, { store, fs, intervalMs: 2 ** 31 - 1 });
  const commitsA: number[] = [];
  for (let i = 0; i < 20 && (await a.segments()).length < 2; i++) {
    commitsA.push((await a.commitTx([{ v: `A${i}` }]))?.commitLsn as number);
  }
  for (let i = 0; i < 200 && (await store.list("segments/")).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await archA.stop({ flush: false });
  await a.close();
  const before = (await store.list()).map((o) => o.key);
  expect(before.some((k) => k.startsWith("segments/0000000001-"))).toBe(true);
  expect(before.some((k) => k.includes("/0000000002-"))).toBe(false);

  // History B: restored to A's first commit, then other events of the same size; its segment 1 seals like A's.
  await restore({ store, dir: "/b", toLsn: commitsA[0] as number, fs });
  const { wal: b } = await Wal.open<JsonValue>("/b", opts);
  for (let i = 1; i < 20 && (await b.segments()).length < 2; i++) await b.commitTx([{ v: `B${i}` }]);
  const sealedA = before.map((k) => parseArchiveKey(k)).find((k) => k?.kind === "segment" && k.id === 1);
  if (sealedA?.kind !== "segment") throw new Error("no sealed segment 1");
  const bytesB = fs.readFileSync("/b/0000000001.wal");
  expect(bytesB.byteLength).toBe(sealedA.size);
  expect(crc32(bytesB) >>> 0).toBe(sealedA.crc32);

  let calls = 0;
  const count = <T>(call: T): T => {
    calls++;
    return call;
  };
  const counted: ArchiveStore = {
    name: store.name,
    put: (...args) => count(store.put(...args)),
    get: (...args) => count(store.get(...args)),
    list: (...args) => count(store.list(...args)),
    delete: (...args) => count(store.delete(...args)),
  };
  // Its shipping interval fires when the test says so: the passes it would run after the failure are counted, not
  // left to however many 5 ms a loaded machine gives in a wait.
  const clock = new ManualClock();
  const archB = startArchiver(b, withArchiverClock({ store: counted, fs, intervalMs: 5 }, clock));
  await b.commitTx([{ v: "B-last" }]);
  const failure = await archB.flush().then(
    () => null,
    (e: unknown) => e,
  );
  expect(isWalError(failure, "WAL_ARCHIVE_DIVERGED")).toBe(true);
  expect((failure as { details: { object?: string } }).details.object).toMatch(/^segments\/0000000001-/);
  expect(archB.status()).toMatchObject({ state: "failing", lastError: { code: "WAL_ARCHIVE_DIVERGED" } });
  // It stays failing without calling the store again (each try would download the segment it compares).
  // Nor does it count failures that are only the divergence said again: no call failed.
  const callsAtFailure = calls;
  const failuresAtFailure = archB.status().failures;
  const firedBefore = clock.fired;
  for (let i = 0; i < 12; i++) {
    clock.advance(5);
    // Everything here is in memory (SimFS, memoryArchive): a pass that calls the store does so within a few turns.
    for (let t = 0; t < 50; t++) await new Promise((resolve) => setImmediate(resolve));
  }
  expect(clock.fired - firedBefore).toBeGreaterThanOrEqual(12);
  expect(calls).toBe(callsAtFailure);
  expect(archB.status().failures).toBe(failuresAtFailure);
  expect(archB.status().lastError?.code).toBe("WAL_ARCHIVE_DIVERGED");
  await archB.stop({ flush: false });
  await b.close();
  // Nothing of the new history went into the store: a restore still gives history A, whole.
  expect((await store.list()).map((o) => o.key)).toEqual(before);
  await restore({ store, dir: "/c", fs });
  const { wal: c, events } = await Wal.open<JsonValue>("/c", { codec: jsonCodec, fs });
  await c.close();
  // The commit that rotated A went into its segment 2, which the store never got.
  expect(events).toEqual(commitsA.slice(0, -1).map((_, i) => ({ v: `A${i}` })));
});
