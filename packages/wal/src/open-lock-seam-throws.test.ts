/**
 * `Wal.open` through a file-system view whose `lockBase` throws when read is refused with `WAL_INVALID_OPTION` before
 * the directory is created. The lock was looked at after the directory was made, and its getter's error escaped.
 */

import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

/** A view over `sim` (its methods bound to it) whose `lockBase` throws `thrown` when read. */
function viewWithThrowingLockBase(sim: SimFS, thrown: Error): WalFileSystem {
  const view: Record<string, unknown> = { name: "view" };
  for (const key of Object.getOwnPropertyNames(SimFS.prototype)) {
    const method: unknown = (sim as unknown as Record<string, unknown>)[key];
    if (key !== "constructor" && key !== "tryLock" && typeof method === "function") view[key] = method.bind(sim);
  }
  return Object.defineProperty(view, "lockBase", {
    get: () => {
      throw thrown;
    },
  }) as unknown as WalFileSystem;
}

it("refuses a view whose lockBase throws when read with WAL_INVALID_OPTION, creating no directory", async () => {
  const sim = SimFS.withDir("/w");
  const thrown = new Error("no lockBase");
  let error: unknown;
  try {
    await Wal.open("/w/new", { fs: viewWithThrowingLockBase(sim, thrown) });
  } catch (e) {
    error = e;
  }
  expect(error).toMatchObject({
    name: "WalError",
    code: "WAL_INVALID_OPTION",
    message: "fs: reading lockBase threw: no lockBase",
  });
  expect((error as Error).cause).toBe(thrown);
  expect(sim.listSync("/w")).toEqual([]);
});
