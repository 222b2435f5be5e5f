import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { acquireDirLock, lockDirectory } from "@lora/wal-lock";
import type { OpenMode, WalFileSystem } from "@lora/wal-segment";
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

  it("reports an open file's identity, its path's, so a follower through it tells its segment by identity", async () => {
    const fs = createReadOnlyFileSystem();
    const reader = await fs.open(file, "read");
    expect(await reader.identity?.()).toBe((await fs.stat(file))?.identity);
    expect(typeof (await fs.stat(file))?.identity).toBe("string");
    await reader.close();
  });
});

describe("createReadOnlyFileSystem's lock", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-read-only-fs-lock");
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("hands out no file system: nothing reachable from the view writes", async () => {
    const view = createReadOnlyFileSystem() as WalFileSystem & { readonly lockBase?: unknown };
    const lockBase = view.lockBase as Record<string, unknown> | undefined;
    // Every mutating call a file system has, tried through the lockBase wherever it has one.
    const file = join(tmp.path, "written.wal");
    await writeFile(join(tmp.path, "kept.wal"), "abc");
    const attempts: [string, unknown[]][] = [
      ["open", [file, "createExclusive"]],
      ["mkdirp", [join(tmp.path, "made")]],
      ["rename", [join(tmp.path, "kept.wal"), join(tmp.path, "moved.wal")]],
      ["unlink", [join(tmp.path, "kept.wal")]],
    ];
    for (const [name, args] of attempts) {
      const call = lockBase?.[name];
      if (typeof call === "function") {
        try {
          const opened: unknown = await (call as (...a: unknown[]) => Promise<unknown>).apply(lockBase, args);
          await (opened as { close?: () => Promise<void> } | undefined)?.close?.();
        } catch {
          // refused: what the view promises
        }
      }
    }
    expect(await readdir(tmp.path)).toEqual(["kept.wal"]);
    expect(
      Object.values(lockBase ?? {}).filter((v) => typeof v === "function" || (typeof v === "object" && v !== null)),
    ).toEqual([]);
  });

  it("locks as Node's file system does: the kernel lock, which another holder is refused", async () => {
    const held = await lockDirectory(createReadOnlyFileSystem(), tmp.path, 0, { checkIntervalMs: 0 });
    try {
      await expect(acquireDirLock(tmp.path, { retryBudgetMs: 0 })).rejects.toMatchObject({ code: "WAL_LOCKED" });
    } finally {
      await held.release();
    }
  });
});
