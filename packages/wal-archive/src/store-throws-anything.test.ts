/**
 * A caller's archive store (or the S3 client given to `s3Archive`) may throw anything. The errors that wrap what it
 * threw printed it with `String()`, which throws a `TypeError` for a null-prototype object and rethrows a
 * `toString` that throws: the archiver then took a store call that failed once for a local failure (no retry, the
 * state `failing` at once, with the `TypeError` as cause), and `s3Archive`'s calls rejected with the `TypeError`.
 */

import { UNPRINTABLE_VALUES } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, describe, expect, it } from "vitest";
import { archiveKey } from "./archive-keys.js";
import type { ArchiveObjectInfo, ArchiveStore } from "./archive-store.js";
import { type Archiver, type ArchiverStatus, startArchiver } from "./archiver.js";
import { restore } from "./restore.js";
import { s3Archive } from "./s3-archive.js";
import { listArchive, verifyArchive } from "./verify-archive.js";

/** A store over a Map whose every call throws `thrown` while it is set. */
class ThrowingStore implements ArchiveStore {
  readonly name = "throwing";
  readonly objects = new Map<string, Uint8Array>();
  failing = false;
  constructor(readonly thrown: unknown) {}
  #gate(): void {
    if (this.failing) throw this.thrown;
  }
  async put(key: string, bytes: Uint8Array) {
    await Promise.resolve();
    this.#gate();
    this.objects.set(key, bytes.slice());
  }
  async get(key: string) {
    await Promise.resolve();
    this.#gate();
    return this.objects.get(key) ?? null;
  }
  async list(prefix = ""): Promise<ArchiveObjectInfo[]> {
    await Promise.resolve();
    this.#gate();
    return [...this.objects]
      .filter(([k]) => k.startsWith(prefix))
      .map(([key, b]) => ({ key, size: b.byteLength }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  }
  async delete(key: string) {
    await Promise.resolve();
    this.#gate();
    this.objects.delete(key);
  }
}

const archivers: Archiver[] = [];
afterEach(async () => {
  for (const a of archivers.splice(0)) await a.stop({ flush: false });
});

describe("what an archive store throws is wrapped with a code, whatever it is", () => {
  for (const [label, thrown] of UNPRINTABLE_VALUES) {
    it(`${label}: the archiver retries it as a store failure, then reports WAL_ARCHIVE_UNAVAILABLE with it as cause`, async () => {
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
      const store = new ThrowingStore(thrown);
      const states: ArchiverStatus["state"][] = [];
      const archiver = startArchiver(wal, {
        store,
        fs,
        intervalMs: 5,
        retry: { initialMs: 1, maxMs: 5, failingAfter: 3 },
        callTimeoutMs: 50,
        onStateChange: (s) => states.push(s.state),
      });
      archivers.push(archiver);
      await archiver.flush();
      store.failing = true;
      for (let i = 0; i < 10; i++) await wal.commitTx([{ i }]);
      const error = await archiver.flush().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: "WalError", code: "WAL_ARCHIVE_UNAVAILABLE" });
      expect((error as Error).cause).toBe(thrown);
      expect(states.slice(0, 2)).toEqual(["retrying", "failing"]);
      expect(archiver.status().failures).toBeGreaterThanOrEqual(3);
      store.failing = false;
      await archiver.flush();
      expect(archiver.status().state).toBe("running");
      expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
      await wal.close();
    });
  }

  it("s3Archive: a client that throws anything gives WAL_IO with it as cause", async () => {
    for (const [label, thrown] of UNPRINTABLE_VALUES) {
      const client = {
        send: async () => {
          await Promise.resolve();
          throw thrown;
        },
      };
      const store = s3Archive({ client: client as never, bucket: "b", prefix: "p" });
      for (const call of [() => store.get("k"), () => store.list(""), () => store.put("k", new Uint8Array(1))]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, label).toMatchObject({ name: "WalError", code: "WAL_IO" });
        expect((error as Error).cause, label).toBe(thrown);
      }
    }
  });

  it("listArchive, verifyArchive and restore give WAL_IO with what the store threw as cause; an abort passes through", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    const values: (readonly [string, unknown])[] = [["an Error", new Error("store down")], ...UNPRINTABLE_VALUES];
    for (const [label, thrown] of values) {
      const store = new ThrowingStore(thrown);
      const archiver = startArchiver(wal, { store, fs, intervalMs: 5 });
      for (let i = 0; i < 6; i++) await wal.commitTx([{ label, i }]);
      await archiver.stop();
      store.failing = true;
      for (const call of [
        () => listArchive(store),
        () => verifyArchive(store),
        () => restore({ store, dir: "/r", fs }),
      ]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, label).toMatchObject({ name: "WalError", code: "WAL_IO" });
        expect((error as Error).cause, label).toBe(thrown);
      }
      // Listing works, every get fails: verifyArchive reports each segment as a WAL_IO problem, not a throw.
      store.failing = false;
      const listed = await listArchive(store);
      const getsFail: ArchiveStore = {
        name: store.name,
        put: (k, b) => store.put(k, b),
        delete: (k) => store.delete(k),
        list: (p) => store.list(p),
        get: () => Promise.reject(thrown),
      };
      const report = await verifyArchive(getsFail);
      expect(report.problems.length, label).toBe(listed.length);
      expect(new Set(report.problems.map((p) => p.code)), label).toEqual(new Set(["WAL_IO"]));
      expect(await fs.stat("/r"), label).toBeNull();
    }
    // A WalError of another copy of @lora/wal-codec (the store's own dependency): branded, not an instance of ours.
    const foreign = Object.assign(new Error("foreign store down"), {
      name: "WalError",
      code: "WAL_IO",
      details: {},
      [Symbol.for("@lora/wal.error")]: true,
    });
    const foreignGets: ArchiveStore = {
      name: "foreign",
      put: () => Promise.resolve(),
      delete: () => Promise.resolve(),
      list: (p) => Promise.resolve(p === "segments/" ? [{ key: archiveKeyOf(1), size: 4096 }] : []),
      get: () => Promise.reject(foreign),
    };
    const foreignReport = await verifyArchive(foreignGets);
    expect(foreignReport.problems).toEqual([{ key: "", code: "WAL_IO", message: "foreign store down" }]);
    const aborted = new AbortController();
    const reason = new Error("stop");
    aborted.abort(reason);
    const slow: ArchiveStore = {
      name: "aborting",
      put: () => Promise.resolve(),
      get: () => Promise.resolve(null),
      delete: () => Promise.resolve(),
      list: () => Promise.reject(reason),
    };
    await expect(listArchive(slow, { signal: aborted.signal })).rejects.toBe(reason);
    await wal.close();
  });
});

/** The key of a sealed segment `id` of 4 KiB at base LSN 1. */
function archiveKeyOf(id: number): string {
  return archiveKey({ kind: "segment", id, baseLsn: 1, size: 4096, crc32: 0 });
}
