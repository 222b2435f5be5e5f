/**
 * `SegmentReader.seek(offset)` with an offset that cannot be a record boundary (not an integer, or inside the
 * header) is the caller's mistake: refused with `WAL_INVALID_ARGUMENT`, the reader left where it was. Before, the
 * next read reported damage at that offset (`WAL_BAD_LENGTH` at `NaN`), which a recovery would judge as damage.
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

describe("SegmentReader.seek", () => {
  it.each([Number.NaN, -5, 0, 31, 33.5, Number.POSITIVE_INFINITY, 2 ** 53, "57" as unknown as number])(
    "refuses %s with WAL_INVALID_ARGUMENT and keeps its position",
    async (offset) => {
      const fs = SimFS.withDir("/w");
      const w = await SegmentWriter.create(fs, PATH, 1);
      w.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
      w.append({ kind: "txCommit", lsn: 2, txBeginLsn: 1 }, bytesCodec);
      await w.flush();
      await w.close();
      const reader = await SegmentReader.open(fs, PATH);
      try {
        const first = await reader.next(bytesCodec);
        expect(first).toMatchObject({ kind: "record", offset: 32 });
        expect(() => reader.seek(offset)).toThrow(expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }));
        expect(reader.position).toBe(57);
        expect(await reader.next(bytesCodec)).toMatchObject({ kind: "record", offset: 57 });
        expect(await reader.next(bytesCodec)).toEqual({ kind: "end" });
      } finally {
        await reader.close();
      }
    },
  );
});
