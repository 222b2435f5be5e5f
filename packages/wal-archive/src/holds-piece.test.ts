/**
 * One answer, for the archiver, restore and verifyArchive alike, to "does this piece hold these bytes of the
 * segment": the header's sealed flag aside in either the piece or the segment, every other byte the same.
 */

import { Wal } from "@lora/wal";
import { crc32, type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { encodeSegmentHeader, withSealedFlag } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { holdsPiece } from "./holds-piece.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { segmentBytes } from "./test-support/segment-bytes.js";
import { verifyArchive } from "./verify-archive.js";

const records: WalRecord<Uint8Array>[] = [
  { kind: "txBegin", lsn: 1 },
  { kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: [new Uint8Array([1, 2, 3])] },
  { kind: "txCommit", lsn: 3, txBeginLsn: 1 },
];
const active = segmentBytes(encodeSegmentHeader({ baseLsn: 1, sealed: false }), records);
const sealed = segmentBytes(encodeSegmentHeader({ baseLsn: 1, sealed: true }), records);
const size = active.byteLength;

/** A header whose reserved bytes (24..27) are not zero, its CRC made good: it decodes, but re-encoding differs. */
function withReservedByte(header: Uint8Array): Uint8Array {
  const out = header.slice();
  out[24] = 7;
  new DataView(out.buffer).setUint32(28, crc32(out.subarray(0, 28)), true);
  return out;
}

describe("holdsPiece", () => {
  it("takes the header in either sealed form, in the piece and in the segment", () => {
    for (const segment of [active, sealed]) {
      for (const from of [active, sealed]) {
        // From offset 0, ending in the header, starting inside it, and the whole segment.
        for (const [start, end] of [
          [0, size],
          [0, 40],
          [0, 20],
          [5, 20],
          [5, 40],
          [31, 33],
        ] as const) {
          expect(holdsPiece(from.slice(start, end), segment, { from: start, to: end }), `${start}..${end}`).toBe(true);
        }
      }
    }
  });

  it("compares a piece past the header byte for byte", () => {
    expect(holdsPiece(active.slice(32, size), sealed, { from: 32, to: size })).toBe(true);
    const other = active.slice(32, size);
    other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 1;
    expect(holdsPiece(other, sealed, { from: 32, to: size })).toBe(false);
  });

  it("refuses a header that differs in more than the sealed flag, wherever the piece starts", () => {
    const otherBase = segmentBytes(encodeSegmentHeader({ baseLsn: 2, sealed: false }), records);
    expect(holdsPiece(otherBase.slice(0, 40), sealed, { from: 0, to: 40 })).toBe(false);
    expect(holdsPiece(otherBase.slice(12, 20), active, { from: 12, to: 20 })).toBe(false);
    // The piece's header bytes outside the base LSN are the same: those alone are held.
    expect(holdsPiece(otherBase.slice(0, 12), active, { from: 0, to: 12 })).toBe(true);
  });

  it("refuses a piece of another length than its range, or a range past the segment", () => {
    expect(holdsPiece(active.slice(0, 39), active, { from: 0, to: 40 })).toBe(false);
    expect(holdsPiece(active.slice(0, 41), active, { from: 0, to: 40 })).toBe(false);
    expect(holdsPiece(active.slice(32, size), active.slice(0, size - 1), { from: 32, to: size })).toBe(false);
    expect(holdsPiece(active.slice(0, 20), active.slice(0, 20), { from: 0, to: 20 })).toBe(true);
  });

  it("takes a segment's header as it is: reserved bytes kept, one that does not decode compared as it is", () => {
    const reserved = withReservedByte(active.subarray(0, 32));
    const segment = active.slice();
    segment.set(reserved, 0);
    expect(holdsPiece(segment.slice(0, 40), segment, { from: 0, to: 40 })).toBe(true);
    // Re-encoded (reserved bytes zero, as a seal writes it): the same header, its reserved bytes aside.
    expect(holdsPiece(active.slice(0, 40), segment, { from: 0, to: 40 })).toBe(true);
    // Sealed as a seal does it (that flag and the CRC only): its pieces, reserved bytes and all, are held.
    const sealedAsKept = segment.slice();
    sealedAsKept.set(withSealedFlag(reserved, true), 0);
    expect(holdsPiece(segment.slice(0, 40), sealedAsKept, { from: 0, to: 40 })).toBe(true);
    expect(holdsPiece(segment.slice(20, 40), sealedAsKept, { from: 20, to: 40 })).toBe(true);
    const bad = active.slice();
    bad[0] = 0;
    expect(holdsPiece(bad.slice(0, 40), bad, { from: 0, to: 40 })).toBe(true);
    expect(holdsPiece(active.slice(0, 40), bad, { from: 0, to: 40 })).toBe(false);
  });
});

describe("an archiver over a segment whose header has reserved bytes set (another writer's)", () => {
  it("finds its own pieces of it on attach, not another history", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    fs.writeFileSync("/w/0000000001.wal", withReservedByte(encodeSegmentHeader({ baseLsn: 1, sealed: false })), {
      durable: true,
    });
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, preallocateBytes: 0 });
    await wal.commitTx([{ i: 1 }]);
    const store = memoryArchive({ name: "s" });
    const first = startArchiver(wal, { store, fs, intervalMs: 5 });
    await first.flush();
    await first.stop();
    await wal.commitTx([{ i: 2 }]);
    const second = startArchiver(wal, { store, fs, intervalMs: 5, retry: { initialMs: 1, maxMs: 5 } });
    await second.flush();
    expect(second.status()).toMatchObject({ state: "running", lastError: null });
    await second.stop();
    await wal.close();
    await restore({ store, dir: "/r", fs });
    const { wal: restored, events } = await Wal.open<JsonValue>("/r", { codec: jsonCodec, fs });
    await restored.close();
    expect(events).toEqual([{ i: 1 }, { i: 2 }]);
  });
});

describe("a segment whose header has reserved bytes set, archived in pieces, then sealed by this writer", () => {
  it("is archived whole with no divergence, verified, and restored to any point with its header kept", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const foreign = withReservedByte(encodeSegmentHeader({ baseLsn: 1, sealed: false }));
    fs.writeFileSync("/w/0000000001.wal", foreign, { durable: true });
    const open = { codec: jsonCodec, fs, preallocateBytes: 0, segmentTargetBytes: 200 };
    const { wal } = await Wal.open<JsonValue>("/w", open);
    const store = memoryArchive({ name: "s" });
    const archiver = startArchiver(wal, { store, fs, intervalMs: 5, retry: { initialMs: 1, maxMs: 5 } });
    expect(await wal.commitTx([{ i: 1 }])).toMatchObject({ commitLsn: 3 });
    await archiver.flush(); // a piece of segment 1, its header as the other writer made it
    for (let i = 2; i <= 6; i++) await wal.commitTx([{ i, pad: "x".repeat(40) }]); // segment 1 is sealed on the way
    await archiver.flush();
    expect((await wal.segments()).length).toBeGreaterThan(1);
    expect(archiver.status()).toMatchObject({ state: "running", lastError: null });
    await archiver.stop();
    await wal.close();
    const sealed = fs.readFileSync("/w/0000000001.wal").subarray(0, 32);
    expect(sealed[24]).toBe(7);
    expect(await verifyArchive(store)).toMatchObject({ problems: [] });
    // Cut inside the sealed segment: unsealed again, with the header it was archived with.
    await restore({ store, dir: "/r", fs, toLsn: 3 });
    expect(fs.readFileSync("/r/0000000001.wal").subarray(0, 32)).toEqual(foreign);
    const { wal: restored, events } = await Wal.open<JsonValue>("/r", { codec: jsonCodec, fs });
    await restored.close();
    expect(events).toEqual([{ i: 1 }]);
  });
});
