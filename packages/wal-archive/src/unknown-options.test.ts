/**
 * Every archive entry point refuses an option name it does not know with `WAL_INVALID_OPTION`, at once, naming the
 * call: a misspelled option is never ignored (`{ intervalMS: 10 }` would have archived every second).
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { fsArchive } from "./fs-archive.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { s3Archive } from "./s3-archive.js";
import { listArchive, verifyArchive } from "./verify-archive.js";

function refusedBy(where: string, name: string) {
  return expect.objectContaining({
    code: "WAL_INVALID_OPTION",
    message: expect.stringContaining(`${where}: unknown option "${name}"`),
    details: expect.objectContaining({ option: name }),
  });
}

/** Enough of a handle for `startArchiver`'s checks; it is never used, as every call here is refused. */
const handle = { dir: () => "/w", fsyncedLsn: () => 0, onLifecycle: () => () => undefined };

describe("an unknown option", () => {
  it("is refused by startArchiver, in its options and in retry, with the option meant", () => {
    const store = memoryArchive();
    expect(() => startArchiver(handle, { store, intervalMS: 10 } as never)).toThrow(
      refusedBy("startArchiver", "intervalMS"),
    );
    expect(() => startArchiver(handle, { store, intervalMS: 10 } as never)).toThrow(/did you mean "intervalMs"/);
    expect(() => startArchiver(handle, { store, retry: { maxMS: 10 } } as never)).toThrow(
      refusedBy("startArchiver retry", "maxMS"),
    );
    expect(store.calls).toEqual({ put: 0, get: 0, list: 0, delete: 0 });
  });

  it("is refused by archiver.stop, which then has not stopped", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
    const archiver = startArchiver(wal, { store: memoryArchive(), fs });
    await expect(archiver.stop({ flsh: false } as never)).rejects.toThrow(refusedBy("archiver.stop", "flsh"));
    expect(archiver.status().state).not.toBe("stopped");
    await archiver.stop();
    expect(archiver.status().state).toBe("stopped");
    await wal.close();
  });

  it("is refused by restore before it creates the directory", async () => {
    const fs = SimFS.withDir("/r");
    await expect(restore({ store: memoryArchive(), dir: "/r/new", fs, toLSN: 5 } as never)).rejects.toThrow(
      refusedBy("restore", "toLSN"),
    );
    expect(fs.listSync("/r")).toEqual([]);
  });

  it("is refused by the stores' constructors", () => {
    expect(() => fsArchive("/a", { fs: SimFS.withDir("/a"), sync: true } as never)).toThrow(
      refusedBy("fsArchive", "sync"),
    );
    expect(() => memoryArchive({ fault: [] } as never)).toThrow(refusedBy("memoryArchive", "fault"));
    const client = { send: () => Promise.resolve({}) };
    expect(() => s3Archive({ client, bucket: "b", partSize: 5 } as never)).toThrow(refusedBy("s3Archive", "partSize"));
  });

  it("is refused by every call of the package's stores, before anything is stored, read or sent", async () => {
    const sent: unknown[] = [];
    const client = {
      send: (command: unknown) => {
        sent.push(command);
        return Promise.resolve({});
      },
    };
    const memory = memoryArchive();
    const fs = SimFS.withDir("/a");
    const stores = [fsArchive("/a", { fs }), memory, s3Archive({ client, bucket: "b" } as never)];
    const bytes = new Uint8Array([1, 2, 3]);
    for (const store of stores) {
      // `crc` for `crc32`: the bytes would have been stored unchecked.
      await expect(store.put("k", bytes, { crc: 5 } as never)).rejects.toThrow(refusedBy("put k", "crc"));
      await expect(store.put("k", bytes, { CRC32: 5 } as never)).rejects.toThrow(/did you mean "crc32"/);
      await expect(store.get("k", { signl: undefined } as never)).rejects.toThrow(refusedBy("get k", "signl"));
      await expect(store.list("k", { limit: 1 } as never)).rejects.toThrow(refusedBy("list k", "limit"));
      await expect(store.delete("k", { force: true } as never)).rejects.toThrow(refusedBy("delete k", "force"));
      // Options that are not an object, which failed as a TypeError when read, and a signal in their place, which
      // was ignored (it has no own keys).
      const notOptions = (where: string, got: string) =>
        expect.objectContaining({
          code: "WAL_INVALID_OPTION",
          message: expect.stringContaining(`${where}: options must be an object, got ${got}`),
        });
      const signal = AbortSignal.abort();
      for (const [options, got] of [
        [null, "null"],
        [5, "number"],
        [signal, "an AbortSignal"],
      ] as const) {
        await expect(store.put("k", bytes, options as never)).rejects.toThrow(notOptions("put k", got));
        await expect(store.get("k", options as never)).rejects.toThrow(notOptions("get k", got));
        await expect(store.list("k", options as never)).rejects.toThrow(notOptions("list k", got));
        await expect(store.delete("k", options as never)).rejects.toThrow(notOptions("delete k", got));
      }
      expect(await store.list()).toEqual([]);
    }
    expect(fs.listSync("/a")).toEqual([]);
    expect(sent.map((c) => (c as { constructor: { name: string } }).constructor.name)).toEqual([
      "ListObjectsV2Command",
    ]);
  });

  it("is refused by listArchive and verifyArchive before any store call", async () => {
    const store = memoryArchive();
    await expect(listArchive(store, { prefix: "x" } as never)).rejects.toThrow(refusedBy("listArchive", "prefix"));
    await expect(verifyArchive(store, { onprogress: () => undefined } as never)).rejects.toThrow(
      refusedBy("verifyArchive", "onprogress"),
    );
    expect(store.calls.list).toBe(0);
  });
});

describe("options that are not an object", () => {
  it("are refused alike by every archive entry point, the message naming the call and what it got", async () => {
    const store = memoryArchive();
    const entries: Record<string, (options: unknown) => unknown> = {
      startArchiver: (options) => startArchiver(handle, options as never),
      restore: (options) => restore(options as never),
      fsArchive: (options) => fsArchive("/a", options as never),
      memoryArchive: (options) => memoryArchive(options as never),
      s3Archive: (options) => s3Archive(options as never),
      verifyArchive: (options) => verifyArchive(store, options as never),
      listArchive: (options) => listArchive(store, options as never),
    };
    for (const [name, call] of Object.entries(entries)) {
      for (const [options, got] of [
        [null, "null"],
        [5, "number"],
        ["b", "string"],
        ...(name.endsWith("Archive") && name !== "s3Archive" ? [] : [[undefined, "undefined"] as const]),
      ] as const) {
        const refusal = expect.objectContaining({
          code: "WAL_INVALID_OPTION",
          message: `${name}: options must be an object, got ${got}`,
        });
        let result: unknown;
        try {
          result = await call(options);
        } catch (error) {
          result = error;
        }
        expect(result, `${name}(${got})`).toEqual(refusal);
      }
    }
    expect(store.calls).toEqual({ put: 0, get: 0, list: 0, delete: 0 });
  });
});
