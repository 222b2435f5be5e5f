/**
 * A failed write, fsync or truncation poisons a segment writer, whichever call met it (`writeNow`, `sync`, `syncNow`,
 * `rewriteInPlace`, `seal`, `truncateTo`, `trimZeroTail`): that call and every later write or sync reject with the
 * first failure, nothing more is written, and closing still releases the file. A seam without a blocking fdatasync
 * makes `syncNow` refuse without poisoning.
 */

import { bytesCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SEGMENT_HEADER_BYTES } from "./segment-header.js";
import { SegmentWriter } from "./segment-writer.js";
import { transaction } from "./test-support/transaction-records.js";
import type { SimErrno, SimOp } from "./testing/sim-fs.js";
import { SimFS } from "./testing/sim-fs.js";
import { boundProperty, wrapFileSystem } from "./testing/wrapped-fs.js";

const PATH = "/w/0000000001.wal";

/** A writer with one transaction written and synced, and one more written but not synced. */
async function written(preallocateBytes = 0): Promise<{ fs: SimFS; writer: SegmentWriter }> {
  const fs = SimFS.withDir("/w");
  const writer = await SegmentWriter.create(fs, PATH, 1, { preallocateBytes });
  for (const r of transaction(1)) writer.append(r, bytesCodec);
  await writer.flush();
  for (const r of transaction(4)) writer.append(r, bytesCodec);
  await writer.write();
  return { fs, writer };
}

const cases: {
  name: string;
  op: SimOp;
  errno: SimErrno;
  /** What a failing write lands before it fails (a short write). */
  partialBytes?: number;
  preallocateBytes?: number;
  call: (w: SegmentWriter) => Promise<unknown>;
}[] = [
  {
    name: "writeNow (a short write)",
    op: "write",
    errno: "ENOSPC",
    partialBytes: 20,
    call: (w) => {
      for (const r of transaction(10)) w.append(r, bytesCodec);
      return Promise.resolve().then(() => w.writeNow());
    },
  },
  { name: "sync", op: "datasync", errno: "EIO", call: (w) => w.sync() },
  { name: "syncNow", op: "datasync", errno: "EIO", call: (w) => Promise.resolve().then(() => w.syncNow()) },
  { name: "rewriteInPlace", op: "write", errno: "EIO", call: (w) => w.rewriteInPlace() },
  {
    name: "rewriteInPlace({ withMetadata })",
    op: "sync",
    errno: "EIO",
    call: (w) => w.rewriteInPlace({ withMetadata: true }),
  },
  { name: "seal (the header write)", op: "write", errno: "ENOSPC", call: (w) => w.seal() },
  { name: "truncateTo", op: "truncate", errno: "EIO", call: (w) => w.truncateTo(SEGMENT_HEADER_BYTES) },
  { name: "trimZeroTail", op: "truncate", errno: "EIO", preallocateBytes: 64 * 1024, call: (w) => w.trimZeroTail() },
];

describe("SegmentWriter poisoned by a failure", () => {
  for (const c of cases) {
    it(`${c.name}: rejects with the failure, then every write and sync rejects with the same error`, async () => {
      const { fs, writer } = await written(c.preallocateBytes);
      const fault = fs.injectFault({ op: c.op, path: PATH, errno: c.errno, partialBytes: c.partialBytes ?? 0 });
      const error = await c.call(writer).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(fault.hits).toBe(1);
      expect(error).toMatchObject({ code: "WAL_IO", details: { errno: c.errno } });
      expect(writer.failure).toBe(error);
      const bytes = fs.readFileSync(PATH);
      for (const r of transaction(7)) writer.append(r, bytesCodec);
      await expect(writer.write()).rejects.toBe(error);
      await expect(writer.sync()).rejects.toBe(error);
      expect(() => writer.syncNow()).toThrow(error as Error);
      await expect(writer.seal()).rejects.toBe(error);
      expect(fs.readFileSync(PATH)).toEqual(bytes);
      expect(writer.sealed).toBe(false);
      await expect(writer.close()).rejects.toBe(error);
      expect(fs.stats.opens).toBe(fs.stats.closes);
    });
  }

  it("syncNow without a blocking fdatasync refuses, poisons nothing, and a sync still covers the bytes", async () => {
    const sim = SimFS.withDir("/w");
    const noBlockingSync = wrapFileSystem(
      sim,
      (file) =>
        new Proxy(file, { get: (target, key) => (key === "datasyncSync" ? undefined : boundProperty(target, key)) }),
    );
    const writer = await SegmentWriter.create(noBlockingSync, PATH, 1);
    expect(writer.canSyncNow).toBe(false);
    for (const r of transaction(1)) writer.append(r, bytesCodec);
    await writer.write();
    expect(() => writer.syncNow()).toThrow(expect.objectContaining({ code: "WAL_IO", details: { path: PATH } }));
    expect(writer.failure).toBeUndefined();
    await writer.sync();
    expect(sim.durableImage().readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await writer.close();
  });

  it("syncNow makes what was written durable, and only that", async () => {
    const { fs, writer } = await written();
    expect(writer.canSyncNow).toBe(true);
    const end = writer.writtenBytes;
    for (const r of transaction(7)) writer.append(r, bytesCodec);
    expect(fs.durableImage().readFileSync(PATH).byteLength).toBeLessThan(end);
    writer.syncNow();
    expect(fs.durableImage().readFileSync(PATH).byteLength).toBe(end);
    await writer.close();
  });
});
