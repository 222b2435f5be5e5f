/**
 * Every reader's entry point refuses a directory argument that is not a path with `WAL_INVALID_ARGUMENT`, at once
 * and before touching the file system: a number or `null` used to surface as Node's `ERR_INVALID_ARG_TYPE` (no WAL
 * code), and `""` as a `WAL_IO` on the empty path.
 */

import { jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";
import { replayDir, replaySegments } from "./replay.js";
import { createSlot } from "./replication-slots.js";
import { oldestRetainedLsn } from "./segment-locate.js";

const NOT_PATHS: unknown[] = [42, null, undefined, "", "wal\0dir", { path: "wal" }];

const refused = expect.objectContaining({
  code: "WAL_INVALID_ARGUMENT",
  message: expect.stringMatching(/^the log directory must be a non-empty string without NUL bytes, got /),
});

describe("a log directory that is not a path", () => {
  it("is refused at once by replayDir, followDir and readCommitted's first step", async () => {
    for (const dir of NOT_PATHS) {
      expect(() => replayDir(dir as string, { codec: jsonCodec })).toThrow(refused);
      expect(() => followDir(dir as string, { codec: jsonCodec })).toThrow(refused);
      await expect(readCommitted(dir as string, { codec: jsonCodec }).next()).rejects.toThrow(refused);
    }
  });

  it("is refused by oldestRetainedLsn and createSlot", async () => {
    for (const dir of NOT_PATHS) {
      await expect(oldestRetainedLsn(dir as string)).rejects.toThrow(refused);
      await expect(createSlot(dir as string, "s")).rejects.toThrow(refused);
    }
  });

  it("replaySegments refuses a path in its list that is empty or holds a NUL byte", () => {
    for (const bad of [[""], ["a\0b"], ["ok", 7]]) {
      expect(() => replaySegments(bad as string[], { codec: jsonCodec })).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_ARGUMENT" }),
      );
    }
  });
});
