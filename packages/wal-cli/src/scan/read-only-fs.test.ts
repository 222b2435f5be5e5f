import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import type { OpenMode } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createReadOnlyFileSystem } from "./read-only-fs.js";

/** Resolves with the `WalError` code `run` rejects with, or "resolved". */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "resolved";
  } catch (error) {
    return isWalError(error) ? `${error.code} ${String(error.details.errno)}` : String(error);
  }
}

describe("createReadOnlyFileSystem without grants", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let file: string;
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-read-only-fs");
    file = join(tmp.path, "00000000000000000001.wal");
    await writeFile(file, "abc");
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("refuses every open but a read one (WAL_IO, EROFS), creating and changing nothing", async () => {
    const fs = createReadOnlyFileSystem();
    const absent = join(tmp.path, "00000000000000000002.wal");
    const modes: OpenMode[] = ["readWrite", "openOrCreate", "createExclusive"];
    for (const mode of modes) {
      expect(await outcome(() => fs.open(file, mode)), mode).toBe("WAL_IO EROFS");
      expect(await outcome(() => fs.open(absent, mode)), mode).toBe("WAL_IO EROFS");
    }
    const reader = await fs.open(file, "read");
    expect(await outcome(() => reader.write(Buffer.from("x"), 0))).toBe("WAL_IO EROFS");
    expect(await outcome(() => reader.truncate(0))).toBe("WAL_IO EROFS");
    await reader.close();
    expect((await readdir(tmp.path)).sort()).toEqual(["00000000000000000001.wal"]);
    expect(await readFile(file, "utf8")).toBe("abc");
  });

  it("refuses unlink and rename, leaving the file where it was", async () => {
    const fs = createReadOnlyFileSystem();
    expect(await outcome(() => fs.unlink(file))).toBe("WAL_IO EROFS");
    expect(await outcome(() => fs.rename(file, join(tmp.path, "moved.wal")))).toBe("WAL_IO EROFS");
    expect((await readdir(tmp.path)).sort()).toEqual(["00000000000000000001.wal"]);
    expect(await readFile(file, "utf8")).toBe("abc");
  });
});
