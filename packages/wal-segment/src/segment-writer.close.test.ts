/**
 * `SegmentWriter.close()` writes what is still buffered (without making it durable); `discardAndClose()` drops it;
 * a failed writer's buffered bytes are reported, never silently lost.
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

function transaction(begin: number): WalRecord<Uint8Array>[] {
  return [
    { kind: "txBegin", lsn: begin },
    { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: Uint8Array.of(begin & 0xff) },
    { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
  ];
}

async function lsnsIn(fs: SimFS): Promise<number[]> {
  const reader = await SegmentReader.open(fs, PATH);
  const lsns: number[] = [];
  try {
    for (;;) {
      const step = await reader.next(bytesCodec);
      if (step.kind !== "record") break;
      lsns.push(step.record.lsn);
    }
  } finally {
    await reader.close();
  }
  return lsns;
}

async function created(): Promise<{ fs: SimFS; writer: SegmentWriter }> {
  const fs = new SimFS();
  fs.mkdirpSync("/w");
  return { fs, writer: await SegmentWriter.create(fs, PATH, 1) };
}

describe("SegmentWriter.close", () => {
  it("writes the buffered records, without an fdatasync", async () => {
    const { fs, writer } = await created();
    for (const r of [...transaction(1), ...transaction(4)]) writer.append(r, bytesCodec);
    await writer.write();
    for (const r of transaction(7)) writer.append(r, bytesCodec);
    const syncs = fs.stats.datasyncs + fs.stats.syncs;
    await writer.close();
    expect(await lsnsIn(fs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(fs.stats.datasyncs + fs.stats.syncs).toBe(syncs);
    // Not durable: a power loss now keeps only what an fdatasync covered.
    expect(fs.durableImage().readFileSync(PATH).byteLength).toBe(SEGMENT_HEADER_BYTES);
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });

  it("is idempotent, and calls made together share one close", async () => {
    const { fs, writer } = await created();
    for (const r of transaction(1)) writer.append(r, bytesCodec);
    await Promise.all([writer.close(), writer.close(), writer.discardAndClose()]);
    await writer.close();
    expect(await lsnsIn(fs)).toEqual([1, 2, 3]);
    expect(fs.stats.closes).toBe(fs.stats.opens);
    await expect(writer.write()).rejects.toMatchObject({ code: "WAL_CLOSED" });
  });

  it("of a failed writer rejects with the first failure when bytes were buffered, and closes the file", async () => {
    const { fs, writer } = await created();
    fs.injectFault({ op: "write", path: PATH, errno: "EIO" });
    for (const r of transaction(1)) writer.append(r, bytesCodec);
    const first = await writer.write().catch((e: unknown) => e);
    expect(first).toMatchObject({ code: "WAL_IO" });
    for (const r of transaction(4)) writer.append(r, bytesCodec);
    await expect(writer.close()).rejects.toBe(first);
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });

  it("of a failed writer with nothing buffered resolves", async () => {
    const { fs, writer } = await created();
    fs.injectFault({ op: "write", path: PATH, errno: "EIO" });
    for (const r of transaction(1)) writer.append(r, bytesCodec);
    await expect(writer.write()).rejects.toMatchObject({ code: "WAL_IO" });
    await writer.close();
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });
});

describe("SegmentWriter.discardAndClose", () => {
  it("drops what is buffered and keeps what was written", async () => {
    const { fs, writer } = await created();
    for (const r of transaction(1)) writer.append(r, bytesCodec);
    await writer.write();
    for (const r of transaction(4)) writer.append(r, bytesCodec);
    await writer.discardAndClose();
    expect(await lsnsIn(fs)).toEqual([1, 2, 3]);
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });

  it("of a failed writer resolves: nothing was to be written", async () => {
    const { fs, writer } = await created();
    fs.injectFault({ op: "write", path: PATH, errno: "EIO" });
    for (const r of transaction(1)) writer.append(r, bytesCodec);
    await expect(writer.write()).rejects.toMatchObject({ code: "WAL_IO" });
    for (const r of transaction(4)) writer.append(r, bytesCodec);
    await writer.discardAndClose();
    expect(fs.stats.closes).toBe(fs.stats.opens);
  });
});
