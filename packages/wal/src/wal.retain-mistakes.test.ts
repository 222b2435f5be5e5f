/**
 * A `retain` hold is the holder's code: a `position()` that throws or answers something that is not an LSN is the
 * holder's mistake. Truncation refuses it with a code and deletes nothing, and the handle stays usable; it is never
 * taken for a failed deletion, which poisons the handle.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const broken: [string, () => number][] = [
  ["returns NaN", () => Number.NaN],
  ["returns a string", () => "12" as unknown as number],
  ["returns -1", () => -1],
  [
    "throws",
    () => {
      throw new Error("consumer bug");
    },
  ],
];

describe("a retain hold whose position() is broken", () => {
  for (const [what, position] of broken) {
    it(`${what}: truncateUpTo and checkpoint are refused, nothing is deleted, the handle stays usable`, async () => {
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec, segmentTargetBytes: 64 });
      for (let i = 0; i < 6; i++) await wal.commitTx([`e${i}`]);
      const before = (await wal.segments()).map((s) => s.id);
      expect(before.length).toBeGreaterThan(3);
      const release = wal.retain("consumer", position);
      const fence = wal.safeCheckpointLsn();
      await expect(wal.truncateUpTo(fence)).rejects.toMatchObject({
        code: "WAL_INVALID_ARGUMENT",
        message: expect.stringContaining('retain hold "consumer"'),
      });
      const next = wal.nextLsn();
      await expect(wal.checkpoint(fence)).rejects.toMatchObject({ code: "WAL_INVALID_ARGUMENT" });
      expect(wal.nextLsn()).toBe(next); // refused before its marker was written
      expect(wal.failure()).toBeNull();
      expect((await wal.segments()).map((s) => s.id)).toEqual(before);
      expect(await wal.commitTx(["after"])).not.toBeNull();
      release();
      expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
      await wal.close();
    });
  }
});
