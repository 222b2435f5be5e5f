/**
 * A CRC mismatch is named by the LSN the reader expects at that offset (the one after the last record it read, or
 * the segment's base LSN for its first record), not by the damaged record's own LSN field: the CRC covers that
 * field, so a bit flipped in it read as LSN 4294967298 where LSN 2 was written, and the error named that.
 */

import { bytesCodec, encodeRecord, type WalError, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";
const BEGIN_BYTES = 25;

/** Begin 1, a batch of one `eventBytes`-byte event at LSN 2, commit 3. */
function records(eventBytes: number): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: 1 },
    { kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: [new Uint8Array(eventBytes).fill(7)] },
    { kind: "txCommit", lsn: 3, txBeginLsn: 1 },
  ];
}

/** Begin 1, a batch of one `eventBytes`-byte event at LSN 2, commit 3; then bit 0 of byte `flipAt` flipped. */
async function damaged(flipAt: number, eventBytes = 16): Promise<SimFS> {
  const fs = SimFS.withDir("/w");
  const w = await SegmentWriter.create(fs, PATH, 1);
  for (const r of records(eventBytes)) w.append(r, bytesCodec);
  await w.flush();
  await w.close();
  const bytes = new Uint8Array(fs.readFileSync(PATH));
  bytes[flipAt] = (bytes[flipAt] as number) ^ 1;
  fs.writeFileSync(PATH, bytes, { durable: true });
  return fs;
}

/** The error of the first damaged step, reading with `next` (or with `nextBufferedRecord` first, when `buffered`). */
async function firstError(
  fs: SimFS,
  options: { chunkBytes?: number; buffered?: boolean; seek?: number } = {},
): Promise<WalError> {
  const reader = await SegmentReader.open(
    fs,
    PATH,
    options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes },
  );
  try {
    if (options.seek !== undefined) reader.seek(options.seek);
    for (;;) {
      if (options.buffered === true && reader.nextBufferedRecord(bytesCodec) !== undefined) continue;
      const step = await reader.next(bytesCodec);
      if (step.kind === "damaged") return step.error;
      if (step.kind !== "record") throw new Error(`no damage: ${step.kind}`);
    }
  } finally {
    await reader.close();
  }
}

// The LSN field is the u64 at +5 of a record; bit 0 of its high word's first byte (+9) adds 2^32.
const secondLsnHigh = SEGMENT_HEADER_BYTES + BEGIN_BYTES + 9;
const firstLsnHigh = SEGMENT_HEADER_BYTES + 9;

describe("a CRC mismatch's LSN", () => {
  it("is the LSN expected there when the flip is in the LSN field, the stored one named as untrusted", async () => {
    for (const buffered of [false, true]) {
      const error = await firstError(await damaged(secondLsnHigh), { buffered });
      expect(error.code).toBe("WAL_CRC_MISMATCH");
      expect(error.details.lsn, `buffered: ${buffered}`).toBe(2);
      expect(error.details.offset).toBe(SEGMENT_HEADER_BYTES + BEGIN_BYTES);
      expect(error.message).toMatch(/^WAL record CRC mismatch at lsn 2 \(the LSN expected there/);
      expect(error.message).toContain("the record's own lsn field reads 4294967298, untrusted");
    }
  });

  it("is the one after a record read by nextBufferedRecord (the fast path)", async () => {
    const batchBytes = encodeRecord(records(16)[1] as WalRecord<Uint8Array>, bytesCodec).byteLength;
    const thirdLsnHigh = SEGMENT_HEADER_BYTES + BEGIN_BYTES + batchBytes + 9;
    // next() reads the begin and fills the buffer; nextBufferedRecord reads the batch; next() meets the commit.
    const error = await firstError(await damaged(thirdLsnHigh), { buffered: true });
    expect(error.details.lsn).toBe(3);
    expect(error.message).toContain("the record's own lsn field reads 4294967299, untrusted");
  });

  it("is the segment's base LSN for its first record", async () => {
    const error = await firstError(await damaged(firstLsnHigh));
    expect(error.details.lsn).toBe(1);
    expect(error.message).toContain("the record's own lsn field reads 4294967297, untrusted");
  });

  it("is also the expected one for a record larger than the read buffer (its CRC checked while streaming it)", async () => {
    const error = await firstError(await damaged(secondLsnHigh, 200_000), { chunkBytes: 4096 });
    expect(error.details.lsn).toBe(2);
    expect(error.message).toContain("the record's own lsn field reads 4294967298, untrusted");
  });

  it("stays the record's own when the flip is in the payload (the two agree)", async () => {
    const error = await firstError(await damaged(SEGMENT_HEADER_BYTES + BEGIN_BYTES + 30));
    expect(error.details.lsn).toBe(2);
    expect(error.message).toMatch(/^WAL record CRC mismatch at lsn 2: expected 0x[0-9a-f]{8}, got 0x[0-9a-f]{8}$/);
  });

  it("is the stored one after a seek past the first record, where the reader knows no previous LSN", async () => {
    const error = await firstError(await damaged(secondLsnHigh), { seek: SEGMENT_HEADER_BYTES + BEGIN_BYTES });
    expect(error.details.lsn).toBe(4294967298);
    expect(error.message).toMatch(/^WAL record CRC mismatch at lsn 4294967298: /);
  });
});
