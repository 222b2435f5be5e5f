/**
 * A seal changes one bit of the header, the sealed flag (and so the header's CRC): every other header byte stays as
 * it was, the reserved bytes and other flag bits of a segment another writer made included. Re-encoding the header
 * instead dropped those bytes, so the sealed segment no longer held the header its earlier pieces were archived
 * with (the archiver then called its own pieces another history).
 */

import { bytesCodec, crc32 } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { decodeSegmentHeader, encodeSegmentHeader, SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000005.wal";

/** A base-5 header with reserved bytes and flag bit 3 set, its CRC made good: it decodes and opens. */
function foreignHeader(): Uint8Array {
  const header = encodeSegmentHeader({ baseLsn: 5, sealed: false, flags: 0b1000 });
  header.set([0xde, 0xad, 0xbe, 0xef], 24);
  new DataView(header.buffer).setUint32(28, crc32(header.subarray(0, 28)), true);
  return header;
}

describe("SegmentWriter.seal", () => {
  it("keeps every header byte but the sealed flag and the CRC of a segment it opened for append", async () => {
    const fs = SimFS.withDir("/w");
    const before = foreignHeader();
    fs.writeFileSync(PATH, before, { durable: true });
    const writer = await SegmentWriter.openForAppend(fs, PATH, SEGMENT_HEADER_BYTES);
    writer.append({ kind: "mutation", lsn: 5, txBeginLsn: 0, event: Uint8Array.of(1) }, bytesCodec);
    await writer.seal();
    await writer.close();
    const after = fs.readFileSync(PATH).subarray(0, SEGMENT_HEADER_BYTES);
    expect(Buffer.from(after.subarray(24, 28)).toString("hex")).toBe("deadbeef");
    expect(decodeSegmentHeader(after)).toEqual({ formatVersion: 1, baseLsn: 5, sealed: true, flags: 0b1001 });
    // Every byte before the CRC is the one it was, but bit 0 of the flags.
    const expected = before.slice(0, 28);
    expected[20] = (expected[20] as number) | 1;
    expect(after.subarray(0, 28)).toEqual(expected);
    expect(writer.header).toEqual(decodeSegmentHeader(after));
  });

  it("writes the header it created, sealed, for a segment it created", async () => {
    const fs = SimFS.withDir("/w");
    const writer = await SegmentWriter.create(fs, PATH, 5);
    await writer.seal();
    await writer.close();
    const after = fs.readFileSync(PATH).subarray(0, SEGMENT_HEADER_BYTES);
    expect(after).toEqual(encodeSegmentHeader({ baseLsn: 5, sealed: true }));
    expect(writer.header).toEqual({ formatVersion: 1, baseLsn: 5, sealed: true, flags: 1 });
  });
});
