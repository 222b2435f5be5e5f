/**
 * A follower's zero tail `[from, to)` speaks for the bytes it looked at, no further. Once the records written into
 * that tail take it exactly (the follower's position is `to`), every byte from the position on is new to it: it
 * looks at them as a reader opening the file would, and zeros followed by data there (a torn write whose first page
 * never landed) are damage, not the end of the log. A real file.
 */

import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { drain } from "./test-support/drain-reader.js";

const fs = createNodeFileSystem();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-seen-tail-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A transaction of exactly `bytes` encoded bytes, begun at `begin`. */
function sizedTx(begin: number, bytes: number): Uint8Array {
  const framed = (payload: number): Uint8Array[] =>
    (
      [
        { kind: "txBegin", lsn: begin },
        { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: new Uint8Array(payload).fill(7) },
        { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
      ] as WalRecord<Uint8Array>[]
    ).map((r) => encodeRecord(r, bytesCodec));
  const framing = framed(0).reduce((n, b) => n + b.byteLength, 0);
  const parts = framed(bytes - framing);
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

describe("SegmentReader at exactly the end of the zero tail it saw", () => {
  it("reads zeros then data past it as damage, as a reader opening the file does", async () => {
    const path = join(dir, "0000000001.wal");
    const writer = await SegmentWriter.create(fs, path, 1, { preallocateBytes: 8192 });
    writer.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
    writer.append({ kind: "txCommit", lsn: 2, txBeginLsn: 1 }, bytesCodec);
    await writer.flush();
    await writer.discardAndClose();
    const reader = await SegmentReader.open(fs, path);
    expect(await drain(reader)).toEqual({ lsns: [1, 2], last: "end" });
    const from = reader.position;
    const to = reader.fileSize;
    expect(to - from).toBeGreaterThan(1000); // a zero tail, seen whole

    // A transaction takes the tail to its last byte; past it, a torn write: 64 zero bytes, then its later bytes.
    const raw = await open(path, "r+");
    await raw.write(sizedTx(3, to - from), 0, to - from, from);
    await raw.write(new Uint8Array(200).fill(0xab), 0, 200, to + 64);
    await raw.close();
    await reader.refresh();
    const followed = await drain(reader);
    expect(reader.position).toBe(to);
    await reader.close();

    const fresh = await SegmentReader.open(fs, path);
    expect(await drain(fresh)).toEqual({ lsns: [1, 2, 3, 4, 5], last: "corrupt" });
    await fresh.close();
    expect(followed).toEqual({ lsns: [3, 4, 5], last: "corrupt" });
  });
});
