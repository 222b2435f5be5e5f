/**
 * What `lora-wal follow` adds to the change feed's errors, pinned whole: the codec to try for a record that does not
 * decode, and the command to run next for a follower behind truncation, an invalidated slot and a missing one. The
 * code and `details` stay the error's; other errors pass as they are.
 */

import { WalError, type WalErrorCode, type WalErrorDetails } from "@lora/wal-codec";
import { expect, it } from "vitest";
import { type CodecHintUse, withHint } from "./follow.js";

const LORA: CodecHintUse = { name: "lora", source: "default" };

function hinted(code: WalErrorCode, details: WalErrorDetails, slot?: string, dir = "/w", cause?: unknown): WalError {
  const error = new WalError(code, "the feed's error", { details, ...(cause === undefined ? {} : { cause }) });
  const result = withHint(error, dir, slot, LORA) as WalError;
  expect(result.code).toBe(code);
  expect(result.details).toBe(error.details);
  return result;
}

it("a codec mismatch names the codec it was read with and the ones to try, not --codec framing (follow refuses it)", () => {
  const details = { segment: "/w/0000000001.wal", offset: 57, lsn: 2 };
  const error = new WalError("WAL_CODEC_MISMATCH", "does not decode with the lora codec", { details });
  const result = withHint(error, "/w", undefined, LORA) as WalError;
  expect(result.message).toBe(
    "does not decode with the lora codec (read with --codec lora; try --codec json or --codec bytes, or your own codec with --codec-module <file>)",
  );
  expect(result.code).toBe("WAL_CODEC_MISMATCH");
  expect(result.details).toBe(details);
});

it("a record that does not decode names the codec it was read with and the ones to try", () => {
  const decode = new WalError("WAL_DECODE", "bad payload");
  const details = { segment: "/w/0000000001.wal", offset: 40 };
  const error = new WalError("WAL_CORRUPT", "record at offset 40 does not decode", { cause: decode, details });
  const uses: [CodecHintUse, string][] = [
    [
      LORA,
      " (read with --codec lora; try --codec json or --codec bytes, or your own codec with --codec-module <file>)",
    ],
    [
      { name: "json", source: "option" },
      " (read with --codec json; try --codec lora or --codec bytes, or your own codec with --codec-module <file>)",
    ],
    [
      { name: "mine", source: "module" },
      ' (read with the --codec-module codec "mine"; try --codec lora or --codec json or --codec bytes, or your own codec with --codec-module <file>)',
    ],
  ];
  for (const [use, hint] of uses) {
    const result = withHint(error, "/w", undefined, use) as WalError;
    expect(result.message).toBe(`record at offset 40 does not decode${hint}`);
    expect(result.code).toBe("WAL_CORRUPT");
    expect(result.details).toBe(details);
  }
  // Corruption that is not a payload the codec refused passes as it is.
  const crc = new WalError("WAL_CORRUPT", "crc", { cause: new WalError("WAL_CRC_MISMATCH", "crc") });
  expect(withHint(crc, "/w", undefined, LORA)).toBe(crc);
});

it("a follower behind truncation: follow again after a snapshot, or recreate the slot at one", () => {
  expect(hinted("WAL_TRUNCATED", { oldestRetainedLsn: 41 }).message).toBe(
    "the feed's error; next: follow with --after <LSN of a snapshot taken at LSN 40 or later>",
  );
  expect(hinted("WAL_TRUNCATED", {}).message).toBe(
    "the feed's error; next: follow with --after <LSN of a new snapshot>",
  );
  expect(hinted("WAL_TRUNCATED", { oldestRetainedLsn: 41 }, "s1", "/my logs").message).toBe(
    "the feed's error; next: lora-wal slots '/my logs' drop s1; lora-wal slots '/my logs' create s1 --at <LSN of a snapshot taken at LSN 40 or later>",
  );
});

it("an invalidated slot is recreated at a snapshot; a missing one is created", () => {
  expect(hinted("WAL_SLOT_INVALIDATED", { slot: "s1" }, "s1").message).toBe(
    "the feed's error; next: lora-wal slots /w drop s1; lora-wal slots /w create s1 --at <LSN of a new snapshot>",
  );
  expect(hinted("WAL_SLOT_INVALIDATED", { oldestRetainedLsn: 1 }).message).toBe(
    "the feed's error; next: lora-wal slots /w drop <name>; lora-wal slots /w create <name> --at <LSN of a snapshot taken at LSN 0 or later>",
  );
  expect(hinted("WAL_SLOT_NOT_FOUND", { slot: "s1" }, "s1").message).toBe(
    "the feed's error; next: lora-wal slots /w create s1",
  );
});

it("other errors pass as they are", () => {
  const locked = new WalError("WAL_IO", "disk");
  expect(withHint(locked, "/w", "s1", LORA)).toBe(locked);
  const plain = new Error("plain");
  expect(withHint(plain, "/w", "s1", LORA)).toBe(plain);
});
