/**
 * Calls and `close()`. `checkpoint()` is one call: issued before `close()`, it finishes (marker, fsync, truncation)
 * while the close waits for it; it used to be refused with `WAL_CLOSED` half-way, after its marker had been written
 * and made durable. After the close, every call is refused with `WAL_CLOSED`.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

describe("checkpoint() and a close() called right after it", () => {
  it("the checkpoint completes, truncation included, and the reopen sees its marker", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, segmentTargetBytes: 64 });
    for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
    const fence = wal.safeCheckpointLsn();
    const checkpoint = wal.checkpoint(fence);
    const closed = wal.close();
    const info = await checkpoint;
    await closed;
    expect(info.snapshotLsn).toBe(fence);
    expect(info.removedSegments).toBeGreaterThan(0);
    const again = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, checkpointLsn: fence });
    expect(again.checkpointLsnObserved).toBe(fence);
    await again.wal.close();
  });

  it("a checkpoint called after close() started is refused with WAL_CLOSED, and no marker is written", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
    await wal.commitTx(["a"]);
    const fence = wal.safeCheckpointLsn();
    const closed = wal.close();
    await expect(wal.checkpoint(fence)).rejects.toMatchObject({ code: "WAL_CLOSED" });
    await closed;
    const again = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
    expect(again.checkpointLsnObserved).toBeNull();
    await again.wal.close();
  });
});

describe("checkpointMarker() and a close() called right after it", () => {
  it("a marker that waits for a rotation is written, not refused with WAL_CLOSED, and the reopen sees it", async () => {
    const fs = new SimFS();
    const first = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
    await first.wal.commitTx(["a"]); // LSNs 1-3
    await first.wal.close();
    // A fence above the log's end: the first record, this marker, rotates before it is appended.
    const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, checkpointLsn: 20 });
    const marker = wal.checkpointMarker(20);
    const closed = wal.close();
    await expect(marker).resolves.toBe(21);
    await closed;
    const again = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, checkpointLsn: 20 });
    expect(again.checkpointLsnObserved).toBe(20);
    await again.wal.close();
  });
});

describe("after close()", () => {
  it("segments() is refused with WAL_CLOSED", async () => {
    const { wal } = await Wal.open<JsonValue>("/w", { fs: new SimFS(), codec: jsonCodec });
    await wal.commitTx(["a"]);
    expect(await wal.segments()).toHaveLength(1);
    await wal.close();
    await expect(wal.segments()).rejects.toMatchObject({ code: "WAL_CLOSED" });
  });
});
