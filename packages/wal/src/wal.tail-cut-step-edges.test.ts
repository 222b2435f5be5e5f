/**
 * Recovery tells the cut where the torn tail's data ends from the copy it made of the tail (`.broken`), so that the
 * cut reads nothing more: that data end decides between one truncate and two, so it must be exact. These pin the
 * edge (a tail whose data ends exactly 4 KiB past the damage is cut in one step, one byte more in two) and a data
 * end found in a later chunk of the copy than the first, its only non-zero byte the first of that chunk.
 */

import { bytesCodec, encodeRecord } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { tornLog } from "./test-support/torn-log.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);

/** Open a log whose begun transaction's mutation is followed by `tail`; the durable length of the segment at each cut. */
async function cutsOf(tail: (lsn: number, begin: number) => Uint8Array) {
  const { bytes, committed, cutAt } = tornLog(tail, { transactions: 2, eventBytes: 50 });
  const fs = SimFS.withDir(DIR);
  fs.writeFileSync(SEGMENT, bytes);
  const lengthsAtCut: number[] = [];
  const off = fs.onOperation((e) => {
    if (e.op === "truncate" && e.path === SEGMENT) lengthsAtCut.push(fs.readFileSync(SEGMENT).byteLength);
  });
  const { wal, events, healed } = await Wal.open<Uint8Array>(DIR, { fs, codec: bytesCodec });
  off();
  await wal.close();
  expect(events).toEqual(committed);
  expect(healed).toMatchObject([{ kind: "tornTailTruncated", offset: cutAt }]);
  return { lengthsAtCut, cutAt };
}

/** The first `length` bytes of a mutation of 20,000 bytes of 0x61: non-zero to its last byte. */
const tornMutation = (length: number) => (lsn: number, begin: number) =>
  encodeRecord(
    { kind: "mutation", lsn, txBeginLsn: begin, event: new Uint8Array(20_000).fill(0x61) },
    bytesCodec,
  ).subarray(0, length);

it("a torn tail whose data ends exactly 4 KiB past the damage is cut in one step, one byte more in two", async () => {
  const exact = await cutsOf(tornMutation(4096));
  expect(exact.lengthsAtCut).toEqual([exact.cutAt]);
  const over = await cutsOf(tornMutation(4097));
  expect(over.lengthsAtCut).toEqual([over.cutAt + 4096, over.cutAt]);
});

it("data whose last non-zero byte is the first byte of a later chunk of the copy makes two steps", async () => {
  // 200,000 bytes of tail are copied 65,536 at a time: a torn record's first 100 bytes, zeros, one byte of data
  // 65,536 bytes in (the second chunk's first byte), zeros to the end.
  const { lengthsAtCut, cutAt } = await cutsOf((lsn, begin) => {
    const tail = new Uint8Array(200_000);
    tail.set(tornMutation(100)(lsn, begin));
    tail[65_536] = 0x61;
    return tail;
  });
  expect(lengthsAtCut).toEqual([cutAt + 4096, cutAt]);
});
