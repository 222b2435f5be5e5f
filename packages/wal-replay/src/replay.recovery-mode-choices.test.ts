/**
 * An unknown recovery mode is refused by the readers at once with the modes that exist, so the message says what to
 * write instead (`"tolerate"` → `"tolerate-torn-tail"`).
 */

import { jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { replayDir, replaySegments } from "./replay.js";

describe("an unknown recovery mode", () => {
  it("is refused by replayDir and replaySegments naming every recovery mode", () => {
    const fs = SimFS.withDir("/w");
    const refused = expect.objectContaining({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining('"tolerate-torn-tail", "absolute" or "point-in-time"'),
      details: { option: "recovery" },
    });
    expect(() => replayDir("/w", { fs, codec: jsonCodec, recovery: "tolerate" as never })).toThrow(refused);
    expect(() => replaySegments(["/w/1.wal"], { fs, codec: jsonCodec, recovery: "strict" as never })).toThrow(refused);
  });
});
