/**
 * `SegmentWriter.rewriteInPlace({ chunkBytes })` with a chunk size that is not an integer of at least 1 is the
 * caller's mistake: refused with `WAL_INVALID_OPTION` before any I/O, the writer still usable. Before, `0` and `NaN`
 * made a zero-length buffer: nothing was rewritten, yet the call fdatasynced and resolved as if the bytes had been.
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

describe("SegmentWriter.rewriteInPlace options", () => {
  it.each([0, Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY, "64" as unknown as number])(
    "refuses chunkBytes %s with WAL_INVALID_OPTION before any I/O",
    async (chunkBytes) => {
      const fs = SimFS.withDir("/w");
      const writer = await SegmentWriter.create(fs, "/w/0000000001.wal", 1);
      writer.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
      await writer.write();
      const { reads, writes, datasyncs, syncs } = fs.stats;
      await expect(writer.rewriteInPlace({ chunkBytes })).rejects.toMatchObject({
        name: "WalError",
        code: "WAL_INVALID_OPTION",
      });
      expect(fs.stats).toMatchObject({ reads, writes, datasyncs, syncs });
      // Not failed by the refusal: it still writes, syncs and rewrites.
      writer.append({ kind: "txCommit", lsn: 2, txBeginLsn: 1 }, bytesCodec);
      await writer.flush();
      await writer.rewriteInPlace({ chunkBytes: 7 });
      await writer.close();
      expect(fs.durableImage().readFileSync("/w/0000000001.wal").byteLength).toBe(32 + 25 + 25);
    },
  );
});
