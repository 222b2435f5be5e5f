/**
 * An archive directory that does not exist lists as empty (fsArchive creates it on its first put), so restore and
 * verifyArchive used to answer a mistyped path as an archive that holds nothing. They still answer
 * `WAL_ARCHIVE_MISSING` (nothing is archived there), but say the directory does not exist and name it.
 */

import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { isWalError, WalError } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fsArchive } from "./fs-archive.js";
import { restore } from "./restore.js";
import { verifyArchive } from "./verify-archive.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir("wal-archive-missing-dir");
});
afterEach(async () => {
  await tmp.cleanup();
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected the call to reject");
    },
    (error: unknown) => error,
  );
}

describe("an fsArchive whose directory does not exist", () => {
  it("restore says so, naming the directory, and writes nothing", async () => {
    const nope = join(tmp.path, "nope");
    const error = await failure(restore({ store: fsArchive(nope), dir: join(tmp.path, "r") }));
    expect(isWalError(error, "WAL_ARCHIVE_MISSING"), String(error)).toBe(true);
    expect((error as Error).message).toBe(`fs:${nope} holds no log segments: no such archive directory: ${nope}`);
    expect((error as { details: { path?: string; object?: string } }).details).toMatchObject({ path: nope });
    expect(await readdir(tmp.path)).toEqual([]);
  });

  it("verifyArchive reports it as its one problem", async () => {
    const nope = join(tmp.path, "nope");
    const report = await verifyArchive(fsArchive(nope));
    expect(report).toMatchObject({ segments: 0, pieces: 0, bytes: 0 });
    expect(report.problems).toEqual([
      {
        key: "",
        code: "WAL_ARCHIVE_MISSING",
        message: `fs:${nope} holds no log segments: no such archive directory: ${nope}`,
      },
    ]);
  });

  it("a look at the directory that fails is advice lost, not the answer: the plain one stands", async () => {
    const sim = new SimFS();
    const failingStat = new Proxy(sim, {
      get(target, prop, receiver) {
        if (prop === "stat") {
          return () => Promise.reject(new WalError("WAL_IO", "stat failed", { details: { errno: "EIO" } }));
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const report = await verifyArchive(fsArchive("/nope", { fs: failingStat }));
    expect(report.problems).toEqual([
      { key: "", code: "WAL_ARCHIVE_MISSING", message: "fs:/nope holds no log segments" },
    ]);
  });

  it("an empty directory that exists is an archive that holds nothing, as before", async () => {
    const empty = join(tmp.path, "empty");
    await mkdir(empty);
    const error = await failure(restore({ store: fsArchive(empty), dir: join(tmp.path, "r") }));
    expect(isWalError(error, "WAL_ARCHIVE_MISSING"), String(error)).toBe(true);
    expect((error as Error).message).toBe(`fs:${empty} holds no log segments`);
    expect((error as { details: { path?: string } }).details.path).toBeUndefined();
    expect((await verifyArchive(fsArchive(empty))).problems).toEqual([
      { key: "", code: "WAL_ARCHIVE_MISSING", message: `fs:${empty} holds no log segments` },
    ]);
  });
});
