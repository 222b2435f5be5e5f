/**
 * `Wal.open`'s options that are not numbers (flags, choices, callbacks) are checked before the open touches the disk:
 * a value of the wrong kind is refused with `WAL_INVALID_OPTION` and nothing is created, neither the directory nor
 * its lock file. A check left to replay would come only after the directory was created and locked.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";
import type { WalOptions } from "./wal-options.js";

const WRONG_KIND: readonly [keyof WalOptions<JsonValue>, readonly unknown[]][] = [
  ["allowTruncatedHistory", ["yes", 1]],
  ["scanFrom", ["newest", "", 0]],
  ["recovery", ["lenient", true]],
  ["blockingSync", ["always", 1]],
  ["publishDurableLsn", ["no", 0]],
  ["onTransaction", ["callback", {}]],
  ["onProgress", ["callback", 1]],
];

describe("Wal.open with an option of the wrong kind", () => {
  for (const [option, values] of WRONG_KIND) {
    it(`refuses ${option} ${values.map(String).join(", ")} with WAL_INVALID_OPTION, creating nothing`, async () => {
      const fs = SimFS.withDir("/w");
      for (const value of values) {
        const options = { fs, codec: jsonCodec, [option]: value } as WalOptions<JsonValue>;
        await expect(Wal.open("/w/log", options), `${option}: ${String(value)}`).rejects.toMatchObject({
          code: "WAL_INVALID_OPTION",
        });
        expect(fs.listSync("/w"), `${option}: ${String(value)}`).toEqual([]);
      }
    });
  }

  it("accepts each option's valid kinds", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w/log", {
      fs,
      codec: jsonCodec,
      allowTruncatedHistory: true,
      scanFrom: "fence",
      recovery: "absolute",
      blockingSync: false,
      publishDurableLsn: false,
      onTransaction: () => undefined,
      onProgress: () => undefined,
    });
    await wal.close();
  });
});
