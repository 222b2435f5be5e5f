/**
 * How a reader classes what follows its last whole record, on segment bytes built by hand: zeros to the end of an
 * unsealed segment are its end, however few (four: exactly a length prefix); zeros in a sealed one, or zeros with any
 * non-zero byte after them (however far past the first read), are damage; a record cut short is a `WAL_TORN_TAIL`;
 * a frame with an unknown kind is `frameValid` only when its CRC holds.
 */

import { bytesCodec, crc32, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { encodeSegmentHeader } from "./segment-header.js";
import { type ReadStep, SegmentReader } from "./segment-reader.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

const RECORDS: WalRecord<Uint8Array>[] = [
  { kind: "txBegin", lsn: 1 },
  { kind: "mutation", lsn: 2, txBeginLsn: 1, event: Uint8Array.of(1, 2, 3) },
  { kind: "txCommit", lsn: 3, txBeginLsn: 1 },
];

/** A segment of the three records followed by `tail`; the offset where the tail starts. */
function segment(tail: Uint8Array, sealed = false): { fs: SimFS; boundary: number } {
  const parts = [encodeSegmentHeader({ baseLsn: 1, sealed }), ...RECORDS.map((r) => encodeRecord(r, bytesCodec))];
  const boundary = parts.reduce((n, p) => n + p.byteLength, 0);
  const bytes = new Uint8Array(boundary + tail.byteLength);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  bytes.set(tail, boundary);
  const fs = SimFS.withDir("/w");
  fs.writeFileSync(PATH, bytes);
  return { fs, boundary };
}

/** The reader's steps after the three records (which must come first), up to the first that is not a record. */
async function stepAfterRecords(fs: SimFS, chunkBytes?: number): Promise<ReadStep<Uint8Array>> {
  const reader = await SegmentReader.open(fs, PATH, chunkBytes === undefined ? {} : { chunkBytes });
  try {
    for (const expected of RECORDS) {
      const step = await reader.next(bytesCodec);
      expect(step.kind === "record" && step.record).toEqual(expected);
    }
    return await reader.next(bytesCodec);
  } finally {
    await reader.close();
  }
}

describe("what follows a segment's last whole record", () => {
  it("any number of zero bytes ends an unsealed segment; one to three are a torn tail in a sealed one", async () => {
    for (const n of [1, 2, 3, 4, 5, 8, 25]) {
      expect(await stepAfterRecords(segment(new Uint8Array(n)).fs), `${n} zeros`).toEqual({ kind: "end" });
    }
    for (const n of [1, 2, 3]) {
      const sealed = segment(new Uint8Array(n), true);
      const step = await stepAfterRecords(sealed.fs);
      expect(step).toMatchObject({ kind: "damaged", reason: "incomplete", offset: sealed.boundary, frameValid: false });
      expect(step.kind === "damaged" && step.error.code).toBe("WAL_TORN_TAIL");
    }
  });

  it("a record cut short at the end of the file is WAL_TORN_TAIL at its start", async () => {
    const whole = encodeRecord({ kind: "txBegin", lsn: 4 }, bytesCodec);
    for (const cut of [1, 4, 10, whole.byteLength - 1]) {
      const { fs, boundary } = segment(whole.subarray(0, cut));
      const step = await stepAfterRecords(fs);
      expect(step).toMatchObject({ kind: "damaged", reason: "incomplete", offset: boundary, frameValid: false });
      expect(step.kind === "damaged" && step.error.code).toBe("WAL_TORN_TAIL");
      expect(step.kind === "damaged" && step.error.details).toMatchObject({ path: PATH, offset: boundary });
    }
  });

  it("zeros followed by a non-zero byte far past the first read are damage, not the end", async () => {
    const zeros = 300 * 1024;
    for (const chunkBytes of [4096, 64 * 1024, undefined]) {
      const tail = new Uint8Array(zeros + 1);
      tail[zeros] = 9;
      const { fs, boundary } = segment(tail);
      const step = await stepAfterRecords(fs, chunkBytes);
      expect(step).toMatchObject({ kind: "damaged", reason: "corrupt", offset: boundary });
      expect(step.kind === "damaged" && step.error.code).toBe("WAL_BAD_LENGTH");
    }
    // The same zeros with nothing after them end the segment.
    expect(await stepAfterRecords(segment(new Uint8Array(zeros)).fs, 4096)).toEqual({ kind: "end" });
  });

  it("a frame of an unknown kind is frameValid only when its CRC holds", async () => {
    const frame = encodeRecord({ kind: "txBegin", lsn: 4 }, bytesCodec);
    frame[4] = 9;
    const view = new DataView(frame.buffer);
    view.setUint32(21, crc32(frame.subarray(0, 21)), true);
    const valid = await stepAfterRecords(segment(frame).fs);
    expect(valid).toMatchObject({ kind: "damaged", reason: "corrupt", frameValid: true });
    expect(valid.kind === "damaged" && valid.error.code).toBe("WAL_UNKNOWN_KIND");
    view.setUint32(21, view.getUint32(21, true) ^ 1, true);
    const broken = await stepAfterRecords(segment(frame).fs);
    expect(broken).toMatchObject({ kind: "damaged", reason: "corrupt", frameValid: false });
    expect(broken.kind === "damaged" && broken.error.code).toBe("WAL_UNKNOWN_KIND");
  });

  it("a CRC-valid marker with a payload, or a payload the codec refuses, is frameValid: written whole", async () => {
    const mutation = encodeRecord({ kind: "mutation", lsn: 4, txBeginLsn: 1, event: Uint8Array.of(7) }, bytesCodec);
    const marker = mutation.slice();
    marker[4] = 3; // a TxCommit carrying the mutation's one-byte payload
    const view = new DataView(marker.buffer);
    view.setUint32(marker.byteLength - 4, crc32(marker.subarray(0, -4)), true);
    const step = await stepAfterRecords(segment(marker).fs);
    expect(step).toMatchObject({ kind: "damaged", reason: "corrupt", frameValid: true });
    expect(step.kind === "damaged" && step.error.code).toBe("WAL_MARKER_PAYLOAD");
    // The same frame with its CRC broken is not.
    view.setUint32(marker.byteLength - 4, view.getUint32(marker.byteLength - 4, true) ^ 1, true);
    const broken = await stepAfterRecords(segment(marker).fs);
    expect(broken).toMatchObject({ kind: "damaged", reason: "corrupt", frameValid: false });
    expect(broken.kind === "damaged" && broken.error.code).toBe("WAL_CRC_MISMATCH");
    // A whole frame whose payload the codec refuses (a batch payload that is no batch).
    const batch = encodeRecord(
      { kind: "mutationBatch", lsn: 4, txBeginLsn: 1, events: [Uint8Array.of(7)] },
      bytesCodec,
    );
    const refused = batch.slice(0, 25 + 1);
    new DataView(refused.buffer).setUint32(0, refused.byteLength, true);
    refused[21] = 0xff;
    new DataView(refused.buffer).setUint32(22, crc32(refused.subarray(0, 22)), true);
    const rejected = await stepAfterRecords(segment(refused).fs);
    expect(rejected).toMatchObject({ kind: "damaged", reason: "corrupt", frameValid: true });
    expect(rejected.kind === "damaged" && rejected.error.code).toBe("WAL_DECODE");
  });

  it("a non-zero byte anywhere around the end of the first read keeps the zeros after the records damage", async () => {
    // The reader checks the buffered zeros in memory and the rest of the file from the end of its buffer on: a byte
    // exactly at that seam must be seen too. The first read takes `chunkBytes` from the header's end.
    const chunkBytes = 4096;
    const { boundary } = segment(new Uint8Array(0));
    for (let at = 32 + chunkBytes - 2; at <= 32 + chunkBytes + 2; at++) {
      const tail = new Uint8Array(2 * chunkBytes);
      tail[at - boundary] = 1;
      const step = await stepAfterRecords(segment(tail).fs, chunkBytes);
      expect(step, `non-zero byte at ${at}`).toMatchObject({ kind: "damaged", reason: "corrupt", offset: boundary });
    }
  });
});
