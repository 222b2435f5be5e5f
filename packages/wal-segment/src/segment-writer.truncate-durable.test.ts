/**
 * `SegmentWriter.truncateTo(offset)` makes the cut durable before it resolves: a power loss right after it leaves the
 * file at the cut, not with the fsynced bytes it removed.
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

describe("SegmentWriter.truncateTo", () => {
  it("leaves the file at the cut in every crash image once it resolves", async () => {
    const fs = SimFS.withDir("/w");
    const writer = await SegmentWriter.create(fs, PATH, 1);
    writer.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    writer.append({ kind: "txCommit", lsn: 2, txBeginLsn: 1 }, bytesCodec);
    await writer.flush();
    expect(fs.durableImage().readFileSync(PATH).byteLength).toBeGreaterThan(cut);
    await writer.truncateTo(cut);
    let images = 0;
    for (const image of fs.crashImages()) {
      images++;
      expect(image.fs.readFileSync(PATH).byteLength, image.description).toBe(cut);
    }
    expect(images).toBeGreaterThan(0);
    await writer.close();
  });
});
