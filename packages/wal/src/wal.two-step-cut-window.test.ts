/**
 * The open cuts a torn tail with data more than 4 KiB past the damage in two steps: to 4 KiB past the damage,
 * fsynced, then at it. 4 KiB is the smallest unsynced window an open accepts, so a power loss in the final cut (which
 * may zero the damaged record's header while the file keeps its length) leaves data no further past the damage than
 * any window lets an open read as a torn tail. These pin the step's size and that it is durable before the final cut.
 */

import { bytesCodec, encodeRecord } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { imagesAtCuts, refusedImages } from "./test-support/cut-crash-images.js";
import { tornLog } from "./test-support/torn-log.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const SMALLEST_WINDOW = 4096;

/**
 * A segment of two committed transactions, then a begun one whose 10,000-byte mutation is torn 7,000 bytes in; the
 * payload holds, 5,000 bytes in, the bytes of an intact commit marker of a higher LSN.
 */
function tornWindowLog(): { bytes: Uint8Array; committed: Uint8Array[]; cutAt: number } {
  return tornLog(
    (lsn, begin) => {
      const payload = new Uint8Array(10_000).fill(0x61);
      payload.set(encodeRecord({ kind: "txCommit", lsn: lsn + 1, txBeginLsn: begin }, bytesCodec), 5000);
      const torn = encodeRecord({ kind: "mutation", lsn, txBeginLsn: begin, event: payload }, bytesCodec);
      return torn.subarray(0, 7000);
    },
    { transactions: 2, eventBytes: 50 },
  );
}

it("with the smallest unsynced window, every crash image of the cut opens with every commit", async () => {
  const { bytes, committed, cutAt } = tornWindowLog();
  expect(cutAt % 4096).not.toBe(0);
  const fs = SimFS.withDir(DIR);
  fs.writeFileSync(SEGMENT, bytes);
  const options = { codec: bytesCodec, unsyncedWindowBytes: SMALLEST_WINDOW };
  const { images, result } = await imagesAtCuts(fs, SEGMENT, () => Wal.open<Uint8Array>(DIR, { fs, ...options }));
  const { wal, events, healed } = result;
  await wal.close();
  expect(healed).toMatchObject([{ kind: "tornTailTruncated", offset: cutAt }]);
  expect(events).toEqual(committed);

  // The final cut's zeroing lost with its size change: the damaged header gone, the bytes after it still there.
  expect(images.filter((i) => i.at.includes("lost after zeroing")).length).toBeGreaterThan(0);
  const refused = await refusedImages(DIR, images, options, committed);
  expect(refused).toEqual([]);
});

it("the step to 4 KiB past the damage is durable before the final cut starts", async () => {
  const { bytes, cutAt } = tornWindowLog();
  const fs = SimFS.withDir(DIR);
  fs.writeFileSync(SEGMENT, bytes);
  // The durable length of the segment at each cut: what a power loss just then could go back to at most.
  const durableAtCut: number[] = [];
  const off = fs.onOperation((e) => {
    if (e.op === "truncate" && e.path === SEGMENT) {
      durableAtCut.push(fs.durableImage().readFileSync(SEGMENT).byteLength);
    }
  });
  const { wal } = await Wal.open<Uint8Array>(DIR, { fs, codec: bytesCodec });
  off();
  await wal.close();
  expect(durableAtCut).toEqual([bytes.byteLength, cutAt + 4096]);
});
