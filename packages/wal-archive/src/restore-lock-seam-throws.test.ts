/**
 * `restore` through a file-system view whose `lockBase` throws when read is refused with `WAL_INVALID_OPTION`
 * before the store is called or anything is created; the getter's error escaped from the middle of the restore.
 */

import type { WalFileSystem } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";

it("refuses a view whose lockBase throws when read with WAL_INVALID_OPTION, calling and creating nothing", async () => {
  const sim = SimFS.withDir("/w");
  const thrown = new Error("no lockBase");
  const view: Record<string, unknown> = { name: "view" };
  for (const key of Object.getOwnPropertyNames(SimFS.prototype)) {
    const method: unknown = (sim as unknown as Record<string, unknown>)[key];
    if (key !== "constructor" && key !== "tryLock" && typeof method === "function") view[key] = method.bind(sim);
  }
  Object.defineProperty(view, "lockBase", {
    get: () => {
      throw thrown;
    },
  });
  const store = memoryArchive();
  let error: unknown;
  try {
    await restore({ store, dir: "/w/restored", fs: view as unknown as WalFileSystem });
  } catch (e) {
    error = e;
  }
  expect(error).toMatchObject({ name: "WalError", code: "WAL_INVALID_OPTION" });
  expect((error as Error).cause).toBe(thrown);
  expect(store.calls.list + store.calls.get).toBe(0);
  expect(sim.listSync("/w")).toEqual([]);
});
