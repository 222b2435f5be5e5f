/**
 * A power loss while the open cuts a torn record larger than the unsynced window. Such a record is written in
 * window-sized pieces, each fsynced, so most of it is on disk; it reads as a torn tail because its header says it
 * ends within the last window. Cutting it at a length inside a 4 KiB block zeroes the rest of that block first, and
 * that block can reach the disk while the cut does not: its header is gone, the rest of its payload is still there,
 * more than a window before the end of the data. When that payload holds bytes that read as an intact marker (a stored
 * log, say), the damage no longer read as torn: the open cut in one step, and that image was refused as corruption.
 * It now cuts such a tail to 4 KiB past the damage first, durably (one with only zeros past there in one step).
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
const MIB = 1024 * 1024;

it("every crash image of the cut of a torn record larger than the window opens by default with every commit", async () => {
  const { bytes, committed, cutAt } = tornLog((lsn, begin) => {
    // A 2.5 MiB event holding, halfway, the bytes of an intact commit marker of a higher LSN.
    const payload = new Uint8Array(2.5 * MIB).fill(0x61);
    payload.set(encodeRecord({ kind: "txCommit", lsn: lsn + 1, txBeginLsn: begin }, bytesCodec), 1.25 * MIB);
    const big = encodeRecord({ kind: "mutation", lsn, txBeginLsn: begin, event: payload }, bytesCodec);
    // Its first two window-sized pieces were fsynced; the last one was lost.
    return big.subarray(0, 2 * MIB);
  });
  expect(cutAt % 4096).not.toBe(0);

  const fs = SimFS.withDir(DIR);
  fs.writeFileSync(SEGMENT, bytes);
  const { images, cuts, result } = await imagesAtCuts(fs, SEGMENT, () =>
    Wal.open<Uint8Array>(DIR, { fs, codec: bytesCodec }),
  );
  const { wal, events, healed } = result;
  await wal.close();
  expect(healed).toMatchObject([{ kind: "tornTailTruncated", offset: cutAt }]);
  expect(events).toEqual(committed);
  // In two steps: to 4 KiB past the damage (fsynced), then at it.
  expect(cuts).toBe(2);

  expect(images.some((i) => i.at.includes("lost after zeroing"))).toBe(true);
  const refused = await refusedImages(DIR, images, { codec: bytesCodec }, committed);
  expect(refused).toEqual([]);
  expect(images.length).toBeGreaterThan(2);
});

it("a torn tail with nothing but zeros past 4 KiB after the damage is cut in one step", async () => {
  // A torn 3000-byte record, then a preallocating writer's zeros to 1 MiB.
  const { bytes, committed, cutAt } = tornLog((lsn, begin) => {
    const record = encodeRecord({ kind: "mutation", lsn, txBeginLsn: begin, event: new Uint8Array(3000) }, bytesCodec);
    const out = new Uint8Array(MIB);
    out.set(record.subarray(0, 2000).fill(0x62, 100));
    return out;
  });
  const fs = SimFS.withDir(DIR);
  fs.writeFileSync(SEGMENT, bytes);
  let cuts = 0;
  const off = fs.onOperation((e) => {
    if (e.op === "truncate" && e.path === SEGMENT) cuts++;
  });
  const { wal, events, healed } = await Wal.open<Uint8Array>(DIR, { fs, codec: bytesCodec });
  off();
  expect(healed).toMatchObject([{ kind: "tornTailTruncated", offset: cutAt }]);
  expect(events).toEqual(committed);
  expect(cuts).toBe(1);
  await wal.close();
});
