/**
 * The pending buffers carry from one segment to the next (the handle hands a sealed writer's buffers to the next
 * writer with `giveUpBuffers`; `bufferBytes` starts a writer at a size): a run of buffered appends must not re-grow
 * (and copy) its buffer from 8 KiB in every segment, nor allocate (and zero) new ones at every rotation.
 */

import { bytesCodec, isWalError } from "@lora/wal-codec";
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

  it("a sealed writer gives its buffers to the next one, which appends into them without growing", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const first = await SegmentWriter.create(fs, "/w/0000000001.wal", 1);
    const payload = new Uint8Array(1000);
    for (let lsn = 1; lsn <= 300; lsn++)
      first.append({ kind: "mutation", lsn, txBeginLsn: 1, event: payload }, bytesCodec);
    // Not sealed (and holding records): refused, nothing changes.
    const refused = (() => {
      try {
        first.giveUpBuffers();
      } catch (error) {
        return error;
      }
    })();
    expect(isWalError(refused, "WAL_INVALID_ARGUMENT")).toBe(true);
    expect(first.pendingBytes).toBeGreaterThan(256 * 1024);
    await first.seal();
    const capacity = first.bufferCapacity;
    const buffers = first.giveUpBuffers();
    expect(first.bufferCapacity).toBeLessThan(capacity);
    await first.close();

    const next = await SegmentWriter.create(fs, "/w/0000000002.wal", 301, { buffers });
    expect(next.bufferCapacity).toBe(capacity);
    expect(next.pendingBytes).toBe(0);
    for (let lsn = 301; lsn <= 600; lsn++)
      next.append({ kind: "mutation", lsn, txBeginLsn: 1, event: payload }, bytesCodec);
    expect(next.bufferCapacity).toBe(capacity);
    await next.flush();
    // The first segment's records are intact: the buffers it gave up held nothing it still needed.
    expect(fs.readFileSync("/w/0000000001.wal").byteLength).toBeGreaterThan(300 * 1000);
    await next.close();
  });
});
