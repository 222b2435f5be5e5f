/**
 * When a segment seals, the archiver deletes the pieces of it in the store once its sealed object is in, but only
 * those that hold its bytes: one of another history (another writer archiving into the same prefix, such as a copy
 * restored elsewhere) must stop it with `WAL_ARCHIVE_DIVERGED` before the upload. A piece whose records have the
 * sizes of the log's has the log's CRC-32 (every record ends with its own CRC-32), so only its bytes tell.
 */

import { Wal } from "@lora/wal";
import { bytesCodec, crc32, isWalError, type WalRecord } from "@lora/wal-codec";
import { encodeSegmentHeader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { archiveKey, PIECES_PREFIX, SEGMENTS_PREFIX } from "./archive-keys.js";
import type { ArchiveStore } from "./archive-store.js";
import { startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { segmentBytes } from "./test-support/segment-bytes.js";

const text = (s: string) => new TextEncoder().encode(s);

/** The first transaction of segment 1 as another writer would ship it: one event, `event`, at LSNs 1 to 3. */
function otherFirstTx(event: string): Uint8Array {
  const records: WalRecord<Uint8Array>[] = [
    { kind: "txBegin", lsn: 1 },
    { kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: [text(event)] },
    { kind: "txCommit", lsn: 3, txBeginLsn: 1 },
  ];
  return segmentBytes(encodeSegmentHeader({ baseLsn: 1, sealed: false }), records);
}

it("a sealed upload stops at a piece of another history with records of the log's sizes, and keeps it", async () => {
  const fs = new SimFS();
  const store = memoryArchive();
  const { wal } = await Wal.open<Uint8Array>("/a", { codec: bytesCodec, fs, segmentTargetBytes: 300 });
  const archiver = startArchiver(wal, { store, fs, intervalMs: 2 ** 31 - 1 });
  await archiver.flush();
  await wal.commitTx([text("A0")]);

  // Another writer's first transaction of segment 1: an event of the same size, other bytes, the same CRC-32.
  const other = otherFirstTx("B0");
  const ours = fs.readFileSync("/a/0000000001.wal").subarray(0, other.byteLength);
  expect(crc32(other) >>> 0).toBe(crc32(ours) >>> 0);
  expect(Buffer.from(other).equals(Buffer.from(ours))).toBe(false);
  const otherKey = archiveKey({ kind: "piece", id: 1, baseLsn: 1, from: 0, to: other.byteLength, crc32: crc32(other) });
  await store.put(otherKey, other);

  for (let i = 1; i < 50 && (await wal.segments()).length < 2; i++) await wal.commitTx([text(`A${i}`)]);
  expect((await wal.segments()).length).toBe(2);
  const failure = await archiver.flush().then(
    () => null,
    (e: unknown) => e,
  );
  expect(isWalError(failure, "WAL_ARCHIVE_DIVERGED"), String(failure)).toBe(true);
  expect((failure as { details: { object?: string } }).details.object).toBe(otherKey);
  // The other history's piece is still there, and this one's segment was not uploaded beside it.
  expect(store.keys().filter((k) => k.startsWith(PIECES_PREFIX))).toEqual([otherKey]);
  expect(store.keys().filter((k) => k.startsWith(SEGMENTS_PREFIX))).toEqual([]);
  await archiver.stop({ flush: false });
  await wal.close();
});

it("a sealed upload deletes the pieces of its own history, fetched or not", async () => {
  const fs = new SimFS();
  const memory = memoryArchive();
  const fetched: string[] = [];
  const store: ArchiveStore = {
    name: memory.name,
    list: (...args) => memory.list(...args),
    get: (key, options) => {
      fetched.push(key);
      return memory.get(key, options);
    },
    put: (...args) => memory.put(...args),
    delete: (...args) => memory.delete(...args),
  };
  const { wal } = await Wal.open<Uint8Array>("/a", { codec: bytesCodec, fs, segmentTargetBytes: 300 });
  const first = startArchiver(wal, { store, fs, intervalMs: 2 ** 31 - 1 });
  await wal.commitTx([text("A0")]);
  await first.flush();
  await first.stop();
  // A second run: the first one's piece is not one it shipped itself; the next it ships is.
  const archiver = startArchiver(wal, { store, fs, intervalMs: 2 ** 31 - 1 });
  await wal.commitTx([text("A1")]);
  await archiver.flush();
  const [before, mine] = memory.keys().filter((k) => k.startsWith(PIECES_PREFIX));
  expect(mine).toBeDefined();
  fetched.length = 0;
  for (let i = 2; i < 50 && (await wal.segments()).length < 2; i++) await wal.commitTx([text(`A${i}`)]);
  expect((await wal.segments()).length).toBe(2);
  await archiver.flush();
  expect(archiver.status()).toMatchObject({ state: "running", lastError: null });
  // The piece the first run shipped was fetched to compare; the one this run shipped was not.
  expect(fetched).toEqual([before]);
  expect(memory.keys().filter((k) => k.startsWith(`${PIECES_PREFIX}0000000001-`))).toEqual([]);
  expect(memory.keys().filter((k) => k.startsWith(SEGMENTS_PREFIX))).toHaveLength(1);
  await archiver.stop();
  await wal.close();
});
