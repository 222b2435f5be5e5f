/**
 * A caller's mistake at the lock's entry points is refused with a code, before anything is created, as at every
 * other entry point of the log (`checkPath`, `checkOptionNames`): a directory that is not a non-empty string without
 * NUL bytes is `WAL_INVALID_ARGUMENT`; options that are not an object, or name an option the call does not know, are
 * `WAL_INVALID_OPTION`. Before, a number or `undefined` as the directory was Node's `ERR_INVALID_ARG_TYPE`, `null`
 * options a `TypeError` from reading a property, a misspelled option (`{ retryBudget: 0 }`) was ignored without a
 * word, and the registry lock took `42` as a directory.
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeFileSystem, type WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejection } from "../test/support.js";
import { acquireDirLock, probeDirLock } from "./dir-lock.js";
import { lockDirectory, probeDirectoryLock } from "./handle-lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-arguments-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const BAD_DIRS: readonly [string, unknown][] = [
  ["a number", 42],
  ["undefined", undefined],
  ["null", null],
  ["the empty string", ""],
  ["a NUL byte", "a\0b"],
];

/** Every kind of lock: the kernel's, a self-locking file system's, the in-process registry's. */
function fileSystems(): [string, WalFileSystem][] {
  return [
    ["node", createNodeFileSystem()],
    ["sim", new SimFS()],
    ["registry", { ...createNodeFileSystem(), name: "plain" }],
  ];
}

describe("a directory that is not a non-empty string without NUL bytes is WAL_INVALID_ARGUMENT", () => {
  it("at acquireDirLock and probeDirLock", async () => {
    for (const [label, bad] of BAD_DIRS) {
      expect(await rejection(() => acquireDirLock(bad as string)), label).toMatchObject({
        name: "WalError",
        code: "WAL_INVALID_ARGUMENT",
      });
      expect(await rejection(() => probeDirLock(bad as string)), label).toMatchObject({
        name: "WalError",
        code: "WAL_INVALID_ARGUMENT",
      });
    }
  });

  it("at lockDirectory and probeDirectoryLock, for every kind of lock", async () => {
    for (const [kind, fs] of fileSystems()) {
      for (const [label, bad] of BAD_DIRS) {
        const what = `${kind}: ${label}`;
        expect(await rejection(() => lockDirectory(fs, bad as string)), what).toMatchObject({
          code: "WAL_INVALID_ARGUMENT",
        });
        expect(await rejection(() => probeDirectoryLock(fs, bad as string)), what).toMatchObject({
          code: "WAL_INVALID_ARGUMENT",
        });
      }
      // Refused, not held: the registry must not have taken `42` as a directory it now holds.
      const held = await lockDirectory(fs, kind === "sim" ? "/" : dir, 0, { checkIntervalMs: 0 });
      await held.release();
    }
  });
});

describe("options that are not an object, or name an unknown option, are WAL_INVALID_OPTION", () => {
  it("at acquireDirLock, creating nothing", async () => {
    for (const bad of [null, 5, "fast"]) {
      expect(await rejection(() => acquireDirLock(dir, bad as never)), String(bad)).toMatchObject({
        code: "WAL_INVALID_OPTION",
      });
    }
    const misspelled = await rejection(() => acquireDirLock(dir, { retryBudget: 0 } as never));
    expect(misspelled).toMatchObject({ code: "WAL_INVALID_OPTION", details: { option: "retryBudget" } });
    expect((misspelled as Error).message).toContain('did you mean "retryBudgetMs"');
    // The internal options are not the public call's either.
    expect(await rejection(() => acquireDirLock(dir, { checkIntervalMs: 0 } as never))).toMatchObject({
      code: "WAL_INVALID_OPTION",
      details: { option: "checkIntervalMs" },
    });
    const throwing = {
      get retryBudgetMs(): number {
        throw new Error("getter");
      },
    };
    expect(await rejection(() => acquireDirLock(dir, throwing))).toMatchObject({ code: "WAL_INVALID_OPTION" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("at lockDirectory, for every kind of lock, creating nothing", async () => {
    for (const [kind, fs] of fileSystems()) {
      const target = kind === "sim" ? "/" : dir;
      for (const bad of [null, 5]) {
        expect(await rejection(() => lockDirectory(fs, target, 0, bad as never)), `${kind}: ${bad}`).toMatchObject({
          code: "WAL_INVALID_OPTION",
        });
      }
      expect(await rejection(() => lockDirectory(fs, target, 0, { checkInterval: 0 } as never)), kind).toMatchObject({
        code: "WAL_INVALID_OPTION",
        details: { option: "checkInterval" },
      });
      // The budget is checked for every kind of lock, not only the kernel's that retries.
      for (const bad of [-1, Number.NaN, "5"]) {
        expect(await rejection(() => lockDirectory(fs, target, bad as number)), `${kind}: ${bad}`).toMatchObject({
          code: "WAL_INVALID_OPTION",
        });
      }
      // Nothing held after the refusals.
      const held = await lockDirectory(fs, target, 0, { checkIntervalMs: 0 });
      await held.release();
    }
    expect(await readdir(dir)).toEqual([".lora-wal.lock"]);
  });
});
