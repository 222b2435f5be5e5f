/**
 * At attach, the archiver checks what the store holds of this log's segments against the directory before it ships
 * anything: a sealed object whose key names another size or base LSN than the local segment (or a segment that is
 * still active here), and a piece naming another base LSN or holding other bytes than the file, are another history
 * (`WAL_ARCHIVE_DIVERGED` naming the object). The archiver then calls the store no more: nothing is put or deleted,
 * its flush rejects, its stop resolves without flushing.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { listSegments } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { type ArchiveKey, archiveKey, parseArchiveKey } from "./archive-keys.js";
import { startArchiver } from "./archiver.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { archivedLog } from "./test-support/archived-log.js";

type Listed = ArchiveKey & { readonly key: string };

/** The store's objects, parsed, oldest first. */
async function listed(store: MemoryArchive): Promise<Listed[]> {
  return (await store.list()).flatMap((o) => {
    const k = parseArchiveKey(o.key);
    return k === null ? [] : [{ ...k, key: o.key }];
  });
}

/** Replace the object `from` by its bytes (or `bytes`) under the key `to` names. */
async function rekey(store: MemoryArchive, from: Listed, to: ArchiveKey, bytes?: Uint8Array): Promise<string> {
  const body = bytes ?? (store.peek(from.key) as Uint8Array);
  store.remove(from.key);
  const key = archiveKey(to);
  await store.put(key, body);
  return key;
}

const CASES: [string, (store: MemoryArchive, objects: Listed[], active: number) => Promise<string>][] = [
  [
    "a sealed object whose key names another size",
    (store, objects) => {
      const s = objects.find((o) => o.kind === "segment" && o.id === 2) as Extract<Listed, { kind: "segment" }>;
      return rekey(store, s, { ...s, size: s.size + 1 });
    },
  ],
  [
    "a sealed object whose key names another base LSN",
    (store, objects) => {
      const s = objects.find((o) => o.kind === "segment" && o.id === 2) as Extract<Listed, { kind: "segment" }>;
      return rekey(store, s, { ...s, baseLsn: s.baseLsn + 1 });
    },
  ],
  [
    "a sealed object of the segment that is active here",
    async (store, objects, active) => {
      const p = objects.find((o) => o.kind === "piece" && o.id === active) as Extract<Listed, { kind: "piece" }>;
      const bytes = store.peek(p.key) as Uint8Array;
      const key = archiveKey({ kind: "segment", id: active, baseLsn: p.baseLsn, size: p.to, crc32: p.crc32 });
      await store.put(key, bytes);
      return key;
    },
  ],
  [
    "a piece whose key names another base LSN",
    (store, objects, active) => {
      const p = objects.find((o) => o.kind === "piece" && o.id === active) as Extract<Listed, { kind: "piece" }>;
      return rekey(store, p, { ...p, baseLsn: p.baseLsn + 1 });
    },
  ],
  [
    "a piece holding other bytes than the file (its CRC-32 says so)",
    (store, objects, active) => {
      const p = objects.find((o) => o.kind === "piece" && o.id === active) as Extract<Listed, { kind: "piece" }>;
      const other = (store.peek(p.key) as Uint8Array).slice();
      other[other.byteLength - 1] = (other[other.byteLength - 1] as number) ^ 0xff;
      return rekey(store, p, { ...p, crc32: (p.crc32 ^ 1) >>> 0 }, other);
    },
  ],
];

describe("an archiver attaching to a store that holds another history of this log's segments", () => {
  for (const [what, plant] of CASES) {
    it(`${what}: WAL_ARCHIVE_DIVERGED naming it, nothing put or deleted`, async () => {
      const fs = new SimFS();
      const store = memoryArchive();
      await archivedLog(fs, store, { commits: 20 });
      const { wal } = await Wal.open<JsonValue>("/a", { codec: jsonCodec, fs, segmentTargetBytes: 200 });
      const objects = await listed(store);
      const active = Math.max(...objects.map((o) => o.id));
      expect(objects.filter((o) => o.kind === "piece" && o.id === active).length).toBeGreaterThan(0);
      expect(objects.some((o) => o.kind === "segment" && o.id === 2)).toBe(true);
      const planted = await plant(store, objects, active);
      const before = { keys: store.keys(), puts: store.calls.put, deletes: store.calls.delete };

      const archiver = startArchiver(wal, { store, fs, intervalMs: 5 });
      await wal.commitTx([{ after: true }]);
      const failure = await archiver.flush().then(
        () => expect.unreachable("the flush resolved"),
        (e: unknown) => e,
      );
      expect(isWalError(failure, "WAL_ARCHIVE_DIVERGED")).toBe(true);
      expect((failure as { details: { object?: string } }).details.object).toBe(planted);
      expect(archiver.status()).toMatchObject({ state: "failing", lastError: failure, uploadedPieces: 0 });
      await archiver.stop();
      expect(archiver.status().state).toBe("stopped");
      expect({ keys: store.keys(), puts: store.calls.put, deletes: store.calls.delete }).toEqual(before);
      await wal.close();
    });
  }
});

it("a piece of the segment right after this log's newest (a history that went one rotation further): WAL_ARCHIVE_DIVERGED naming it", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  await archivedLog(fs, store, { commits: 20 });
  const { wal } = await Wal.open<JsonValue>("/a", { codec: jsonCodec, fs, segmentTargetBytes: 200 });
  const newest = Math.max(...(await listSegments(fs, "/a")).map((s) => s.id));
  const p = (await listed(store)).find((o) => o.kind === "piece" && o.id === newest) as Extract<
    Listed,
    { kind: "piece" }
  >;
  const planted = archiveKey({ ...p, id: newest + 1, baseLsn: p.baseLsn + 1000 });
  await store.put(planted, store.peek(p.key) as Uint8Array);
  const before = { keys: store.keys(), puts: store.calls.put, deletes: store.calls.delete };

  // No commit: the log does not rotate, so its newest segment is the one the store's pieces are of.
  const archiver = startArchiver(wal, { store, fs, intervalMs: 5 });
  const failure = await archiver.flush().then(
    () => expect.unreachable("the flush resolved"),
    (e: unknown) => e,
  );
  expect(failure).toMatchObject({ code: "WAL_ARCHIVE_DIVERGED", details: { object: planted } });
  await archiver.stop();
  expect({ keys: store.keys(), puts: store.calls.put, deletes: store.calls.delete }).toEqual(before);
  await wal.close();
});

it("a stopped archiver's flush rejects with WAL_CLOSED, and stop again resolves", async () => {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/a", { codec: jsonCodec, fs });
  const archiver = startArchiver(wal, { store: memoryArchive(), fs, intervalMs: 5 });
  await wal.commitTx(["x"]);
  await archiver.stop();
  await expect(archiver.flush()).rejects.toMatchObject({ code: "WAL_CLOSED" });
  await archiver.stop();
  expect(archiver.status()).toMatchObject({ state: "stopped", archivedLsn: 3 });
  await wal.close();
});
