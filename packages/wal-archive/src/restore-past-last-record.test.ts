/**
 * A `toLsn` past the last record of the last segment restore takes, below the next segment's base LSN: the records
 * in between do not exist, and what says so is the next segment's key. Restore checks that key against the next
 * segment's header before it restores up to the last record; and a `fromLsn` equal to `toLsn` right before a
 * segment's base restores the segment holding the fence itself.
 */

import { Wal } from "@lora/wal";
import { bytesCodec, crc32, isWalError, type WalRecord } from "@lora/wal-codec";
import { encodeSegmentHeader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { archiveKey } from "./archive-keys.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import type { RestoreProgress } from "./restore-progress.js";
import { segmentBytes } from "./test-support/segment-bytes.js";
import { verifyArchive } from "./verify-archive.js";

/** A sealed segment of one transaction at `begin` (begin, one event, commit), its header as `header` gives it. */
function sealedSegment(baseLsn: number, begin: number, header = encodeSegmentHeader({ baseLsn, sealed: true })) {
  const records: WalRecord<Uint8Array>[] = [
    { kind: "txBegin", lsn: begin },
    { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [new Uint8Array([begin])] },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
  return segmentBytes(header, records);
}

/** Segment 1 (base 1, LSNs 1..3) and segment 2 (base 10, LSNs 10..12), sealed, keys matching their bytes. */
async function gappedArchive(secondHeader?: Uint8Array) {
  const store = memoryArchive();
  const keys: string[] = [];
  for (const [id, bytes] of [
    [1, sealedSegment(1, 1)],
    [2, sealedSegment(10, 10, secondHeader)],
  ] as const) {
    const baseLsn = id === 1 ? 1 : 10;
    const key = archiveKey({ kind: "segment", id, baseLsn, size: bytes.byteLength, crc32: crc32(bytes) });
    await store.put(key, bytes);
    keys.push(key);
  }
  return { store, keys };
}

describe("restore to an LSN between two segments", () => {
  it("the next segment's header agrees with its key: the records up to the last one that exists", async () => {
    const { store } = await gappedArchive();
    expect((await verifyArchive(store)).problems).toEqual([]);
    const fs = new SimFS();
    const result = await restore({ store, dir: "/r", toLsn: 6, fs });
    expect(result).toMatchObject({ segments: 1, firstLsn: 1, lastLsn: 3, successor: null });
    expect(await fs.readdir("/r")).toEqual(["0000000001.wal"]);
    const { wal, events } = await Wal.open<Uint8Array>("/r", { fs, codec: bytesCodec });
    expect(events).toEqual([new Uint8Array([1])]);
    expect(wal.nextLsn()).toBe(4);
    await wal.close();
  });

  it("counts the next segment's object it fetched for the header among the objects fetched", async () => {
    const { store } = await gappedArchive();
    const progress: RestoreProgress[] = [];
    const getsBefore = store.calls.get;
    const result = await restore({ store, dir: "/r", toLsn: 6, fs: new SimFS(), onProgress: (p) => progress.push(p) });
    expect(store.calls.get - getsBefore).toBe(2); // segment 1, and segment 2 for its header
    expect(result.objects).toBe(2);
    // Progress counts the range's objects, known from the listing at the start: segment 1 only.
    expect(progress.at(-1)).toMatchObject({ objects: 1, totalObjects: 1, segments: 1, done: true });
  });

  it("the next segment's header does not decode: WAL_ARCHIVE_CORRUPT naming it, nothing written", async () => {
    const bad = encodeSegmentHeader({ baseLsn: 10, sealed: true });
    bad[1] = (bad[1] as number) ^ 0xff;
    const { store, keys } = await gappedArchive(bad);
    const fs = new SimFS();
    const failure = await restore({ store, dir: "/r", toLsn: 6, fs }).then(
      () => expect.unreachable("the restore resolved"),
      (e: unknown) => e,
    );
    expect(isWalError(failure, "WAL_ARCHIVE_CORRUPT")).toBe(true);
    expect((failure as { details: object }).details).toEqual({ object: keys[1], lsn: 6 });
    expect((failure as Error).message).toContain("its header does not decode");
    expect(await fs.stat("/r")).toBeNull();
    // A toLsn inside segment 1's records does not depend on segment 2: it restores.
    expect(await restore({ store, dir: "/s", toLsn: 2, fs })).toMatchObject({ segments: 1, lastLsn: 2 });
  });

  it("fromLsn equal to toLsn right before the next segment's base restores the segment holding the fence", async () => {
    const { store } = await gappedArchive();
    const fs = new SimFS();
    const result = await restore({ store, dir: "/r", fromLsn: 9, toLsn: 9, fs });
    expect(result).toMatchObject({ segments: 1, firstLsn: 1, lastLsn: 3 });
    expect(await fs.readdir("/r")).toEqual(["0000000001.wal"]);
    const { wal, events } = await Wal.open<Uint8Array>("/r", { fs, codec: bytesCodec, checkpointLsn: 9 });
    expect(events).toEqual([]);
    expect(wal.nextLsn()).toBe(10);
    await wal.close();
  });
});
