/**
 * What verify and restore check inside a segment's bytes once they match their key (size and CRC-32): segments
 * built by hand and archived with keys that match them, so only the check under test can refuse them. Each is
 * `WAL_ARCHIVE_CORRUPT` naming the object, from verifyArchive as a problem and from restore as its rejection
 * (which leaves nothing behind). Also the sizes the store reports: a listed size, or a fetched body, other than the
 * key names.
 */

import { bytesCodec, crc32, encodeRecord, isWalError, type WalRecord } from "@lora/wal-codec";
import { encodeSegmentHeader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { archiveKey, parseArchiveKey } from "./archive-keys.js";
import type { ArchiveStore } from "./archive-store.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";
import { segmentBytes } from "./test-support/segment-bytes.js";
import { listArchive, verifyArchive } from "./verify-archive.js";

/** A store holding `bytes` as the sealed object of segment 1 with base LSN `baseLsn`, under a key that matches them. */
async function storeWith(bytes: Uint8Array, baseLsn: number) {
  const store = memoryArchive();
  const key = archiveKey({ kind: "segment", id: 1, baseLsn, size: bytes.byteLength, crc32: crc32(bytes) });
  await store.put(key, bytes);
  return { store, key };
}

const tx = (begin: number): WalRecord<Uint8Array>[] => [
  { kind: "txBegin", lsn: begin },
  { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [new Uint8Array([7])] },
  { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
];

/**
 * verifyArchive reports exactly one problem, `WAL_ARCHIVE_CORRUPT` on `key`, and `sound` segments checked; restore
 * refuses naming it, writing nothing.
 */
async function refusedBoth(store: ArchiveStore, key: string, message: string, sound = 0): Promise<void> {
  const report = await verifyArchive(store);
  expect(report.problems.map((p) => [p.code, p.key])).toEqual([["WAL_ARCHIVE_CORRUPT", key]]);
  expect(report.problems[0]?.message).toContain(message);
  expect(report.segments).toBe(sound);
  const fs = new SimFS();
  const failure = await restore({ store, dir: "/r", fs }).then(
    () => expect.unreachable("the restore resolved"),
    (e: unknown) => e,
  );
  expect(isWalError(failure, "WAL_ARCHIVE_CORRUPT")).toBe(true);
  expect((failure as { details: { object?: string } }).details.object).toBe(key);
  expect((failure as Error).message).toContain(message);
  expect(await fs.stat("/r")).toBeNull();
}

describe("a segment that matches its key but is not a valid segment", () => {
  it("its header does not decode", async () => {
    const header = encodeSegmentHeader({ baseLsn: 1, sealed: true });
    header[0] = (header[0] as number) ^ 0xff; // the magic
    const { store, key } = await storeWith(segmentBytes(header, tx(1)), 1);
    await refusedBoth(store, key, "does not start with a valid segment header");
  });

  it("a sealed object whose header is not sealed", async () => {
    const { store, key } = await storeWith(segmentBytes(encodeSegmentHeader({ baseLsn: 1, sealed: false }), tx(1)), 1);
    await refusedBoth(store, key, "is archived as a sealed segment but its header is not sealed");
  });

  it("a record below the segment's base LSN", async () => {
    const { store, key } = await storeWith(segmentBytes(encodeSegmentHeader({ baseLsn: 5, sealed: true }), tx(1)), 5);
    await refusedBoth(store, key, "the record at offset 32 of segment 1 has lsn 1, below the base lsn 5");
  });

  it("a record whose LSN does not rise above the one before it", async () => {
    const records = [...tx(1), { kind: "txBegin", lsn: 3 } as const];
    const bytes = segmentBytes(encodeSegmentHeader({ baseLsn: 1, sealed: true }), records);
    const { store, key } = await storeWith(bytes, 1);
    const offset = bytes.byteLength - encodeRecord({ kind: "txBegin", lsn: 3 }, bytesCodec).byteLength;
    await refusedBoth(
      store,
      key,
      `the record at offset ${offset} of segment 1 has lsn 3, not above the previous record's 3`,
    );
  });
});

describe("sizes the store reports other than the key names", () => {
  it("a piece the store lists with another size than its key", async () => {
    const fs = new SimFS();
    const store = memoryArchive();
    await archivedLog(fs, store);
    const pieces = (await store.list("partial/")).map((o) => o.key);
    expect(pieces.length).toBeGreaterThan(0);
    const last = pieces.at(-1) as string;
    const k = parseArchiveKey(last);
    if (k?.kind !== "piece") throw new Error("not a piece");
    store.corrupt(last, { truncateTo: k.to - k.from - 1 });
    const sound = (await store.list("segments/")).length;
    await refusedBoth(store, last, `holds ${k.to - k.from - 1} bytes, its key says ${k.to - k.from}`, sound);
  });

  it("a body shorter than the key and the listing say", async () => {
    const fs = new SimFS();
    const inner = memoryArchive();
    await archivedLog(fs, inner);
    const sealed = (await inner.list("segments/")).map((o) => o.key)[0] as string;
    const k = parseArchiveKey(sealed);
    if (k?.kind !== "segment") throw new Error("not a sealed segment");
    // The listing is the store's own; only the body of one object comes back a byte short.
    const store: ArchiveStore = {
      name: "short-body",
      put: (...a) => inner.put(...a),
      list: (...a) => inner.list(...a),
      delete: (...a) => inner.delete(...a),
      get: async (key, options) => {
        const bytes = await inner.get(key, options);
        return key === sealed && bytes !== null ? bytes.subarray(0, bytes.byteLength - 1) : bytes;
      },
    };
    const sound = (await listArchive(inner)).length - 1;
    await refusedBoth(store, sealed, `holds ${k.size - 1} bytes, its key says ${k.size}`, sound);
  });
});
