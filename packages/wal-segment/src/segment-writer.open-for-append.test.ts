/**
 * `SegmentWriter.openForAppend` refuses an append offset before the records or past the file's end, a damaged
 * header and a sealed segment, each with its code, leaving the file as it was and no descriptor open.
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

function transaction(begin: number): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: Uint8Array.of(7) },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

/** A closed segment holding one transaction, and its length. */
async function oneTransaction(): Promise<{ fs: SimFS; end: number }> {
  const fs = SimFS.withDir("/w");
  const writer = await SegmentWriter.create(fs, PATH, 1);
  for (const r of transaction(1)) writer.append(r, bytesCodec);
  await writer.flush();
  await writer.close();
  return { fs, end: fs.readFileSync(PATH).byteLength };
}

describe("SegmentWriter.openForAppend refusals", () => {
  it("refuses an offset inside the header without opening the file", async () => {
    const { fs } = await oneTransaction();
    const opens = fs.stats.opens;
    for (const offset of [0, 1, SEGMENT_HEADER_BYTES - 1]) {
      await expect(SegmentWriter.openForAppend(fs, PATH, offset)).rejects.toMatchObject({
        code: "WAL_BAD_HEADER",
        details: { path: PATH, offset },
      });
    }
    expect(fs.stats.opens).toBe(opens);
  });

  it("refuses an offset past the end of the file, closing what it opened and writing nothing", async () => {
    const { fs, end } = await oneTransaction();
    const before = fs.readFileSync(PATH);
    const writes = fs.stats.writes;
    await expect(SegmentWriter.openForAppend(fs, PATH, end + 1)).rejects.toMatchObject({
      code: "WAL_BAD_HEADER",
      details: { path: PATH, offset: end + 1 },
    });
    expect(fs.readFileSync(PATH)).toEqual(before);
    expect(fs.stats.writes).toBe(writes);
    expect(fs.stats.opens).toBe(fs.stats.closes);
    // The end itself is where an append goes.
    const writer = await SegmentWriter.openForAppend(fs, PATH, end);
    expect(writer.writtenBytes).toBe(end);
    await writer.close();
  });

  it("refuses a damaged header and a sealed segment, closing what it opened", async () => {
    const { fs, end } = await oneTransaction();
    const bytes = fs.readFileSync(PATH);
    const damaged = bytes.slice();
    damaged.fill(0xff, 0, 8); // the magic
    fs.writeFileSync(PATH, damaged);
    await expect(SegmentWriter.openForAppend(fs, PATH, end)).rejects.toMatchObject({ code: "WAL_BAD_HEADER" });
    fs.writeFileSync(PATH, bytes);
    const sealer = await SegmentWriter.openForAppend(fs, PATH, end);
    await sealer.seal();
    await sealer.close();
    const sealed = fs.readFileSync(PATH);
    await expect(SegmentWriter.openForAppend(fs, PATH, end)).rejects.toMatchObject({ code: "WAL_SEGMENT_SEALED" });
    expect(fs.readFileSync(PATH)).toEqual(sealed);
    expect(fs.stats.opens).toBe(fs.stats.closes);
  });
});
