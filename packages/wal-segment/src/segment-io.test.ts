import { appendFile, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, encodeRecord, type WalRecord } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentReader } from "./segment-reader.js";
import { SegmentWriter } from "./segment-writer.js";

const fs = createNodeFileSystem();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-seg-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ev = (n: number) => new Uint8Array([n, n + 1, n + 2]);
const tx = (begin: number): WalRecord<Uint8Array>[] => [
  { kind: "txBegin", lsn: begin },
  { kind: "mutation", lsn: begin + 1, txBeginLsn: begin, event: ev(begin) },
  { kind: "txCommit", lsn: begin + 2, txBeginLsn: begin },
];

async function readAll(path: string, chunkBytes?: number) {
  const reader = await SegmentReader.open(fs, path, chunkBytes === undefined ? {} : { chunkBytes });
  const records: WalRecord<Uint8Array>[] = [];
  for (;;) {
    const step = await reader.next(bytesCodec);
    if (step.kind !== "record") {
      await reader.close();
      return { records, step, position: reader.position, header: reader.header };
    }
    records.push(step.record);
  }
}

describe("SegmentWriter and SegmentReader", () => {
  it("create, append, flush and read back", async () => {
    const path = join(dir, "0000000001.wal");
    const w = await SegmentWriter.create(fs, path, 1);
    for (const r of tx(1)) w.append(r, bytesCodec);
    expect(w.pendingBytes).toBeGreaterThan(0);
    await w.flush();
    await w.close();
    const got = await readAll(path);
    expect(got.header.baseLsn).toBe(1);
    expect(got.records).toEqual(tx(1));
    expect(got.step.kind).toBe("end");
  });

  it("refuses to clobber an existing file", async () => {
    const path = join(dir, "0000000001.wal");
    await (await SegmentWriter.create(fs, path, 1)).close();
    await expect(SegmentWriter.create(fs, path, 1)).rejects.toMatchObject({
      code: "WAL_IO",
      details: { errno: "EEXIST" },
    });
  });

  it("seal marks the header and refuses later appends and reopen for append", async () => {
    const path = join(dir, "0000000001.wal");
    const w = await SegmentWriter.create(fs, path, 7);
    for (const r of tx(7)) w.append(r, bytesCodec);
    await w.seal();
    expect(() => w.append({ kind: "txBegin", lsn: 10 }, bytesCodec)).toThrow(
      expect.objectContaining({ code: "WAL_SEGMENT_SEALED" }),
    );
    await w.close();
    const got = await readAll(path);
    expect(got.header.sealed).toBe(true);
    expect(got.records).toHaveLength(3);
    await expect(SegmentWriter.openForAppend(fs, path, got.position)).rejects.toMatchObject({
      code: "WAL_SEGMENT_SEALED",
    });
  });

  it("finds a torn tail, truncates it, and appends cleanly after it", async () => {
    const path = join(dir, "0000000001.wal");
    const w = await SegmentWriter.create(fs, path, 1);
    for (const r of tx(1)) w.append(r, bytesCodec);
    await w.flush();
    await w.close();
    const clean = (await stat(path)).size;
    await appendFile(path, Buffer.from([1, 2, 3, 4, 5, 6]));
    const got = await readAll(path);
    expect(got.step).toMatchObject({ kind: "damaged", offset: clean, reason: "incomplete" });
    const w2 = await SegmentWriter.openForAppend(fs, path, got.position);
    await w2.truncateTo(got.position);
    w2.append({ kind: "txAbort", lsn: 4, txBeginLsn: 1 }, bytesCodec);
    await w2.flush();
    await w2.close();
    const again = await readAll(path);
    expect(again.records).toHaveLength(4);
    expect(again.step.kind).toBe("end");
  });

  it("reports a bad CRC as corrupt at the record's file offset", async () => {
    const path = join(dir, "0000000001.wal");
    const w = await SegmentWriter.create(fs, path, 1);
    for (const r of [...tx(1), ...tx(4)]) w.append(r, bytesCodec);
    await w.flush();
    await w.close();
    const bytes = await readFile(path);
    const second = 32 + 25; // after the first TxBegin
    bytes[second + 10] = (bytes[second + 10] as number) ^ 0x10;
    await rm(path);
    await appendFile(path, bytes);
    const got = await readAll(path);
    expect(got.records).toHaveLength(1);
    expect(got.step).toMatchObject({ kind: "damaged", reason: "corrupt", offset: second });
    if (got.step.kind === "damaged") expect(got.step.error.details.offset).toBe(second);
    const reader = await SegmentReader.open(fs, path);
    const found = await reader.findValidRecordAfter(second, 1);
    await reader.close();
    expect(found?.lsn).toBe(3);
  });

  it("streams many records through a small read buffer, including records larger than the buffer", async () => {
    const path = join(dir, "0000000001.wal");
    const w = await SegmentWriter.create(fs, path, 1);
    const records: WalRecord<Uint8Array>[] = [];
    let lsn = 1;
    for (let i = 0; i < 200; i++) {
      const size = i % 17 === 0 ? 5000 : i % 50;
      records.push({ kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(size).fill(i) });
      lsn++;
    }
    for (const r of records) w.append(r, bytesCodec);
    await w.flush();
    await w.close();
    const got = await readAll(path, 1024);
    expect(got.records).toEqual(records);
    expect(got.step.kind).toBe("end");
  });

  it("writes never interleave and land in append order while appends continue during a write", async () => {
    const path = join(dir, "0000000001.wal");
    const w = await SegmentWriter.create(fs, path, 1);
    const expected: Uint8Array[] = [];
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 300; i++) {
      const r: WalRecord<Uint8Array> = { kind: "mutation", lsn: i, txBeginLsn: 1, event: new Uint8Array(i % 64) };
      w.append(r, bytesCodec);
      expected.push(encodeRecord(r, bytesCodec));
      if (i % 7 === 0) writes.push(w.write());
    }
    writes.push(w.write());
    await Promise.all(writes);
    await w.sync();
    await w.close();
    const file = await readFile(path);
    expect(Buffer.from(file.subarray(32))).toEqual(Buffer.concat(expected));
  });

  it("rolls back a partial multi-record append", async () => {
    const path = join(dir, "0000000001.wal");
    const w = await SegmentWriter.create(fs, path, 1);
    const mark = w.mark();
    w.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
    w.rollback(mark);
    expect(w.pendingBytes).toBe(0);
    await w.close();
  });
});
