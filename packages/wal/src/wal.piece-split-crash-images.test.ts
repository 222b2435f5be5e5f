/**
 * Crash images of a write larger than the unsynced window, taken the way the torture harness takes them
 * (`SimFS.crashImages`), must all open in the default mode with every durable commit. The writer sends such a write
 * in window-sized pieces fsynced in turn, and a piece can end inside a record's header; the image that loses only the
 * next piece's first sector (the rest landed) splits that header between fsynced bytes and zeros. The images always
 * include that tear (sampling alone would almost never draw it), so this test fails when recovery takes the split
 * header for corruption.
 */

import { bytesCodec, encodeRecord } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const WINDOW = 4096;

const mutationBytes = (eventBytes: number) =>
  encodeRecord({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(eventBytes) }, bytesCodec).byteLength;

it("every crash image of a write split into synced pieces opens with every durable commit", async () => {
  const opened: string[] = [];
  for (const into of [1, 5, 9, 13]) {
    const fs = SimFS.withDir(DIR);
    const options = {
      fs,
      codec: bytesCodec,
      unsyncedWindowBytes: WINDOW,
      preallocateBytes: 0,
      syncMode: "none" as const,
    };
    const { wal } = await Wal.open<Uint8Array>(DIR, options);
    const durable = new Uint8Array(50).fill(7);
    const first = await wal.begin();
    await wal.append(first, durable);
    await wal.whenDurable(await wal.commit(first));
    // The next write starts with nothing unsynced: its first piece ends a window later, `into` bytes into a header.
    const syncPoint = fs.readFileSync(SEGMENT).byteLength + WINDOW;
    const images: { description: string; fs: SimFS }[] = [];
    const off = fs.onOperation((e) => {
      // Once the first piece is fsynced and the second written: every state a power loss can leave now.
      if (e.op !== "write" || e.path !== SEGMENT || fs.durableImage().readFileSync(SEGMENT).byteLength !== syncPoint)
        return;
      if (images.length === 0) images.push(...fs.crashImages({ maxImages: 64 }));
    });
    const begin = await wal.begin();
    await wal.append(begin, new Uint8Array(syncPoint - into - (syncPoint - WINDOW + 25) - mutationBytes(0)).fill(9));
    await wal.append(begin, new Uint8Array(100).fill(8));
    await wal.commit(begin);
    for (let t = 0; t < 8; t++) {
      const b = await wal.begin();
      for (let j = 0; j < 5; j++) await wal.append(b, new Uint8Array(100).fill(1 + t));
      await wal.commit(b);
    }
    await wal.flush();
    off();
    await wal.close();
    expect(images.length, `${into}`).toBeGreaterThan(1);
    for (const image of images) {
      const result = await Wal.open<Uint8Array>(DIR, { ...options, fs: image.fs }).catch((error: unknown) => error);
      expect(result, `${into}: ${image.description}`).not.toBeInstanceOf(Error);
      const { wal: reopened, events } = result as Awaited<ReturnType<typeof Wal.open<Uint8Array>>>;
      expect(events.slice(0, 1), `${into}: ${image.description}`).toEqual([durable]);
      await reopened.close();
      opened.push(image.description);
    }
  }
  // The tear that splits the header is among them for every split point.
  expect(opened.filter((d) => /torn: sectors \[1,2,3,4,5,6,7(,8)?\] of/.test(d)).length).toBeGreaterThanOrEqual(4);
});
