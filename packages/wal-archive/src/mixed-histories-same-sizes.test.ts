/**
 * Pieces of two histories of one segment whose records have the same sizes: their keys' CRC-32s agree (every record
 * ends with its own CRC-32, so the CRC-32 of whole records depends on their sizes only), so a check by CRC-32 cannot
 * tell them apart. Restore and verifyArchive compare the bytes of a piece left beside a segment's sealed object, or
 * off its chain of pieces, with the segment's bytes, and refuse an archive whose histories differ there instead of
 * restoring one of them, or a log stitched from both.
 */

import { Wal } from "@lora/wal";
import { bytesCodec, crc32, isWalError, type WalRecord } from "@lora/wal-codec";
import { encodeSegmentHeader } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { archiveKey } from "./archive-keys.js";
import type { ArchiveStore } from "./archive-store.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { segmentBytes } from "./test-support/segment-bytes.js";
import { verifyArchive } from "./verify-archive.js";

/** Four transactions of one event each (begin, batch, commit at 3i+1..3i+3): `A0..A3`, or `A0` then `B1..B3`. */
function history(which: "A" | "B", sealed = false): { bytes: Uint8Array; ends: number[] } {
  const records: WalRecord<Uint8Array>[] = [];
  for (let i = 0; i < 4; i++) {
    const begin = 3 * i + 1;
    const event = new TextEncoder().encode(`${i === 0 ? "A" : which}${i}`);
    records.push(
      { kind: "txBegin", lsn: begin },
      { kind: "mutationBatch", lsn: begin + 1, txBeginLsn: begin, events: [event] },
      { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
    );
  }
  const bytes = segmentBytes(encodeSegmentHeader({ baseLsn: 1, sealed }), records);
  // Where each transaction ends: every one has the same size.
  const txBytes = (bytes.byteLength - 32) / 4;
  return { bytes, ends: [0, 1, 2, 3].map((i) => 32 + (i + 1) * txBytes) };
}

/** The key of bytes `[from, to)` of `bytes` as a piece of segment 1 (base LSN 1). */
function pieceKey(bytes: Uint8Array, from: number, to: number): string {
  return archiveKey({ kind: "piece", id: 1, baseLsn: 1, from, to, crc32: crc32(bytes.subarray(from, to)) });
}

async function events(fs: SimFS, dir: string): Promise<string[]> {
  const { wal, events } = await Wal.open<Uint8Array>(dir, { fs, codec: bytesCodec });
  await wal.close();
  return events.map((e) => new TextDecoder().decode(e));
}

describe("pieces of two histories with records of the same sizes", () => {
  it("a chain through one history's first piece and the other's next is refused, not stitched", async () => {
    const a = history("A");
    const b = history("B");
    const [, twoTx, threeTx, fourTx] = a.ends as [number, number, number, number];
    // Keys depend on sizes only: history B's first two transactions would have history A's key (B's bytes differ).
    expect(pieceKey(b.bytes, 0, twoTx)).toBe(pieceKey(a.bytes, 0, twoTx));
    const store = memoryArchive();
    const first = pieceKey(a.bytes, 0, twoTx);
    const aThird = pieceKey(a.bytes, twoTx, threeTx);
    await store.put(first, a.bytes.slice(0, twoTx));
    await store.put(aThird, a.bytes.slice(twoTx, threeTx));
    // History B's piece from the same offset reaches further: the chain takes it after history A's first piece.
    await store.put(pieceKey(b.bytes, twoTx, fourTx), b.bytes.slice(twoTx, fourTx));

    const fs = new SimFS();
    const failure = await restore({ store, dir: "/r", fs }).then(
      async () => `restored ${(await events(fs, "/r")).join(",")}`,
      (e: unknown) => e,
    );
    expect(isWalError(failure, "WAL_ARCHIVE_CORRUPT"), String(failure)).toBe(true);
    expect((failure as { details: { object?: string } }).details.object).toBe(aThird);
    expect((failure as Error).message).toContain("two histories");
    expect(await fs.stat("/r")).toBeNull();
    const report = await verifyArchive(store);
    expect(report.problems).toEqual([expect.objectContaining({ code: "WAL_ARCHIVE_CORRUPT", key: aThird })]);
  });

  it("a piece of another history beside a sealed object is refused, the header's sealed flag aside", async () => {
    const sealedA = history("A", true);
    const b = history("B");
    const [, twoTx] = b.ends as [number, number];
    const store = memoryArchive();
    const size = sealedA.bytes.byteLength;
    await store.put(
      archiveKey({ kind: "segment", id: 1, baseLsn: 1, size, crc32: crc32(sealedA.bytes) }),
      sealedA.bytes,
    );
    const bPiece = pieceKey(b.bytes, 0, twoTx);
    await store.put(bPiece, b.bytes.slice(0, twoTx));

    const fs = new SimFS();
    const failure = await restore({ store, dir: "/r", fs }).then(
      async () => `restored ${(await events(fs, "/r")).join(",")}`,
      (e: unknown) => e,
    );
    expect(isWalError(failure, "WAL_ARCHIVE_CORRUPT"), String(failure)).toBe(true);
    expect((failure as { details: { object?: string } }).details.object).toBe(bPiece);
    expect((await verifyArchive(store)).problems).toEqual([
      expect.objectContaining({ code: "WAL_ARCHIVE_CORRUPT", key: bPiece }),
    ]);
  });

  it("pieces of the same history beside a sealed object, or superseded, still restore", async () => {
    const sealedA = history("A", true);
    const a = history("A");
    const [oneTx, twoTx] = a.ends as [number, number];
    const store = memoryArchive();
    await store.put(
      archiveKey({ kind: "segment", id: 1, baseLsn: 1, size: sealedA.bytes.byteLength, crc32: crc32(sealedA.bytes) }),
      sealedA.bytes,
    );
    await store.put(pieceKey(a.bytes, 0, oneTx), a.bytes.slice(0, oneTx));
    await store.put(pieceKey(a.bytes, 0, twoTx), a.bytes.slice(0, twoTx));
    await store.put(pieceKey(a.bytes, oneTx, twoTx), a.bytes.slice(oneTx, twoTx));
    const fs = new SimFS();
    const result = await restore({ store, dir: "/r", fs });
    // The sealed object and the three pieces beside it, each fetched and compared.
    expect(result).toMatchObject({ segments: 1, objects: 4, firstLsn: 1, lastLsn: 12 });
    expect(await events(fs, "/r")).toEqual(["A0", "A1", "A2", "A3"]);
    expect((await verifyArchive(store)).problems).toEqual([]);
  });

  it("a piece of the same history shipped with the sealed header (read just after the seal) restores", async () => {
    const sealedA = history("A", true);
    const [oneTx, twoTx] = sealedA.ends as [number, number];
    const store = memoryArchive();
    await store.put(
      archiveKey({ kind: "segment", id: 1, baseLsn: 1, size: sealedA.bytes.byteLength, crc32: crc32(sealedA.bytes) }),
      sealedA.bytes,
    );
    // Left beside the sealed object (the archiver's tidy-up of superseded pieces failed): its header is the
    // sealed one, every byte after it the segment's.
    await store.put(pieceKey(sealedA.bytes, 0, twoTx), sealedA.bytes.slice(0, twoTx));
    const fs = new SimFS();
    expect(await restore({ store, dir: "/r", fs })).toMatchObject({ segments: 1, objects: 2, lastLsn: 12 });
    expect(await events(fs, "/r")).toEqual(["A0", "A1", "A2", "A3"]);
    expect((await verifyArchive(store)).problems).toEqual([]);

    // Pieces only: a superseded piece with the sealed header beside a chain shipped with it clear.
    const a = history("A");
    const pieces = memoryArchive();
    await pieces.put(pieceKey(sealedA.bytes, 0, oneTx), sealedA.bytes.slice(0, oneTx));
    await pieces.put(pieceKey(a.bytes, 0, twoTx), a.bytes.slice(0, twoTx));
    const other = new SimFS();
    expect(await restore({ store: pieces, dir: "/r", fs: other })).toMatchObject({ objects: 2, lastLsn: 6 });
    expect(await events(other, "/r")).toEqual(["A0", "A1"]);
    expect((await verifyArchive(pieces)).problems).toEqual([]);
  });

  it("a piece beside a sealed object that is gone when fetched is nothing to compare: the segment restores", async () => {
    const sealedA = history("A", true);
    const a = history("A");
    const [oneTx] = a.ends as [number];
    const memory = memoryArchive();
    await memory.put(
      archiveKey({ kind: "segment", id: 1, baseLsn: 1, size: sealedA.bytes.byteLength, crc32: crc32(sealedA.bytes) }),
      sealedA.bytes,
    );
    const piece = pieceKey(a.bytes, 0, oneTx);
    await memory.put(piece, a.bytes.slice(0, oneTx));
    // Listed, then deleted before its fetch (an archiver removing a sealed segment's pieces meanwhile).
    const store: ArchiveStore = {
      name: memory.name,
      list: (...args) => memory.list(...args),
      get: async (key, options) => {
        if (key === piece) await memory.delete(piece);
        return memory.get(key, options);
      },
      put: (...args) => memory.put(...args),
      delete: (...args) => memory.delete(...args),
    };
    const fs = new SimFS();
    expect(await restore({ store, dir: "/r", fs })).toMatchObject({ segments: 1, objects: 1, lastLsn: 12 });
    expect(await events(fs, "/r")).toEqual(["A0", "A1", "A2", "A3"]);
  });
});
