/**
 * An option value with no printable form is refused like any other bad value: `WAL_INVALID_OPTION`, no directory
 * created. The refusal's message printed the value with `String()` (a `TypeError` for a null-prototype object or a
 * `toString` that throws) or `JSON.stringify` (a `TypeError` for a bigint or a cycle), so the caller got an
 * uncoded `TypeError` instead.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";
import type { WalOptions } from "./wal-options.js";

const OPTIONS = [
  "segmentTargetBytes",
  "checkpointLsn",
  "recovery",
  "scanFrom",
  "blockingSync",
  "unsyncedWindowBytes",
  "preallocateBytes",
  "maxSlotRetainedBytes",
  "publishDurableLsn",
  "allowTruncatedHistory",
  "lockRetryMs",
  "syncMode",
] as const;

const cyclic: Record<string, unknown> = { mode: "sometimes" };
cyclic.self = cyclic;

const UNPRINTABLE: readonly [string, unknown][] = [
  ["a null-prototype object", Object.create(null)],
  [
    "an object whose toString throws",
    {
      toString() {
        throw new Error("no");
      },
    },
  ],
  ["a bigint in an object", { mode: "sometimes", n: 1n }],
  ["a cycle", cyclic],
  ["a bigint", 5n],
];

describe("option values with no printable form", () => {
  for (const [name, value] of UNPRINTABLE) {
    it(`are refused WAL_INVALID_OPTION: ${name}`, async () => {
      const fs = SimFS.withDir("/w");
      for (const option of OPTIONS) {
        const options = { fs, codec: jsonCodec, [option]: value } as WalOptions<JsonValue>;
        await expect(Wal.open("/w/log", options), option).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
      }
      expect(fs.listSync("/w")).toEqual([]);
    });
  }
});
