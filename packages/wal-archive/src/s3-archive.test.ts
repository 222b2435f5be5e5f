import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { eventLoopTurnsDuring } from "@lora/test-utils";
import { type LocalS3, startLocalS3 } from "@lora/test-utils/local-s3";
import { crc32, isWalError, WalError } from "@lora/wal-codec";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type FaultyProxy, type ProxiedRequest, startFaultyProxy } from "../test/support/faulty-proxy.js";
import type { ArchiveStore } from "./archive-store.js";
import { CRC_SLICE_BYTES } from "./crc32-in-slices.js";
import { type S3ArchiveOptions, s3Archive } from "./s3-archive.js";
import { type ArchiveStoreFixture, runArchiveStoreConformance } from "./testing/archive-store-conformance.js";

const MiB = 1024 * 1024;

let s3: LocalS3;
let proxy: FaultyProxy;
/** Through the proxy, one attempt per call: a fault reaches the store instead of the SDK's retries. */
let viaProxy: S3Client;
/** A proxy that refuses writes over existing objects (`If-None-Match: *`) as S3 does, and a client through it. */
let enforcing: FaultyProxy;
let viaEnforcing: S3Client;

beforeAll(async () => {
  s3 = await startLocalS3();
  proxy = await startFaultyProxy(s3.endpoint);
  viaProxy = s3.createClient({ endpoint: proxy.endpoint, maxAttempts: 1 });
  enforcing = await startFaultyProxy(s3.endpoint, { enforceIfNoneMatch: true });
  viaEnforcing = s3.createClient({ endpoint: enforcing.endpoint, maxAttempts: 1 });
});

afterAll(async () => {
  await enforcing?.close();
  await proxy?.close();
  await s3?.stop();
});

beforeEach(() => proxy.reset());

let prefixes = 0;
/** A store under a prefix no other test uses. */
function store(options: Partial<S3ArchiveOptions> = {}): ArchiveStore {
  prefixes++;
  return s3Archive({ client: viaProxy, bucket: s3.bucket, prefix: `t${prefixes}/wal`, ...options });
}

/** A conformance fixture: the store (under a prefix no other test uses, so it starts empty), emptied afterwards. */
function fixture(st: ArchiveStore): Promise<ArchiveStoreFixture> {
  return Promise.resolve({
    store: st,
    async cleanup() {
      for (const { key } of await st.list()) await st.delete(key);
    },
  });
}

runArchiveStoreConformance({
  describe,
  test,
  expect,
  label: "s3Archive, the service enforcing If-None-Match",
  create: () => fixture(s3Archive({ client: viaEnforcing, bucket: s3.bucket, prefix: `conformance/${++prefixes}` })),
});

runArchiveStoreConformance({
  describe,
  test,
  expect,
  label: "s3Archive with checkBeforePut, on s3rver (which ignores If-None-Match)",
  create: () =>
    fixture(
      s3Archive({ client: s3.client, bucket: s3.bucket, prefix: `conformance/${++prefixes}`, checkBeforePut: true }),
    ),
});

function prefixOf(st: ArchiveStore): string {
  return st.name.slice(`s3://${s3.bucket}/`.length);
}

/** The object as the bucket holds it, read without the store. */
async function rawObject(key: string): Promise<Uint8Array> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return (await out.Body?.transformToByteArray()) ?? new Uint8Array(0);
}

/** The rejection of `p`, failing if it resolves. */
async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable("the call resolved"),
    (e: unknown) => e,
  );
}

async function walErrorOf(p: Promise<unknown>, code: WalError["code"]): Promise<WalError> {
  const e = await rejectionOf(p);
  if (!isWalError(e, code)) throw new Error(`expected ${code}, got ${String(e)}`, { cause: e });
  return e;
}

const base64Crc = (bytes: Uint8Array) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(bytes));
  return b.toString("base64");
};

const isPut = (r: { method: string; url: string }) => r.method === "PUT";
const isGet = (r: { method: string; url: string }) => r.method === "GET" && !r.url.includes("list-type");
const isList = (r: { method: string; url: string }) => r.method === "GET" && r.url.includes("list-type=2");
const isDelete = (r: { method: string; url: string }) => r.method === "DELETE";
const count = (pred: (r: ProxiedRequest) => boolean) => proxy.requests.filter(pred).length;

describe("s3Archive", () => {
  test("stores key k as the object <prefix>/k, and gets, lists and deletes it", async () => {
    const st = store();
    const bytes = randomBytes(10_000);
    await st.put("segments/a.wal", bytes, { crc32: crc32(bytes) });
    expect(Buffer.from(await rawObject(`${prefixOf(st)}/segments/a.wal`)).equals(bytes)).toBe(true);
    expect(Buffer.from((await st.get("segments/a.wal")) ?? []).equals(bytes)).toBe(true);
    expect(await st.list()).toEqual([{ key: "segments/a.wal", size: 10_000 }]);
    expect(await st.list("segments/")).toEqual([{ key: "segments/a.wal", size: 10_000 }]);
    expect(await st.list("partial/")).toEqual([]);
    await st.delete("segments/a.wal");
    expect(await st.get("segments/a.wal")).toBeNull();
    expect(await st.list()).toEqual([]);
    await st.delete("segments/a.wal");
  });

  test("puts an empty object, and objects without a crc32", async () => {
    const st = store();
    const plain = Buffer.from("no checksum given");
    await st.put("empty", new Uint8Array(0), { crc32: 0 });
    await st.put("plain", plain);
    expect(await st.get("empty")).toEqual(new Uint8Array(0));
    expect(Buffer.from((await st.get("plain")) ?? []).toString()).toBe("no checksum given");
    // Without crc32 the store sends no checksum of its own; one the SDK adds by default is the bytes' own.
    const plainPut = proxy.requests.filter(isPut).at(-1);
    expect([undefined, base64Crc(plain)]).toContain(plainPut?.headers["x-amz-checksum-crc32"]);
  });

  test("sends the CRC-32 as x-amz-checksum-crc32 (base64, big-endian) and If-None-Match: *", async () => {
    const st = store();
    const bytes = Buffer.from("the quick brown fox");
    await st.put("k", bytes, { crc32: crc32(bytes) });
    const [put] = proxy.requests.filter(isPut);
    expect(put?.headers["x-amz-checksum-crc32"]).toBe(base64Crc(bytes));
    expect(put?.headers["if-none-match"]).toBe("*");
  });

  test("refuses bytes that do not match crc32 with WAL_ARCHIVE_CORRUPT, before sending anything", async () => {
    const st = store();
    const bytes = Buffer.from("payload");
    const e = await walErrorOf(st.put("k", bytes, { crc32: (crc32(bytes) ^ 1) >>> 0 }), "WAL_ARCHIVE_CORRUPT");
    expect(e.details.object).toBe("k");
    expect(proxy.requests).toEqual([]);
    expect(await st.get("k")).toBeNull();
  });

  test("checks a large object's crc32 in slices, giving the event loop back between them", async () => {
    // A sealed segment is 8 MiB: checked in one call, it would hold the writer's event loop for milliseconds.
    const bytes = randomBytes(3 * CRC_SLICE_BYTES + 1);
    const { turns, rejected } = await eventLoopTurnsDuring(
      store().put("big", bytes, { crc32: (crc32(bytes) ^ 1) >>> 0 }),
    );
    expect(isWalError(rejected, "WAL_ARCHIVE_CORRUPT")).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(proxy.requests).toEqual([]);
  });

  test("get of a missing key is null; a missing bucket is WAL_IO", async () => {
    expect(await store().get("nothing/here")).toBeNull();
    const noBucket = s3Archive({ client: viaProxy, bucket: "no-such-bucket" });
    const e = await walErrorOf(noBucket.get("k"), "WAL_IO");
    expect(e.details.object).toBe("k");
    expect((e.cause as Error).name).toBe("NoSuchBucket");
    await walErrorOf(noBucket.put("k", new Uint8Array(1)), "WAL_IO");
    await walErrorOf(noBucket.list(), "WAL_IO");
  });

  test("list pages with ContinuationToken, strips the prefix, sorts, and skips other prefixes and foreign names", async () => {
    const st = store({ listPageSize: 7 });
    const prefix = prefixOf(st);
    const keys = Array.from({ length: 50 }, (_, i) => `segments/${String(i).padStart(4, "0")}.wal`);
    for (const key of [...keys].reverse()) await st.put(key, Buffer.from(key));
    // Beside it: a folder marker and a name that is not a store key under the prefix, a sibling prefix outside it.
    for (const key of [`${prefix}/`, `${prefix}/bad name`, `${prefix}2/segments/x.wal`, `${prefix}x`]) {
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: "x" }));
    }
    proxy.reset();
    const listed = await st.list();
    expect(listed).toEqual(keys.map((key) => ({ key, size: key.length })));
    // 52 objects under `<prefix>/`, 7 a page.
    expect(count(isList)).toBe(Math.ceil(52 / 7));
    expect(
      proxy.requests
        .filter(isList)
        .slice(1)
        .every((r) => r.url.includes("continuation-token=")),
    ).toBe(true);
    expect(await st.list("segments/001")).toEqual(keys.slice(10, 20).map((key) => ({ key, size: key.length })));
  });

  test("lists more than 1000 keys, the service's own page size", async () => {
    const st = store();
    const keys = Array.from({ length: 1001 }, (_, i) => `partial/${String(i).padStart(5, "0")}.part`);
    // Written around the proxy (s3rver takes ~5 ms a put whatever the client does; this saves the proxy's share).
    const direct = s3Archive({ client: s3.client, bucket: s3.bucket, prefix: prefixOf(st) });
    const queue = [...keys];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let key = queue.pop(); key !== undefined; key = queue.pop()) await direct.put(key, new Uint8Array(1));
      }),
    );
    const listed = await st.list("partial/");
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(count(isList)).toBe(2);
  });

  test("a put of an existing key with the same bytes succeeds when the service refuses it with 412", async () => {
    const st = store();
    const bytes = randomBytes(5000);
    await st.put("k", bytes, { crc32: crc32(bytes) });
    proxy.inject({ kind: "status", status: 412 }, { match: isPut });
    await st.put("k", bytes, { crc32: crc32(bytes) });
    expect(proxy.requests.map((r) => [r.method, r.fault])).toEqual([
      ["PUT", undefined],
      ["PUT", "status"],
      ["GET", undefined],
    ]);
  });

  test("a put of an existing key with other bytes is refused with WAL_INVALID_ARGUMENT; the object is unchanged", async () => {
    const st = store();
    const first = Buffer.from("first");
    const second = Buffer.from("other");
    await st.put("k", first, { crc32: crc32(first) });
    proxy.inject({ kind: "status", status: 412 }, { match: isPut });
    const e = await walErrorOf(st.put("k", second, { crc32: crc32(second) }), "WAL_INVALID_ARGUMENT");
    expect(e.details.object).toBe("k");
    expect(Buffer.from((await st.get("k")) ?? []).toString()).toBe("first");
  });

  test("a conditional-write conflict (409) settles against the object, or rejects with WAL_IO while there is none", async () => {
    const st = store();
    proxy.inject({ kind: "status", status: 409 }, { match: isPut });
    const e = await walErrorOf(st.put("k", Buffer.from("x")), "WAL_IO");
    expect((e.cause as Error).name).toBe("ConditionalRequestConflict");
    expect(await st.get("k")).toBeNull();
    await st.put("k", Buffer.from("x"));
    proxy.inject({ kind: "status", status: 409 }, { match: isPut });
    await st.put("k", Buffer.from("x"));
    proxy.inject({ kind: "status", status: 409 }, { match: isPut });
    await walErrorOf(st.put("k", Buffer.from("y")), "WAL_INVALID_ARGUMENT");
    expect(Buffer.from((await st.get("k")) ?? []).toString()).toBe("x");
  });

  test("a service that answers 501 to If-None-Match gets the upload again without it, and so do later puts", async () => {
    const st = store();
    proxy.inject({ kind: "status", status: 501 }, { match: (r) => isPut(r) });
    await st.put("a", Buffer.from("a"));
    await st.put("b", Buffer.from("b"));
    const puts = proxy.requests.filter(isPut);
    expect(puts.map((r) => [r.fault, r.headers["if-none-match"]])).toEqual([
      ["status", "*"],
      [undefined, undefined],
      [undefined, undefined],
    ]);
    expect(Buffer.from((await st.get("a")) ?? []).toString()).toBe("a");
  });

  test("on a service that ignores If-None-Match (s3rver), a put replaces an object unless checkBeforePut", async () => {
    const st = store();
    await st.put("k", Buffer.from("one"));
    await st.put("k", Buffer.from("two"));
    expect(proxy.requests.filter(isPut).map((r) => r.headers["if-none-match"])).toEqual(["*", "*"]);
    expect(Buffer.from((await st.get("k")) ?? []).toString()).toBe("two");

    const checked = s3Archive({ client: viaProxy, bucket: s3.bucket, prefix: prefixOf(st), checkBeforePut: true });
    proxy.reset();
    await checked.put("k", Buffer.from("two"));
    expect(proxy.requests.map((r) => r.method)).toEqual(["GET"]);
    await walErrorOf(checked.put("k", Buffer.from("three")), "WAL_INVALID_ARGUMENT");
    expect(Buffer.from((await st.get("k")) ?? []).toString()).toBe("two");
    proxy.reset();
    await checked.put("new", Buffer.from("n"));
    expect(proxy.requests.map((r) => r.method)).toEqual(["GET", "PUT"]);
  });

  test("a service enforcing If-None-Match refuses the second write, and the store settles it", async () => {
    const st = s3Archive({ client: viaEnforcing, bucket: s3.bucket, prefix: `t${++prefixes}` });
    enforcing.reset();
    const big = randomBytes(6 * MiB);
    const multipart = s3Archive({
      client: viaEnforcing,
      bucket: s3.bucket,
      prefix: `t${prefixes}`,
      partSizeBytes: 5 * MiB,
    });
    await st.put("k", Buffer.from("one"));
    await st.put("k", Buffer.from("one"));
    await walErrorOf(st.put("k", Buffer.from("two")), "WAL_INVALID_ARGUMENT");
    await multipart.put("big", big, { crc32: crc32(big) });
    await multipart.put("big", big, { crc32: crc32(big) });
    await walErrorOf(multipart.put("big", randomBytes(6 * MiB)), "WAL_INVALID_ARGUMENT");
    expect(enforcing.requests.filter((r) => r.refusedByCondition).map((r) => r.method)).toEqual([
      "PUT",
      "PUT",
      "POST",
      "POST",
    ]);
    expect(Buffer.from((await st.get("k")) ?? []).toString()).toBe("one");
    expect(Buffer.from((await st.get("big")) ?? []).equals(big)).toBe(true);
  });

  test("uploads objects above partSizeBytes in parts, with each part's and the whole object's CRC-32", async () => {
    const st = store({ partSizeBytes: 5 * MiB });
    const bytes = randomBytes(11 * MiB + 123);
    await st.put("segments/big.wal", bytes, { crc32: crc32(bytes) });
    const got = await st.get("segments/big.wal");
    expect(got?.byteLength).toBe(bytes.byteLength);
    expect(Buffer.from(got ?? []).equals(bytes)).toBe(true);

    const [create, ...rest] = proxy.requests;
    expect(create?.method).toBe("POST");
    expect(create?.url).toContain("?uploads");
    expect(create?.headers["x-amz-checksum-algorithm"]).toBe("CRC32");
    expect(create?.headers["x-amz-checksum-type"]).toBe("FULL_OBJECT");
    const parts = rest.filter(isPut);
    expect(parts.map((r) => new URL(r.url, "http://x").searchParams.get("partNumber"))).toEqual(["1", "2", "3"]);
    const slices = [bytes.subarray(0, 5 * MiB), bytes.subarray(5 * MiB, 10 * MiB), bytes.subarray(10 * MiB)];
    expect(parts.map((r) => r.headers["x-amz-checksum-crc32"])).toEqual(slices.map(base64Crc));
    const complete = rest.find((r) => r.method === "POST");
    expect(complete?.url).toContain("uploadId=");
    expect(complete?.headers["x-amz-checksum-crc32"]).toBe(base64Crc(bytes));
    expect(complete?.headers["if-none-match"]).toBe("*");
  });

  test("objects up to partSizeBytes go up in one PutObject", async () => {
    const st = store({ partSizeBytes: 5 * MiB });
    const bytes = randomBytes(5 * MiB);
    await st.put("k", bytes, { crc32: crc32(bytes) });
    expect(proxy.requests.map((r) => r.method)).toEqual(["PUT"]);
  });

  test("a signal that is not an AbortSignal is refused before any request is sent", async () => {
    const st = store();
    for (const signal of [{}, "x", 5, null] as unknown as AbortSignal[]) {
      for (const call of [
        st.put("k", Buffer.from("x"), { signal }),
        st.get("k", { signal }),
        st.list("", { signal }),
        st.delete("k", { signal }),
      ]) {
        const e = await walErrorOf(call, "WAL_INVALID_ARGUMENT");
        expect(e.message).toMatch(/signal must be an AbortSignal/);
      }
    }
    expect(proxy.requests).toEqual([]);
  });

  test("names itself s3://<bucket>/<prefix>", () => {
    expect(s3Archive({ client: viaProxy, bucket: "b" }).name).toBe("s3://b/");
    expect(s3Archive({ client: viaProxy, bucket: "b", prefix: "wal/db1/" }).name).toBe("s3://b/wal/db1");
    expect(s3Archive({ client: viaProxy, bucket: "b", prefix: "wal/db1" }).name).toBe("s3://b/wal/db1");
  });

  test("a store without a prefix keeps keys at the bucket's root", async () => {
    const root = s3Archive({ client: viaProxy, bucket: s3.bucket });
    const key = `root-test/${prefixes++}/k`;
    await root.put(key, Buffer.from("r"));
    expect(Buffer.from(await rawObject(key)).toString()).toBe("r");
    expect(await root.list(`root-test/${prefixes - 1}/`)).toEqual([{ key, size: 1 }]);
  });

  test("rejects bad options with WAL_INVALID_OPTION", () => {
    const bad: unknown[] = [
      {},
      { client: {}, bucket: "b" },
      { client: viaProxy },
      { client: viaProxy, bucket: "" },
      { client: viaProxy, bucket: "b", prefix: "/abs" },
      { client: viaProxy, bucket: "b", prefix: "a//b" },
      { client: viaProxy, bucket: "b", prefix: "../up" },
      { client: viaProxy, bucket: "b", partSizeBytes: 5 * MiB - 1 },
      { client: viaProxy, bucket: "b", partSizeBytes: 1.5 * 5 * MiB + 0.5 },
      { client: viaProxy, bucket: "b", listPageSize: 0 },
      { client: viaProxy, bucket: "b", listPageSize: 1001 },
      { client: viaProxy, bucket: "b", checkBeforePut: "yes" },
    ];
    for (const [i, options] of bad.entries()) {
      let error: unknown;
      try {
        s3Archive(options as S3ArchiveOptions);
      } catch (e) {
        error = e;
      }
      expect(isWalError(error, "WAL_INVALID_OPTION"), `options #${i}`).toBe(true);
    }
  });

  test("rejects bad keys, prefixes, bytes and CRC values with WAL_INVALID_ARGUMENT, sending nothing", async () => {
    const st = store();
    for (const key of ["", "/a", "a//b", "a/../b", "a b", "x".repeat(513)]) {
      await walErrorOf(st.put(key, new Uint8Array(1)), "WAL_INVALID_ARGUMENT");
      await walErrorOf(st.get(key), "WAL_INVALID_ARGUMENT");
      await walErrorOf(st.delete(key), "WAL_INVALID_ARGUMENT");
    }
    await walErrorOf(st.list("/a"), "WAL_INVALID_ARGUMENT");
    await walErrorOf(st.put("k", "text" as unknown as Uint8Array), "WAL_INVALID_ARGUMENT");
    for (const crc of [-1, 2 ** 32, 1.5, Number.NaN]) {
      await walErrorOf(st.put("k", new Uint8Array(1), { crc32: crc }), "WAL_INVALID_ARGUMENT");
    }
    expect(proxy.requests).toEqual([]);
  });

  test("a refused connection rejects with WAL_IO carrying the network error", async () => {
    const closed = await startFaultyProxy(s3.endpoint);
    const endpoint = closed.endpoint;
    await closed.close();
    const st = s3Archive({ client: s3.createClient({ endpoint, maxAttempts: 1 }), bucket: s3.bucket, prefix: "x" });
    const e = await walErrorOf(st.get("k"), "WAL_IO");
    expect(e.details.object).toBe("k");
    expect(String((e.cause as { code?: unknown }).code)).toBe("ECONNREFUSED");
  });
});

describe("s3Archive through a faulty network", () => {
  const ops = [
    { name: "put", match: isPut, call: (st: ArchiveStore) => st.put("k", Buffer.from("v")) },
    { name: "get", match: isGet, call: (st: ArchiveStore) => st.get("k") },
    { name: "list", match: isList, call: (st: ArchiveStore) => st.list() },
    { name: "delete", match: isDelete, call: (st: ArchiveStore) => st.delete("k") },
  ] as const;

  for (const status of [503, 500]) {
    for (const op of ops) {
      test(`${op.name}: a ${status} rejects with WAL_IO; the same call succeeds once the fault clears`, async () => {
        const st = store();
        if (op.name !== "put") await st.put("k", Buffer.from("v"));
        proxy.inject({ kind: "status", status }, { match: op.match });
        const e = await walErrorOf(op.call(st), "WAL_IO");
        expect(e.details.object).toBe(op.name === "list" ? "" : "k");
        expect((e.cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(status);
        await op.call(st);
        expect(proxy.requests.filter(op.match).map((r) => r.fault)).toEqual(["status", undefined]);
      });
    }
  }

  test("the client's own retry strategy applies inside one call", async () => {
    const st = s3Archive({
      client: s3.createClient({ endpoint: proxy.endpoint, maxAttempts: 3 }),
      bucket: s3.bucket,
      prefix: `t${++prefixes}`,
    });
    proxy.inject({ kind: "status", status: 500 }, { match: isPut, times: 2 });
    await st.put("k", Buffer.from("v"));
    expect(proxy.requests.filter(isPut).map((r) => r.fault)).toEqual(["status", "status", undefined]);
    proxy.inject({ kind: "status", status: 500 }, { match: isGet, times: 3 });
    await walErrorOf(st.get("k"), "WAL_IO");
    expect(count(isGet)).toBe(3);
  });

  test("a connection reset mid-upload rejects with WAL_IO; the same put then stores the whole object", async () => {
    const st = store();
    const bytes = randomBytes(3 * MiB);
    const { applied } = proxy.inject({ kind: "reset", afterRequestBytes: MiB }, { match: isPut });
    const e = await walErrorOf(st.put("segments/s.wal", bytes, { crc32: crc32(bytes) }), "WAL_IO");
    await applied;
    expect(e.details.object).toBe("segments/s.wal");
    await st.put("segments/s.wal", bytes, { crc32: crc32(bytes) });
    expect(Buffer.from((await st.get("segments/s.wal")) ?? []).equals(bytes)).toBe(true);
    expect(await st.list()).toEqual([{ key: "segments/s.wal", size: bytes.byteLength }]);
  });

  test("a multipart upload reset in its second part rejects with WAL_IO; the same put then completes", async () => {
    const st = store({ partSizeBytes: 5 * MiB });
    const bytes = randomBytes(12 * MiB);
    proxy.inject(
      { kind: "reset", afterRequestBytes: MiB },
      { match: (r) => isPut(r) && r.url.includes("partNumber=2") },
    );
    await walErrorOf(st.put("big", bytes, { crc32: crc32(bytes) }), "WAL_IO");
    await st.put("big", bytes, { crc32: crc32(bytes) });
    expect(Buffer.from((await st.get("big")) ?? []).equals(bytes)).toBe(true);
  });

  test("a response that never comes: an aborted put rejects with the signal's reason", async () => {
    const st = store();
    const controller = new AbortController();
    const { applied } = proxy.inject({ kind: "stall" }, { match: isPut });
    const outcome = rejectionOf(st.put("k", randomBytes(64 * 1024), { signal: controller.signal }));
    await applied;
    const reason = new Error("shutting down");
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    await st.put("k", Buffer.from("after"));
  });

  test("a body that stops coming: an aborted get rejects with the signal's reason (an AbortError)", async () => {
    const st = store();
    await st.put("k", randomBytes(MiB));
    const controller = new AbortController();
    const { applied } = proxy.inject({ kind: "stall", afterResponseBytes: 64 * 1024 }, { match: isGet });
    const outcome = rejectionOf(st.get("k", { signal: controller.signal }));
    await applied;
    controller.abort();
    const e = await outcome;
    expect(e).toBe(controller.signal.reason);
    expect((e as Error).name).toBe("AbortError");
    expect((await st.get("k"))?.byteLength).toBe(MiB);
  });

  test("a stalled list and a stalled delete reject with the signal's reason", async () => {
    const st = store();
    for (const [match, call] of [
      [isList, (signal: AbortSignal) => st.list("", { signal })],
      [isDelete, (signal: AbortSignal) => st.delete("k", { signal })],
    ] as const) {
      const controller = new AbortController();
      const { applied } = proxy.inject({ kind: "stall" }, { match });
      const outcome = rejectionOf(call(controller.signal));
      await applied;
      controller.abort();
      expect(await outcome).toBe(controller.signal.reason);
    }
  });

  test("every call, aborted before it or while its request stalls, rejects with the reason itself, whatever it is", async () => {
    const reasons: (() => unknown)[] = [
      () => new WalError("WAL_IO", "the caller's own I/O failure"),
      () => new WalError("WAL_CLOSED", "the caller is closing"),
      () => new DOMException("stopped", "AbortError"),
      () => new DOMException("took too long", "TimeoutError"),
      () => "shutting down",
      () => 42,
      () => null,
    ];
    const st = store({ partSizeBytes: 5 * MiB });
    await st.put("k", Buffer.from("kept"));
    const isCreateUpload = (r: { method: string; url: string }) => r.method === "POST" && r.url.includes("uploads");
    const calls = [
      [isPut, (signal: AbortSignal) => st.put("single", Buffer.from("v"), { signal })],
      [isCreateUpload, (signal: AbortSignal) => st.put("multi", new Uint8Array(5 * MiB + 1), { signal })],
      [isGet, (signal: AbortSignal) => st.get("k", { signal })],
      [isList, (signal: AbortSignal) => st.list("", { signal })],
      [isDelete, (signal: AbortSignal) => st.delete("k", { signal })],
    ] as const;
    let stalls = 0;
    for (const make of reasons) {
      for (const [match, call] of calls) {
        const before = make();
        expect(await rejectionOf(call(AbortSignal.abort(before)))).toBe(before);
        const during = make();
        const controller = new AbortController();
        const { applied } = proxy.inject({ kind: "stall" }, { match });
        const outcome = rejectionOf(call(controller.signal));
        await applied;
        stalls++;
        controller.abort(during);
        expect(await outcome).toBe(during);
      }
    }
    expect(stalls).toBe(reasons.length * calls.length);
    expect(await st.list()).toEqual([{ key: "k", size: 4 }]);
  });

  test("an aborted signal rejects before any request", async () => {
    const st = store();
    const signal = AbortSignal.abort();
    for (const call of [
      st.put("k", Buffer.from("v"), { signal }),
      st.get("k", { signal }),
      st.list("", { signal }),
      st.delete("k", { signal }),
    ]) {
      expect(await rejectionOf(call)).toBe(signal.reason);
    }
    expect(proxy.requests).toEqual([]);
  });
});
