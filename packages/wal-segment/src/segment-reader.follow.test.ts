import { appendFile, mkdtemp, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { drain } from "./test-support/drain-reader.js";

// A reader beside a live writer: it sees bytes appended after it opened once it refreshes, resumes at an offset,
// reads a half-written record again whole, and learns that the segment was sealed.

const fs = createNodeFileSystem();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-follow-seg-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tx = (begin: number): WalRecord<Uint8Array>[] => [
  { kind: "txBegin", lsn: begin },
  { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array([begin & 0xff, 7, 7]) },
  { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
];

describe("SegmentReader beside a live writer", () => {
  it("sees appended records after refresh, re-reads a half-written record whole, and notices the seal", async () => {
    const path = join(dir, "0000000001.wal");
    const writer = await SegmentWriter.create(fs, path, 1);
    for (const r of tx(1)) writer.append(r, bytesCodec);
    await writer.flush();
    const reader = await SegmentReader.open(fs, path, { chunkBytes: 64 });
    expect(await drain(reader)).toEqual({ lsns: [1, 2, 3], last: "end" });

    // Half of the next record lands (a write in progress), then the rest.
    const next = encodeRecord({ kind: "txBegin", lsn: 4 }, bytesCodec);
    await appendFile(path, next.subarray(0, 10));
    await reader.refresh();
    expect(await drain(reader)).toEqual({ lsns: [], last: "incomplete" });
    await appendFile(path, next.subarray(10));
    await reader.refresh();
    expect(await drain(reader)).toEqual({ lsns: [4], last: "end" });
    expect(reader.sealed).toBe(false);

    await truncate(path, reader.position - next.byteLength);
    const w2 = await SegmentWriter.openForAppend(fs, path, reader.position - next.byteLength);
    for (const r of tx(4)) w2.append(r, bytesCodec);
    await w2.seal();
    await w2.close();
    await writer.close();
    // The reader resumes where it was told (the record it had read was cut and written again).
    reader.seek(reader.position - next.byteLength);
    const { sealed } = await reader.refresh();
    expect(sealed).toBe(true);
    expect(await drain(reader)).toEqual({ lsns: [4, 5, 6], last: "end" });
    await reader.close();
  });

  it("opens at a start offset and peeks LSNs without decoding", async () => {
    const path = join(dir, "0000000001.wal");
    const writer = await SegmentWriter.create(fs, path, 1);
    for (const r of [...tx(1), ...tx(4)]) writer.append(r, bytesCodec);
    await writer.flush();
    await writer.close();
    const first = await SegmentReader.open(fs, path);
    await drain(first);
    const whole = first.position;
    await first.close();
    const probe = await SegmentReader.open(fs, path);
    for (let i = 0; i < 3; i++) await probe.next(bytesCodec);
    const resumeAt = probe.position;
    await probe.close();

    const reader = await SegmentReader.open(fs, path, { startOffset: resumeAt });
    expect(await reader.peekLsn()).toBe(4);
    expect(await drain(reader)).toEqual({ lsns: [4, 5, 6], last: "end" });
    expect(reader.position).toBe(whole);
    expect(await reader.peekLsn()).toBeUndefined();
    await reader.close();
    await expect(SegmentReader.open(fs, path, { startOffset: 3 })).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
  });
});
