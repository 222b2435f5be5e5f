/**
 * A lifecycle listener that throws is reported with a process warning and does not fail the log, whatever it
 * throws. The warning printed the thrown value with `String()`, which throws a `TypeError` for a null-prototype
 * object and rethrows a `toString` that throws: that escaped from the middle of a commit's fsync, a rotation, a
 * truncation or close (a commit never settled).
 */

import { UNPRINTABLE_VALUES } from "@lora/test-utils";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type JsonValue, jsonCodec, readCommitted, Wal } from "./index.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a lifecycle listener may throw anything", () => {
  for (const [label, thrown] of UNPRINTABLE_VALUES) {
    it(`${label}: every commit, rotation, truncation and close completes, and each throw is a warning`, async () => {
      const warnings: unknown[] = [];
      vi.spyOn(process, "emitWarning").mockImplementation((warning) => {
        warnings.push(warning);
      });
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 256 });
      const heard = new Set<string>();
      wal.onLifecycle((event) => {
        heard.add(event.type);
        throw thrown;
      });
      for (let i = 0; i < 12; i++) await wal.commitTx([{ i }]);
      expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
      expect(wal.failure()).toBeNull();
      await wal.close();
      expect([...heard].sort()).toEqual(["closed", "created", "durable", "removed", "sealed"]);
      expect(warnings.length).toBeGreaterThan(0);
      for (const warning of warnings) expect(warning).toMatch(/^a @lora\/wal lifecycle listener threw on "\w+": /);

      const read: JsonValue[] = [];
      for await (const tx of readCommitted<JsonValue>("/w", { codec: jsonCodec, fs, allowTruncatedHistory: true }))
        read.push(...tx.events);
      expect(read.at(-1)).toEqual({ i: 11 });
    });
  }
});
