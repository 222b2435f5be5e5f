/**
 * The two probes the damage rules ask a reader after damage: `recordEndAt` trusts a header's length only when the
 * header is plausible (length in range, known kind, the expected LSN), and `findIntactMarkerAfter` takes only a
 * marker kind (2 – 5) with an LSN strictly above the bound, never a 25-byte mutation or batch frame.
 */

import { bytesCodec, crc32, encodeRecord, MAX_RECORD_BYTES, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { encodeSegmentHeader } from "./segment-header.js";
import { SegmentReader } from "./segment-reader.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

/** An unsealed segment of base LSN 1 holding `parts` one after another. */
async function readerOf(...parts: Uint8Array[]): Promise<SegmentReader> {
  const all = [encodeSegmentHeader({ baseLsn: 1, sealed: false }), ...parts];
  const bytes = new Uint8Array(all.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of all) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  const fs = SimFS.withDir("/w");
  fs.writeFileSync(PATH, bytes);
  return await SegmentReader.open(fs, PATH);
}

/** `record` framed, with its header edited by `edit` and its CRC made right again. */
function framed(record: WalRecord<Uint8Array>, edit: (view: DataView) => void = () => {}): Uint8Array {
  const bytes = encodeRecord(record, bytesCodec);
  const view = new DataView(bytes.buffer);
  edit(view);
  view.setUint32(bytes.byteLength - 4, crc32(bytes.subarray(0, bytes.byteLength - 4)), true);
  return bytes;
}

describe("recordEndAt", () => {
  it("gives the end a plausible header claims, even past the file, and undefined for any implausible field", async () => {
    const record = framed({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(40) });
    const reader = await readerOf(record.subarray(0, 30)); // torn: the header claims 65 bytes
    try {
      expect(await reader.recordEndAt(32, 1)).toBe(32 + record.byteLength);
      expect(await reader.recordEndAt(32, 2)).toBeUndefined(); // another LSN: the length is not trusted
      expect(await reader.recordEndAt(32, 0)).toBeUndefined();
      expect(await reader.recordEndAt(32 + 20, 1)).toBeUndefined(); // fewer than 13 bytes left
    } finally {
      await reader.close();
    }
    for (const [edit, what] of [
      [(v: DataView) => v.setUint8(4, 0), "kind 0"],
      [(v: DataView) => v.setUint8(4, 7), "kind 7"],
      [(v: DataView) => v.setUint32(0, 24, true), "length 24"],
      [(v: DataView) => v.setUint32(0, MAX_RECORD_BYTES + 1, true), "length past the maximum"],
    ] as const) {
      const bad = record.slice();
      edit(new DataView(bad.buffer));
      const r = await readerOf(bad);
      expect(await r.recordEndAt(32, 1), what).toBeUndefined();
      await r.close();
    }
    const batch = framed({ kind: "mutationBatch", lsn: 1, txBeginLsn: 1, events: [Uint8Array.of(1)] });
    const withBatch = await readerOf(batch);
    expect(await withBatch.recordEndAt(32, 1)).toBe(32 + batch.byteLength);
    await withBatch.close();
    const atMax = record.slice();
    new DataView(atMax.buffer).setUint32(0, MAX_RECORD_BYTES, true);
    const r = await readerOf(atMax);
    expect(await r.recordEndAt(32, 1)).toBe(32 + MAX_RECORD_BYTES);
    await r.close();
  });
});

describe("findIntactMarkerAfter", () => {
  it("skips 25-byte frames of a mutation or a batch kind, and markers at or below the bound", async () => {
    const damage = new Uint8Array(25).fill(0xee);
    // CRC-valid 25-byte frames of kinds 1 and 6 (an empty payload) above the bound, then markers at it and above it.
    const mutation = framed({ kind: "txBegin", lsn: 5 }, (v) => v.setUint8(4, 1));
    const batch = framed({ kind: "txBegin", lsn: 6 }, (v) => v.setUint8(4, 6));
    const atBound = framed({ kind: "txCommit", lsn: 4, txBeginLsn: 2 });
    const above = framed({ kind: "txCommit", lsn: 7, txBeginLsn: 2 });
    const reader = await readerOf(damage, mutation, batch, atBound, above);
    try {
      expect(await reader.findIntactMarkerAfter(32, 4)).toEqual({ offset: 32 + 4 * 25, lsn: 7 });
      expect(await reader.findIntactMarkerAfter(32, 3)).toEqual({ offset: 32 + 3 * 25, lsn: 4 });
      expect(await reader.findIntactMarkerAfter(32, 7)).toBeUndefined();
    } finally {
      await reader.close();
    }
  });

  it("takes a marker of each kind: TxBegin, TxCommit, TxAbort and Checkpoint", async () => {
    const damage = new Uint8Array(25).fill(0xee);
    for (const marker of [
      framed({ kind: "txBegin", lsn: 5 }),
      framed({ kind: "txCommit", lsn: 5, txBeginLsn: 2 }),
      framed({ kind: "txAbort", lsn: 5, txBeginLsn: 2 }),
      framed({ kind: "checkpoint", lsn: 5, snapshotLsn: 2 }),
    ]) {
      const reader = await readerOf(damage, marker);
      try {
        expect(await reader.findIntactMarkerAfter(32, 3), `kind ${marker[4]}`).toEqual({ offset: 32 + 25, lsn: 5 });
      } finally {
        await reader.close();
      }
    }
  });

  it("takes the marker right at the end of the damaged record, two LSNs above the last one read", async () => {
    // Records 1 – 3 read, the damaged record (LSN 4) ends at 32 + 25, and the next record is the marker of LSN 5.
    const damaged = new Uint8Array(25).fill(0xee);
    const next = framed({ kind: "txCommit", lsn: 5, txBeginLsn: 1 });
    const reader = await readerOf(damaged, next);
    try {
      expect(await reader.findIntactMarkerAfter(32 + 25, 3)).toEqual({ offset: 32 + 25, lsn: 5 });
    } finally {
      await reader.close();
    }
  });
});

describe("peekLsn and peekBufferedLsn", () => {
  it("read the LSN of a record with exactly its first 13 bytes left, and nothing with 12", async () => {
    const record = framed({ kind: "txCommit", lsn: 9, txBeginLsn: 2 });
    for (const left of [13, 12]) {
      const reader = await readerOf(record.subarray(0, left));
      try {
        const expected = left === 13 ? 9 : undefined;
        expect(reader.peekBufferedLsn(), `${left} bytes, nothing buffered`).toBeUndefined();
        expect(await reader.peekLsn(), `${left} bytes, from the file`).toBe(expected);
        // Reading it buffers the torn record's bytes: the buffered peek sees exactly those.
        const step = await reader.next(bytesCodec);
        expect(step).toMatchObject({ kind: "damaged", reason: "incomplete", offset: 32 });
        expect(reader.peekBufferedLsn(), `${left} bytes buffered`).toBe(expected);
        expect(await reader.peekLsn(), `${left} bytes, buffered`).toBe(expected);
      } finally {
        await reader.close();
      }
    }
  });
});
