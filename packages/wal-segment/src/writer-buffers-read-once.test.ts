/**
 * `SegmentWriter`'s `buffers` option is read once when checked, and the writer uses the pair that was checked: a
 * proxy array whose elements answer validly when checked and differently (or throw) when read again neither escapes
 * uncoded nor hands the writer an unchecked buffer. The check read each element twice and the writer destructured
 * the array again by its iterator, after the file was created.
 */

import { readOnce } from "@lora/test-utils";
import { ByteWriter, bytesCodec } from "@lora/wal-codec";
import { expect, it } from "vitest";
import { segmentPath } from "./segment-name.js";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const DIR = "/w";

it("reads a buffers pair once and writes through what it read", async () => {
  const fs = SimFS.withDir(DIR);
  const once = readOnce([new ByteWriter(16), new ByteWriter(16)] as const);
  const writer = await SegmentWriter.create(fs, segmentPath(DIR, 1), 1, { buffers: once.value });
  writer.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
  await writer.write();
  await writer.close();
  expect(once.readTwice()).toEqual([]);
});

it("uses the pair read when checked, though the array answers otherwise afterwards", async () => {
  const fs = SimFS.withDir(DIR);
  const reads = new Map<string, number>();
  const pair = [new ByteWriter(16), new ByteWriter(16)] as const;
  const changing = new Proxy(pair, {
    get(target, key, receiver) {
      if (key !== "0" && key !== "1") return Reflect.get(target, key, receiver);
      const n = (reads.get(key) ?? 0) + 1;
      reads.set(key, n);
      return n === 1 ? Reflect.get(target, key, receiver) : {};
    },
  });
  const writer = await SegmentWriter.create(fs, segmentPath(DIR, 1), 1, { buffers: changing });
  writer.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
  await writer.write();
  await writer.close();
  expect(Object.fromEntries(reads)).toEqual({ 0: 1, 1: 1 });
});

it("refuses a buffers array that throws when read with WAL_INVALID_OPTION, creating no file", async () => {
  const fs = SimFS.withDir(DIR);
  const thrown = new Error("no buffer");
  const throwing = new Proxy([new ByteWriter(16), new ByteWriter(16)] as const, {
    get(target, key, receiver) {
      if (key === "1") throw thrown;
      return Reflect.get(target, key, receiver);
    },
  });
  await expect(SegmentWriter.create(fs, segmentPath(DIR, 1), 1, { buffers: throwing })).rejects.toMatchObject({
    name: "WalError",
    code: "WAL_INVALID_OPTION",
    cause: thrown,
  });
  expect(fs.listSync(DIR)).toEqual([]);
});
