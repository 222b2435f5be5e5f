/**
 * A directory whose only segment is headerless (a crash while it was being created, after older segments were
 * archived and removed): recovery removes it and creates it again under the same id. Ids never go back: a new
 * segment 1 would take a name an archive or a follower has already seen with other records.
 */

import { basename } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";

describe("a lone headerless segment", () => {
  for (const [what, bytes] of [
    ["empty", new Uint8Array(0)],
    ["all zeros", new Uint8Array(4096)],
  ] as const) {
    it(`(${what}) is created again under its own id, above the fence, and the log reopens with its commits`, async () => {
      const fs = SimFS.withDir(DIR);
      fs.writeFileSync(segmentPath(DIR, 7), bytes);

      const first = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 40 });
      expect(first.healed).toEqual([
        { kind: "headerlessSegmentRemoved", segment: segmentPath(DIR, 7), fileSize: bytes.byteLength },
      ]);
      expect(first.wal.activeSegmentId()).toBe(7);
      expect(first.wal.oldestSegmentId()).toBe(7);
      expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal"))).toEqual([basename(segmentPath(DIR, 7))]);
      expect((await first.wal.commitTx(["a"]))?.beginLsn).toBe(41);
      await first.wal.close();

      const second = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, checkpointLsn: 40 });
      expect(second.events).toEqual(["a"]);
      expect(second.healed).toEqual([]);
      await second.wal.close();
    });
  }
});
