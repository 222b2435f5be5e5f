/**
 * Arguments and options of the archive's entry points that throw when read (a getter that throws, a proxy whose trap
 * throws, a revoked proxy) are refused with a `WalError` code, what was thrown as its `cause`, and nothing created,
 * stored or started. The trap's own error, or a `TypeError` for a revoked proxy, escaped instead.
 */

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { hostileValues, makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { type ArchivableWal, startArchiver } from "./archiver.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { s3Archive } from "./s3-archive.js";
import { ManualClock, withArchiverClock } from "./testing/index.js";
import { listArchive, verifyArchive } from "./verify-archive.js";

let tmp: { path: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("values-that-throw");
});
afterEach(async () => {
  await tmp.cleanup();
});

/** What `look(value)` throws, or `undefined` when it does not throw. */
function thrownBy(look: () => unknown): unknown {
  try {
    look();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** `error` is a `WalError` with `code` whose cause is what `expected` is: same class, same message. */
function expectRefusal(error: unknown, code: string, expected: unknown, label: string): void {
  expect(isWalError(error), `${label}: ${String(error)}`).toBe(true);
  expect((error as { code: string }).code, label).toBe(code);
  if (expected === undefined) return;
  const cause = (error as { cause?: unknown }).cause;
  expect(cause, label).toBeInstanceOf((expected as Error).constructor);
  expect((cause as Error).message, label).toBe((expected as Error).message);
}

async function rejection(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("not refused");
}

describe("restore", () => {
  it("refuses every signal that is not an AbortSignal, creating nothing and reading nothing", async () => {
    const store = memoryArchive();
    const dir = join(tmp.path, "restored");
    for (const [label, signal] of hostileValues()) {
      if (signal === undefined) continue;
      const error = await rejection(() => restore({ store, dir, signal: signal as AbortSignal }));
      expectRefusal(
        error,
        "WAL_INVALID_OPTION",
        thrownBy(() => signal instanceof AbortSignal),
        label,
      );
    }
    expect(await readdir(tmp.path)).toEqual([]);
    expect(store.calls).toEqual({ put: 0, get: 0, list: 0, delete: 0 });
  });
});

describe("verifyArchive, listArchive and the stores' calls", () => {
  it("refuse every signal that is not an AbortSignal, reading and storing nothing", async () => {
    const store = memoryArchive();
    for (const [label, signal] of hostileValues()) {
      if (signal === undefined) continue;
      const expected = thrownBy(() => signal instanceof AbortSignal);
      const options = { signal: signal as AbortSignal };
      expectRefusal(await rejection(() => verifyArchive(store, options)), "WAL_INVALID_OPTION", expected, label);
      expectRefusal(await rejection(() => listArchive(store, options)), "WAL_INVALID_OPTION", expected, label);
      const put = () => store.put("k", new Uint8Array([1]), options);
      expectRefusal(await rejection(put), "WAL_INVALID_ARGUMENT", expected, label);
    }
    // memoryArchive counts a refused call too: nothing stored is what shows it was refused first.
    expect(store.calls.get + store.calls.list).toBe(0);
    expect(await store.get("k")).toBeNull();
  });

  it("refuse call options that throw when looked at with WAL_INVALID_OPTION, storing nothing", async () => {
    const store = memoryArchive();
    for (const [label, options] of hostileValues(["signal", "crc32"])) {
      if (typeof options !== "object" || options === null) continue;
      const looks = [() => options instanceof AbortSignal, () => Object.keys(options)];
      const expected = looks.map(thrownBy).find((thrown) => thrown !== undefined);
      if (expected === undefined) continue;
      const put = () => store.put("k", new Uint8Array([1]), options as never);
      expectRefusal(await rejection(put), "WAL_INVALID_OPTION", expected, `put ${label}`);
      expectRefusal(await rejection(() => store.get("k", options as never)), "WAL_INVALID_OPTION", expected, label);
    }
    expect(await store.get("k")).toBeNull();
  });
});

describe("startArchiver", () => {
  it("refuses a wal or a store that throws when read, starting nothing and writing nothing", async () => {
    const dir = join(tmp.path, "log");
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    await wal.commitTx([{ n: 1 }]);
    const before = await readdir(dir);
    const clock = new ManualClock();
    const store = memoryArchive();
    /** What the check's first read of `value` (its `dir` or `put`) throws, when it is an object. */
    const firstRead = (value: unknown, name: string) =>
      typeof value === "object" && value !== null
        ? thrownBy(() => (value as Record<string, unknown>)[name])
        : undefined;
    for (const [label, value] of hostileValues()) {
      const badWal = () => startArchiver(value as ArchivableWal, withArchiverClock({ store }, clock));
      expectRefusal(thrownBy(badWal), "WAL_INVALID_ARGUMENT", firstRead(value, "dir"), `wal: ${label}`);
      const badStore = () => startArchiver(wal, withArchiverClock({ store: value as ArchiveStore }, clock));
      expectRefusal(thrownBy(badStore), "WAL_INVALID_OPTION", firstRead(value, "put"), `store: ${label}`);
    }
    expect(clock.pending).toBe(0);
    expect(store.calls).toEqual({ put: 0, get: 0, list: 0, delete: 0 });
    expect(await readdir(dir)).toEqual(before);
    // No refusal held the slot: an archiver starts on it and archives the log.
    const archiver = startArchiver(wal, { store });
    await archiver.stop();
    expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
    await wal.close();
  });
});

/** A client the check accepts; never called (an s3Archive made here is never used). */
const CLIENT = { send: () => Promise.reject(new Error("not called")) } as unknown as S3Client;

describe("s3Archive", () => {
  it("refuses options, a client and each option that throw when read, with WAL_INVALID_OPTION", () => {
    const names = ["client", "bucket", "prefix", "partSizeBytes", "listPageSize", "checkBeforePut"];
    for (const [label, value] of hostileValues([...names, "send"])) {
      const asOptions = thrownBy(() => s3Archive(value as never));
      expect(isWalError(asOptions), `options ${label}: ${String(asOptions)}`).toBe(true);
      expect((asOptions as { code?: unknown }).code, `options ${label}`).toBe("WAL_INVALID_OPTION");
      const asClient = thrownBy(() => s3Archive({ client: value as S3Client, bucket: "b" }));
      expect(isWalError(asClient), `client ${label}: ${String(asClient)}`).toBe(true);
      expect((asClient as { code?: unknown }).code, `client ${label}`).toBe("WAL_INVALID_OPTION");
      for (const name of names) {
        const options = Object.defineProperty({ client: CLIENT, bucket: "b" }, name, {
          enumerable: true,
          get: () => {
            throw new Error(`get ${name}`);
          },
        });
        const error = thrownBy(() => s3Archive(options));
        expectRefusal(error, "WAL_INVALID_OPTION", new Error(`get ${name}`), `${name} getter`);
      }
    }
  });
});

describe("restore, verifyArchive and listArchive given a store that throws when read", () => {
  it("refuse it with a code, the throw as the cause, creating nothing", async () => {
    const dir = join(tmp.path, "restored");
    for (const [label, value] of hostileValues(["get", "list", "put", "delete", "name"])) {
      const expected =
        typeof value === "object" && value !== null ? thrownBy(() => Reflect.get(value, "get")) : undefined;
      const store = value as ArchiveStore;
      expectRefusal(await rejection(() => restore({ store, dir })), "WAL_INVALID_OPTION", expected, `restore ${label}`);
      const verify = await rejection(() => verifyArchive(store));
      expectRefusal(verify, "WAL_INVALID_ARGUMENT", expected, `verifyArchive ${label}`);
      const list = await rejection(() => listArchive(store));
      expectRefusal(list, "WAL_INVALID_ARGUMENT", expected, `listArchive ${label}`);
    }
    expect(await readdir(tmp.path)).toEqual([]);
  });
});
