/**
 * What a store threw that is not a `WalError` becomes `WAL_IO` in three places: `listArchive`/`verifyArchive`/
 * `restore`, the archiver's store calls and `s3Archive`'s calls to its client. One function builds that error; each
 * place keeps its own rules for what passes through (a `WalError`, an abort) and for retrying. These tests pin the
 * message, `cause` and `details` each place gives.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec, WalError } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import type { ArchiveStore } from "./archive-store.js";
import { type ArchiverStatus, startArchiver } from "./archiver.js";
import { s3Archive } from "./s3-archive.js";
import { storeIoError } from "./store-io-error.js";
import { listArchive } from "./verify-archive.js";

const down = new Error("store down");

/** A store whose every call rejects with `thrown`. */
function failingStore(thrown: unknown): ArchiveStore {
  return {
    name: "failing",
    put: () => Promise.reject(thrown),
    get: () => Promise.reject(thrown),
    delete: () => Promise.reject(thrown),
    list: () => Promise.reject(thrown),
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describe("storeIoError", () => {
  it("builds WAL_IO naming the call and the object, the thrown value as cause, shown with shownError", () => {
    const error = storeIoError("archive store s", "get", "segments/x", down);
    expect(error).toBeInstanceOf(WalError);
    expect(error.code).toBe("WAL_IO");
    expect(error.message).toBe("archive store s: get segments/x failed: store down");
    expect(error.cause).toBe(down);
    expect(error.details).toEqual({ object: "segments/x" });
  });

  it("without an object: no details.object, the message names the call only; a description given is used", () => {
    const thrown = Object.create(null) as object;
    const error = storeIoError("archive store s", "put", undefined, thrown);
    expect(error.message).toMatch(/^archive store s: put failed: /);
    expect(error.cause).toBe(thrown);
    expect(error.details).toEqual({});
    expect(storeIoError("s3://b/p", "list", "", down, "Error (HTTP 500): x").message).toBe(
      "s3://b/p: list failed: Error (HTTP 500): x",
    );
  });
});

describe("the three places that wrap a store's failure as WAL_IO", () => {
  it("listArchive: the store's name, the prefix as details.object; a WalError and an abort pass through", async () => {
    const error = await rejection(listArchive(failingStore(down)));
    expect(error).toMatchObject({
      code: "WAL_IO",
      message: "archive store failing: list partial/ failed: store down",
      details: { object: "partial/" },
    });
    expect((error as Error).cause).toBe(down);
    const own = new WalError("WAL_IO", "own");
    expect(await rejection(listArchive(failingStore(own)))).toBe(own);
    const controller = new AbortController();
    const reason = new Error("stop");
    controller.abort(reason);
    expect(await rejection(listArchive(failingStore(reason), { signal: controller.signal }))).toBe(reason);
  });

  it("the archiver: the store's name and the call, no details, retried; a WalError is kept as it is", async () => {
    for (const [thrown, expected] of [
      [down, { code: "WAL_IO", message: "archive store failing: list failed: store down", details: {} }],
      [new WalError("WAL_IO", "own", { details: { object: "o" } }), { message: "own", details: { object: "o" } }],
    ] as const) {
      const fs = new SimFS();
      const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
      const seen: ArchiverStatus[] = [];
      const archiver = startArchiver(wal, {
        store: failingStore(thrown),
        fs,
        intervalMs: 5,
        retry: { initialMs: 1, maxMs: 2, failingAfter: 3 },
        onStateChange: (s) => seen.push(s),
      });
      await rejection(archiver.flush());
      await archiver.stop({ flush: false });
      await wal.close();
      const retrying = seen.find((s) => s.state === "retrying");
      expect(retrying?.lastError).toMatchObject(expected);
      if (thrown === down) expect(retrying?.lastError?.cause).toBe(down);
      else expect(retrying?.lastError).toBe(thrown);
    }
  });

  it("s3Archive: its name, the key as details.object, the SDK error described; a WalError passes through", async () => {
    const sdk = Object.assign(new Error("slow down"), { name: "SlowDown", $metadata: { httpStatusCode: 503 } });
    const own = new WalError("WAL_IO", "own");
    for (const [thrown, expected] of [
      [sdk, "s3://b/p: get k failed: SlowDown (HTTP 503): slow down"],
      [own, "own"],
    ] as const) {
      const client = { send: () => Promise.reject(thrown) };
      const store = s3Archive({ client: client as never, bucket: "b", prefix: "p" });
      const error = await rejection(store.get("k"));
      if (thrown === own) {
        expect(error).toBe(own);
        continue;
      }
      expect(error).toMatchObject({ code: "WAL_IO", message: expected, details: { object: "k" } });
      expect((error as Error).cause).toBe(sdk);
    }
  });
});

describe("storeIoError with the seam's details", () => {
  it("keeps where the seam's call failed, under the object", () => {
    const seam = { path: "/a/segments/x", syscall: "open", errno: "EACCES" } as const;
    const error = storeIoError("fs:/a", "get", "segments/x", new Error("EACCES"), "open failed", seam);
    expect(error.details).toEqual({ ...seam, object: "segments/x" });
    expect(error.message).toBe("fs:/a: get segments/x failed: open failed");
    expect(storeIoError("fs:/a", "list", undefined, new Error("x"), "x", seam).details).toEqual(seam);
  });
});
