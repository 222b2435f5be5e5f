/**
 * `Wal.open`'s numeric options out of their range are refused with `WAL_INVALID_OPTION` before anything is created:
 * a value of the right type is not enough. Each value below is a number, so only the range check stands between it
 * and a handle built on it (a segment target of 0 seals a segment after every record, a window below a sector makes
 * recovery misjudge a torn write, a negative fence or fill has no meaning).
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { MAX_PREALLOCATE_BYTES } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";
import type { WalOptions } from "./wal-options.js";

const OUT_OF_RANGE: readonly [keyof WalOptions<JsonValue>, readonly number[]][] = [
  ["segmentTargetBytes", [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]],
  ["checkpointLsn", [-1, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER]],
  ["unsyncedWindowBytes", [4095, 0, -4096, 4096.5, Number.NaN, Number.POSITIVE_INFINITY]],
  ["preallocateBytes", [-1, 0.5, Number.NaN, MAX_PREALLOCATE_BYTES + 1]],
  ["maxSlotRetainedBytes", [-1, Number.NaN]],
];

describe("Wal.open with a numeric option out of range", () => {
  for (const [option, values] of OUT_OF_RANGE) {
    it(`refuses ${option} ${values.join(", ")} with WAL_INVALID_OPTION, creating nothing`, async () => {
      const fs = SimFS.withDir("/w");
      for (const value of values) {
        const options = { fs, codec: jsonCodec, [option]: value } as WalOptions<JsonValue>;
        await expect(Wal.open("/w/log", options), `${option}: ${value}`).rejects.toMatchObject({
          code: "WAL_INVALID_OPTION",
        });
      }
      expect(fs.listSync("/w")).toEqual([]);
    });
  }

  it("accepts the edges of each range", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w/log", {
      fs,
      codec: jsonCodec,
      segmentTargetBytes: 1,
      checkpointLsn: Number.MAX_SAFE_INTEGER - 1,
      unsyncedWindowBytes: 4096,
      preallocateBytes: 0,
      maxSlotRetainedBytes: 0,
    });
    expect(wal.nextLsn()).toBe(Number.MAX_SAFE_INTEGER);
    await wal.close();
  });

  it("accepts the largest fill, MAX_PREALLOCATE_BYTES (clamped to the segment target, so nothing that large is written)", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w/log", {
      fs,
      codec: jsonCodec,
      segmentTargetBytes: 8192,
      preallocateBytes: MAX_PREALLOCATE_BYTES,
    });
    await wal.commitTx(["a"]);
    await wal.close();
  });
});
