/**
 * An option or argument with no printable form is refused with the documented code like any other bad value, and
 * nothing is created, stored or sent. The refusals printed it with `String()` or a template literal (a `TypeError`
 * for a null-prototype object or a symbol; a throwing `toString` escaped) or `JSON.stringify` (a `TypeError` for a
 * bigint or a cycle), so the caller got an uncoded error instead.
 */

import { expectEachRefused as expectRefused } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { type ArchiveKey, archiveKey } from "./archive-keys.js";
import { startArchiver } from "./archiver.js";
import { fsArchive } from "./fs-archive.js";
import { type MemoryFaultSpec, memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { s3Archive } from "./s3-archive.js";

/** Enough of a handle for `startArchiver`'s checks; it is never used, as every call here is refused. */
const handle = { dir: () => "/w", fsyncedLsn: () => 0, onLifecycle: () => () => undefined };

describe("unprintable values are refused with their code", () => {
  it("restore: dir, toLsn and fromLsn, creating nothing", async () => {
    const fs = SimFS.withDir("/r");
    const store = memoryArchive();
    await expectRefused("WAL_INVALID_OPTION", (dir) => restore({ store, dir: dir as string, fs }));
    for (const option of ["toLsn", "fromLsn"]) {
      await expectRefused("WAL_INVALID_OPTION", (v) => restore({ store, dir: "/r/new", fs, [option]: v }));
    }
    expect(fs.listSync("/r")).toEqual([]);
    expect(store.calls).toEqual({ put: 0, get: 0, list: 0, delete: 0 });
  });

  it("fsArchive: its directory", async () => {
    const fs = SimFS.withDir("/a");
    await expectRefused("WAL_INVALID_ARGUMENT", (dir) => fsArchive(dir as string, { fs }));
    expect(fs.listSync("/a")).toEqual([]);
  });

  it("s3Archive: its prefix; put: its crc32, before anything is sent", async () => {
    const sent: unknown[] = [];
    const client = {
      send: (command: unknown) => {
        sent.push(command);
        return Promise.resolve({});
      },
    };
    await expectRefused("WAL_INVALID_OPTION", (prefix) => s3Archive({ client, bucket: "b", prefix } as never));
    const store = s3Archive({ client, bucket: "b" } as never);
    await expectRefused("WAL_INVALID_ARGUMENT", (crc32) =>
      store.put("k", new Uint8Array([1]), { crc32: crc32 as number }),
    );
    expect(sent).toEqual([]);
  });

  it("the stores' keys", async () => {
    const fs = SimFS.withDir("/a");
    for (const store of [fsArchive("/a", { fs }), memoryArchive()]) {
      await expectRefused("WAL_INVALID_ARGUMENT", (key) => store.put(key as string, new Uint8Array([1])));
      await expectRefused("WAL_INVALID_ARGUMENT", (key) => store.get(key as string));
    }
    expect(fs.listSync("/a")).toEqual([]);
  });

  it("archiveKey: its kind and fields", async () => {
    await expectRefused("WAL_INVALID_ARGUMENT", (kind) => archiveKey({ kind } as unknown as ArchiveKey));
    await expectRefused("WAL_INVALID_ARGUMENT", (v) =>
      archiveKey({ kind: "segment", segmentId: v, baseLsn: 1, crc32: 0 } as unknown as ArchiveKey),
    );
  });

  it("memoryArchive: a fault spec", async () => {
    const store = memoryArchive();
    await expectRefused("WAL_INVALID_ARGUMENT", (times) =>
      store.injectFault({ op: "put", times } as unknown as MemoryFaultSpec),
    );
  });

  it("startArchiver: its timings and counts, starting nothing", async () => {
    const store = memoryArchive();
    for (const option of ["intervalMs", "callTimeoutMs"]) {
      await expectRefused("WAL_INVALID_OPTION", (v) => startArchiver(handle, { store, [option]: v }));
    }
    for (const option of ["initialMs", "maxMs", "failingAfter"]) {
      await expectRefused("WAL_INVALID_OPTION", (v) => startArchiver(handle, { store, retry: { [option]: v } }));
    }
    expect(store.calls).toEqual({ put: 0, get: 0, list: 0, delete: 0 });
  });

  it("archiver.stop: its flush, and the archiver still runs", async () => {
    const fs = SimFS.withDir("/w");
    const { wal } = await Wal.open<JsonValue>("/w", { fs, codec: jsonCodec });
    const archiver = startArchiver(wal, { store: memoryArchive(), fs });
    await expectRefused("WAL_INVALID_OPTION", (flush) => archiver.stop({ flush: flush as boolean }));
    expect(archiver.status().state).not.toBe("stopped");
    await archiver.stop();
    await wal.close();
  });
});
