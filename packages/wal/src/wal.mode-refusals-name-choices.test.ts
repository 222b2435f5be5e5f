/**
 * An unknown sync mode or recovery mode is refused with the values that work, so the message says what to write
 * instead (`"always"` → the three sync modes; `"tolerate"` → `"tolerate-torn-tail"`), and nothing is created.
 */

import { stat } from "node:fs/promises";
import { join } from "node:path";
import { jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../test/support.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();

describe("an unknown mode is refused with the modes that exist", () => {
  it("names every sync mode, the object form included", async () => {
    const dir = join(await tempDir(), "wal");
    for (const syncMode of ["always", { mode: "grop", intervalMs: 5 }]) {
      const refusal = Wal.open(dir, { codec: jsonCodec, syncMode: syncMode as never });
      await expect(refusal).rejects.toMatchObject({
        code: "WAL_INVALID_OPTION",
        message: expect.stringMatching(/"perCommit".*"group".*"none".*\{ mode \}.*intervalMs for "group"/),
        details: { option: "syncMode" },
      });
    }
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("an interval out of range names the option too", async () => {
    const dir = join(await tempDir(), "wal");
    await expect(Wal.open(dir, { codec: jsonCodec, syncMode: { mode: "group", intervalMs: 0 } })).rejects.toMatchObject(
      { code: "WAL_INVALID_OPTION", details: { option: "syncMode" } },
    );
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("names every recovery mode", async () => {
    const dir = join(await tempDir(), "wal");
    await expect(Wal.open(dir, { codec: jsonCodec, recovery: "tolerate" as never })).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
      message: expect.stringContaining('"tolerate-torn-tail", "absolute" or "point-in-time"'),
      details: { option: "recovery" },
    });
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
