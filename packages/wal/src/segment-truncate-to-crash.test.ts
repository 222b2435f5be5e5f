/**
 * A power loss while a caller of `SegmentWriter.truncateTo` removes a torn tail before appending, the way its TSDoc
 * says to: read the segment with a `SegmentReader`, open it for append at the damage, cut there. A torn record larger
 * than the unsynced window (written in fsynced window-sized pieces, torn in its last) leaves most of its payload on
 * disk. Cutting it at a length inside a 4 KiB block zeroes the rest of that block first, and that block can reach the
 * disk while the new length does not: the record's header zeroed, the payload after the block still there. When that
 * payload holds bytes that read as an intact marker, a one-step cut left a log `Wal.open` refused as corruption.
 */

import { bytesCodec, encodeRecord } from "@lora/wal-codec";
import { SegmentReader, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { imagesAtCuts, refusedImages } from "./test-support/cut-crash-images.js";
import { tornLog } from "./test-support/torn-log.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const MIB = 1024 * 1024;

/** Where the segment's records stop reading whole: the first damage a reader meets. */
async function damageOffset(fs: SimFS): Promise<number> {
  const reader = await SegmentReader.open(fs, SEGMENT);
  try {
    for (;;) {
      const step = await reader.next(bytesCodec);
      if (step.kind === "damaged") return step.offset;
      if (step.kind === "end") throw new Error("no damage");
    }
  } finally {
    await reader.close();
  }
}

it("every crash image of truncateTo cutting a torn record larger than the window opens by default with every commit", async () => {
  const { bytes, committed } = tornLog((lsn, begin) => {
    // A 2.5 MiB event holding, halfway, the bytes of an intact commit marker of a higher LSN.
    const payload = new Uint8Array(2.5 * MIB).fill(0x61);
    payload.set(encodeRecord({ kind: "txCommit", lsn: lsn + 1, txBeginLsn: begin }, bytesCodec), 1.25 * MIB);
    const big = encodeRecord({ kind: "mutation", lsn, txBeginLsn: begin, event: payload }, bytesCodec);
    // Its first two window-sized pieces were fsynced; the last one was lost.
    return big.subarray(0, 2 * MIB);
  });
  const fs = SimFS.withDir(DIR);
  fs.writeFileSync(SEGMENT, bytes);
  const damage = await damageOffset(fs);
  expect(damage % 4096).not.toBe(0);

  const writer = await SegmentWriter.openForAppend(fs, SEGMENT, damage);
  const { images, cuts } = await imagesAtCuts(fs, SEGMENT, () => writer.truncateTo(damage));
  await writer.close();
  expect(fs.readFileSync(SEGMENT).byteLength).toBe(damage);

  expect(images.some((i) => i.at.includes("lost after zeroing"))).toBe(true);
  const refused = await refusedImages(DIR, images, { codec: bytesCodec }, committed);
  expect(refused).toEqual([]);
  // In two steps: to 4 KiB past the damage (fsynced), then at it.
  expect(cuts).toBe(2);
  expect(images.length).toBeGreaterThan(2);
});

it("truncateTo cuts a torn tail with only zeros past 4 KiB after the damage in one step", async () => {
  // A torn 3000-byte record, then a preallocating writer's zeros to 1 MiB.
  const { bytes } = tornLog((lsn, begin) => {
    const record = encodeRecord({ kind: "mutation", lsn, txBeginLsn: begin, event: new Uint8Array(3000) }, bytesCodec);
    const out = new Uint8Array(MIB);
    out.set(record.subarray(0, 2000).fill(0x62, 100));
    return out;
  });
  const fs = SimFS.withDir(DIR);
  fs.writeFileSync(SEGMENT, bytes);
  const damage = await damageOffset(fs);
  const writer = await SegmentWriter.openForAppend(fs, SEGMENT, damage);
  const { cuts } = await imagesAtCuts(fs, SEGMENT, () => writer.truncateTo(damage));
  await writer.close();
  expect(cuts).toBe(1);
  expect(fs.readFileSync(SEGMENT).byteLength).toBe(damage);
});

it("a transaction appended and flushed while truncateTo cuts a torn tail lands after the cut: every crash image keeps every acknowledged commit, in order", async () => {
  // A torn 3000-byte record (2000 bytes of it written) after three committed transactions and a txBegin.
  const { bytes, committed } = tornLog((lsn, begin) => {
    const record = encodeRecord({ kind: "mutation", lsn, txBeginLsn: begin, event: new Uint8Array(3000) }, bytesCodec);
    return record.subarray(0, 2000).fill(0x62, 100);
  });
  const fs = SimFS.withDir(DIR);
  fs.writeFileSync(SEGMENT, bytes);
  const damage = await damageOffset(fs);
  const events = [...committed, new Uint8Array(50).fill(4), new Uint8Array(50).fill(5)];

  // Crash images at every operation from the cut on, each with how many commits were acknowledged when it was taken.
  const images: { at: string; fs: SimFS; acknowledged: number }[] = [];
  let acknowledged = committed.length;
  const off = fs.onOperation((e) => {
    for (const image of fs.crashImages({ maxImages: 32 })) {
      images.push({ at: `op ${e.seq} ${e.op}: ${image.description}`, fs: image.fs, acknowledged });
    }
  });
  const writer = await SegmentWriter.openForAppend(fs, SEGMENT, damage);
  const truncating = writer.truncateTo(damage);
  // While the cut runs: the torn transaction (begun at LSN 10) finished, written and synced.
  writer.append({ kind: "mutation", lsn: 11, txBeginLsn: 10, event: events[3] as Uint8Array }, bytesCodec);
  writer.append({ kind: "txCommit", lsn: 12, txBeginLsn: 10 }, bytesCodec);
  const flushing = writer.flush().then(() => {
    acknowledged = 4;
  });
  await Promise.all([truncating, flushing]);
  // Then one more transaction.
  writer.append({ kind: "txBegin", lsn: 13 }, bytesCodec);
  writer.append({ kind: "mutation", lsn: 14, txBeginLsn: 13, event: events[4] as Uint8Array }, bytesCodec);
  writer.append({ kind: "txCommit", lsn: 15, txBeginLsn: 13 }, bytesCodec);
  await writer.flush();
  acknowledged = 5;
  await writer.close();
  off();
  for (const image of fs.crashImages({ maxImages: 32 })) {
    images.push({ at: `after close: ${image.description}`, fs: image.fs, acknowledged });
  }
  expect(images.length).toBeGreaterThan(10);

  const wrong: string[] = [];
  for (const image of images) {
    const opened = await Wal.open<Uint8Array>(DIR, { fs: image.fs, codec: bytesCodec }).catch((error: unknown) => {
      wrong.push(`${image.at}: refused ${String(error)}`);
      return undefined;
    });
    if (opened === undefined) continue;
    const got = opened.events;
    await opened.wal.close();
    // Every commit acknowledged when the image was taken, in order, and nothing but a prefix of the commits.
    const prefix =
      got.length <= events.length && got.every((event, i) => Buffer.from(event).equals(events[i] as Uint8Array));
    if (!prefix || got.length < image.acknowledged) {
      wrong.push(`${image.at}: ${got.length} commits (${image.acknowledged} acknowledged), prefix: ${prefix}`);
    }
  }
  expect(wrong).toEqual([]);
});
