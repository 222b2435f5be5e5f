/**
 * Checks restore makes of what keys and headers claim, on archives built by hand: a segment's header must name its
 * key's base LSN, every object of a segment must name the same base LSN, and a segment's base LSN must lie above the
 * previous segment's (even when that one holds no record). Each is `WAL_ARCHIVE_CORRUPT` naming the object, and
 * verifyArchive reports it.
 */

import { crc32, isWalError, type WalRecord } from "@lora/wal-codec";
import { encodeSegmentHeader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { archiveKey } from "./archive-keys.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { segmentBytes } from "./test-support/segment-bytes.js";
import { verifyArchive } from "./verify-archive.js";

function tx(begin: number): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [new Uint8Array([begin])] },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

function sealed(id: number, keyBase: number, headerBase: number, records: WalRecord<Uint8Array>[]) {
  const bytes = segmentBytes(encodeSegmentHeader({ baseLsn: headerBase, sealed: true }), records);
  return {
    key: archiveKey({ kind: "segment", id, baseLsn: keyBase, size: bytes.byteLength, crc32: crc32(bytes) }),
    bytes,
  };
}

async function refused(store: ReturnType<typeof memoryArchive>, object: string): Promise<void> {
  const fs = new SimFS();
  const failure = await restore({ store, dir: "/r", fs }).then(
    (r) => r,
    (e: unknown) => e,
  );
  expect(isWalError(failure, "WAL_ARCHIVE_CORRUPT"), String(failure)).toBe(true);
  expect((failure as { details: { object?: string } }).details.object).toBe(object);
  expect(await fs.stat("/r")).toBeNull();
  expect((await verifyArchive(store)).problems).toEqual([
    expect.objectContaining({ code: "WAL_ARCHIVE_CORRUPT", key: object }),
  ]);
}

it("a segment whose header names another base LSN than its key", async () => {
  const store = memoryArchive();
  // The key says base 1, the header (and the records) say 2.
  const s = sealed(1, 1, 2, tx(2));
  await store.put(s.key, s.bytes);
  await refused(store, s.key);
});

it("a piece beside a sealed object naming another base LSN, its bytes those of the segment", async () => {
  const store = memoryArchive();
  const s = sealed(1, 1, 1, [...tx(1), ...tx(4)]);
  await store.put(s.key, s.bytes);
  // Bytes past the header are the same in both versions: only the key's base LSN says they are another one.
  const from = 32;
  const to = s.bytes.byteLength;
  const piece = archiveKey({ kind: "piece", id: 1, baseLsn: 2, from, to, crc32: crc32(s.bytes.subarray(from, to)) });
  await store.put(piece, s.bytes.slice(from, to));
  await refused(store, piece);
});

it("a segment whose base LSN is not above an empty previous segment's", async () => {
  const store = memoryArchive();
  const first = sealed(1, 5, 5, []);
  const second = sealed(2, 3, 3, tx(3));
  await store.put(first.key, first.bytes);
  await store.put(second.key, second.bytes);
  await refused(store, second.key);
});
