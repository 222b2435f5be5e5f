/**
 * The pending buffer's capacity carries from one segment to the next (the handle passes `bufferCapacity` as the
 * next writer's `bufferBytes`): a run of buffered appends that never yields to the event loop keeps its appends in
 * memory until the unsynced window's background fdatasync is seen, and must not re-grow (and copy) that buffer
 * from 8 KiB in every segment.
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

describe("SegmentWriter buffer capacity", () => {
  it("reports what the appends needed, and a writer created with it starts there", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const first = await SegmentWriter.create(fs, "/w/0000000001.wal", 1);
    expect(first.bufferCapacity).toBe(8192);
    const payload = new Uint8Array(1000);
    for (let lsn = 1; lsn <= 300; lsn++)
      first.append({ kind: "mutation", lsn, txBeginLsn: 1, event: payload }, bytesCodec);
    // 300 records of about 1 KiB, unwritten: the pending buffer doubled past 256 KiB.
    expect(first.pendingBytes).toBeGreaterThan(256 * 1024);
    expect(first.bufferCapacity).toBeGreaterThanOrEqual(first.pendingBytes);
    await first.write();
    const capacity = first.bufferCapacity;
    await first.close();

    const next = await SegmentWriter.create(fs, "/w/0000000002.wal", 301, { bufferBytes: capacity });
    expect(next.bufferCapacity).toBe(capacity);
    for (let lsn = 301; lsn <= 600; lsn++)
      next.append({ kind: "mutation", lsn, txBeginLsn: 1, event: payload }, bytesCodec);
    // The same appends fit without growing.
    expect(next.bufferCapacity).toBe(capacity);
    await next.close();
  });
});
