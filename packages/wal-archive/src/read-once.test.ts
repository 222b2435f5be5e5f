/**
 * The archive's entry points read each option once and use what they read: options whose every property answers
 * validly the first time and throws after (`readOnce`) are accepted, and nothing is read twice. Read twice, the
 * second read's error escaped uncoded.
 */

import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { makeTempDir, readOnce } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { fsArchive } from "./fs-archive.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { s3Archive } from "./s3-archive.js";
import { listArchive, verifyArchive } from "./verify-archive.js";

let tmp: { path: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("archive-read-once");
});
afterEach(async () => {
  await tmp.cleanup();
});

describe("the archive's entry points read each option once", () => {
  it("archive, verify, list and restore with options whose properties throw on their second read", async () => {
    const dir = join(tmp.path, "log");
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    await wal.commitTx([{ n: 1 }]);
    const store = memoryArchive(readOnce({ name: "m" }).value);
    const retry = readOnce({ initialMs: 1, maxMs: 10, failingAfter: 3 });
    const options = readOnce({ store, slot: "a", intervalMs: 1000, callTimeoutMs: 1000, retry: retry.value });
    const archiver = startArchiver(wal, options.value);
    const stop = readOnce({ flush: true });
    await archiver.stop(stop.value);
    expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
    await wal.close();
    const signal = new AbortController().signal;
    const verify = readOnce({ signal, onProgress: () => {} });
    expect((await verifyArchive(store, verify.value)).problems).toEqual([]);
    const list = readOnce({ signal });
    expect(await listArchive(store, list.value)).toHaveLength(1);
    const target = join(tmp.path, "restored");
    const restoreOptions = readOnce({ store, dir: target, toLsn: 3, onProgress: () => {}, signal });
    expect((await restore(restoreOptions.value)).segments).toBe(1);
    for (const given of [options, retry, stop, verify, list, restoreOptions]) expect(given.readTwice()).toEqual([]);
  });

  it("a store's calls, fsArchive and s3Archive", async () => {
    const fsOptions = readOnce({});
    const store = fsArchive(join(tmp.path, "store"), fsOptions.value);
    const put = readOnce({ crc32: 0xa505df1b });
    await store.put("k", new Uint8Array([1]), put.value);
    const get = readOnce({ signal: new AbortController().signal });
    expect(await store.get("k", get.value)).toEqual(new Uint8Array([1]));
    const memory = memoryArchive();
    const memoryPut = readOnce({ crc32: 0xa505df1b });
    await memory.put("k", new Uint8Array([1]), memoryPut.value);
    const client = { send: () => Promise.reject(new Error("not called")) } as unknown as S3Client;
    const s3 = readOnce({ client, bucket: "b", prefix: "p", partSizeBytes: 5 * 1024 * 1024, checkBeforePut: true });
    expect(s3Archive(s3.value).name).toBe("s3://b/p");
    for (const given of [fsOptions, put, get, memoryPut, s3]) expect(given.readTwice()).toEqual([]);
  });
});
