/**
 * The edges of what a restore reports and creates, from archives built by hand: a `toLsn` at or above a segment's
 * base LSN but below its first record (the segment restored with no record), a `fromLsn` of 0 (the default, given),
 * and a sealed newest segment that holds no record (its empty successor starts above its base LSN).
 */

import { Wal } from "@lora/wal";
import { bytesCodec, crc32, type WalRecord } from "@lora/wal-codec";
import { encodeSegmentHeader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { archiveKey } from "./archive-keys.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { segmentBytes } from "./test-support/segment-bytes.js";

/** One transaction at `begin` (begin, one event, commit). */
function tx(begin: number): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [new Uint8Array([begin])] },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

/** A store holding `segments` (id from 1), each as a sealed object. */
async function sealedArchive(segments: readonly { baseLsn: number; records: WalRecord<Uint8Array>[] }[]) {
  const store = memoryArchive();
  for (const [i, { baseLsn, records }] of segments.entries()) {
    const bytes = segmentBytes(encodeSegmentHeader({ baseLsn, sealed: true }), records);
    await store.put(
      archiveKey({ kind: "segment", id: i + 1, baseLsn, size: bytes.byteLength, crc32: crc32(bytes) }),
      bytes,
    );
  }
  return store;
}

it("a toLsn below the segment's first record restores it with no record, and reports none", async () => {
  // Segment 1 has base LSN 1 and its first record at 3 (a log reopened above a fence resumes above it).
  const store = await sealedArchive([{ baseLsn: 1, records: [...tx(3), ...tx(6)] }]);
  const fs = new SimFS();
  const result = await restore({ store, dir: "/r", toLsn: 2, fs });
  expect(result).toMatchObject({ segments: 1, bytes: 32, firstLsn: null, lastLsn: null, successor: null });
  const { wal, events } = await Wal.open<Uint8Array>("/r", { fs, codec: bytesCodec });
  expect(events).toEqual([]);
  await wal.close();
  // Up to the first transaction's commit: it is the first and the last record's LSN reported.
  const upTo = await restore({ store, dir: "/s", toLsn: 5, fs });
  expect(upTo).toMatchObject({ firstLsn: 3, lastLsn: 5 });
});

it("fromLsn 0, given, restores from the oldest segment as the default does", async () => {
  const store = await sealedArchive([
    { baseLsn: 1, records: tx(1) },
    { baseLsn: 4, records: tx(4) },
  ]);
  const fs = new SimFS();
  const given = await restore({ store, dir: "/r", fromLsn: 0, fs });
  const omitted = await restore({ store, dir: "/s", fs });
  expect({ ...given, successor: null }).toEqual({ ...omitted, successor: null });
  expect(given).toMatchObject({ segments: 2, firstLsn: 1, lastLsn: 6, successor: "/r/0000000003.wal" });
  const both = await restore({ store, dir: "/t", fromLsn: 0, toLsn: 0, fs }).catch((e: unknown) => e);
  // toLsn 0 is a valid value: below the oldest segment, so the archive cannot give it (not an option refusal).
  expect(both).toMatchObject({ code: "WAL_ARCHIVE_MISSING" });
});

it("a sealed newest segment with no record gets its successor at its base LSN + 1", async () => {
  const store = await sealedArchive([
    { baseLsn: 1, records: tx(1) },
    { baseLsn: 10, records: [] },
  ]);
  const fs = new SimFS();
  const result = await restore({ store, dir: "/r", fs });
  expect(result).toMatchObject({ segments: 2, firstLsn: 1, lastLsn: 3, successor: "/r/0000000003.wal" });
  const { wal, events } = await Wal.open<Uint8Array>("/r", { fs, codec: bytesCodec });
  expect(events).toEqual([new Uint8Array([1])]);
  expect(wal.nextLsn()).toBe(11);
  await wal.close();
});
