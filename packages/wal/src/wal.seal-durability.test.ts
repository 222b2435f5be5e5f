/** Rotation after a failed seal: the sealed header is made durable before the segment after it is created. */

import { jsonCodec } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

describe("a sealed segment whose header fsync failed", () => {
  it("a sealed header still in the page cache is made durable before its successor is created", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    const writer = await SegmentWriter.create(fs, segmentPath("/w", 1), 1);
    writer.append({ kind: "txBegin", lsn: 1 }, jsonCodec);
    writer.append({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: "a" }, jsonCodec);
    writer.append({ kind: "txCommit", lsn: 3, txBeginLsn: 1 }, jsonCodec);
    // seal(): the records' fdatasync passes, the header's fails (fsyncgate: the sealed header never becomes durable).
    fs.injectFault({ op: "datasync", errno: "EIO", skip: 1 });
    await expect(writer.seal()).rejects.toMatchObject({ code: "WAL_IO" });
    await writer.close();
    // A new process sees the sealed header in the page cache and heals by creating segment 2.
    const { wal, healed } = await Wal.open("/w", { fs, codec: jsonCodec });
    expect(healed.map((h) => h.kind)).toEqual(["sealedSegmentSucceeded"]);
    await wal.commitTx(["b"]); // acknowledged after an fdatasync
    // Power loss: only what was made durable survives. The log must open with both transactions.
    const { events, wal: after } = await Wal.open("/w", { fs: fs.durableImage(), codec: jsonCodec });
    expect(events).toEqual(["a", "b"]);
    await after.close();
    await wal.close();
  });
});
