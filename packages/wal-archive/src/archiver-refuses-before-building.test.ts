/**
 * `startArchiver` refuses every bad option before it builds anything or calls the handle: the test clock (a value
 * under `Symbol.for("@lora/wal-archive.clock")`) and the `fs` seam are checked with the other options. The clock was
 * checked in the constructor after the handle's `dir()` had been called and the slot's writer built.
 */

import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type ArchivableWal, type ArchiverOptions, startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";

let tmp: { path: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("archiver-refuses-first");
});
afterEach(async () => {
  await tmp.cleanup();
});

/** Each file's name and SHA-256, in name order. */
async function fingerprint(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    parts.push(
      `${name}:${createHash("sha256")
        .update(await readFile(join(dir, name)))
        .digest("hex")}`,
    );
  }
  return parts.join("\n");
}

/** `wal` as an archivable handle that records each of its methods the archiver calls. */
function counted(wal: ArchivableWal, calls: string[]): ArchivableWal {
  const noted =
    <A extends unknown[], R>(name: string, call: (...args: A) => R) =>
    (...args: A): R => {
      calls.push(name);
      return call(...args);
    };
  return {
    dir: noted("dir", () => wal.dir()),
    fsyncedLsn: noted("fsyncedLsn", () => wal.fsyncedLsn()),
    onLifecycle: noted("onLifecycle", (listener: Parameters<ArchivableWal["onLifecycle"]>[0]) =>
      wal.onLifecycle(listener),
    ),
    retain: noted("retain", (name: string, lsn: () => number) => wal.retain?.(name, lsn) ?? (() => undefined)),
  };
}

it("a test clock that is not a clock is refused before the handle is called or anything is written", async () => {
  const dir = join(tmp.path, "log");
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
  await wal.commitTx([{ n: 1 }]);
  const before = await fingerprint(dir);
  const store = memoryArchive();
  const calls: string[] = [];
  const options = { store, [Symbol.for("@lora/wal-archive.clock")]: { now: () => 0 } } as ArchiverOptions;
  let error: unknown;
  try {
    startArchiver(counted(wal, calls), options);
  } catch (e) {
    error = e;
  }
  expect(isWalError(error, "WAL_INVALID_OPTION"), String(error)).toBe(true);
  expect((error as Error).message).toContain("test clock");
  expect(calls).toEqual([]);
  expect(store.calls.put + store.calls.list + store.calls.get).toBe(0);
  expect(await fingerprint(dir)).toBe(before);
  // No hold or slot of the refused start is left on the handle: the same slot starts afterwards.
  const archiver = startArchiver(wal, { store });
  await archiver.stop();
  expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
  await wal.close();
});
