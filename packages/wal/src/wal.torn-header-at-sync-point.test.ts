/**
 * A write larger than the unsynced window goes out in window-sized pieces with an fdatasync between them, and a piece
 * ends wherever the window does, inside a record's header too. When a power loss keeps the next piece's later sectors
 * but loses its first one, the header that straddles the sync point keeps its fsynced first bytes and reads zeros
 * after them (kind 0, or an LSN cut short): it no longer says where its record ends. Its damage still starts in the
 * bytes the writer left unsynced, whatever follows it (the intact markers of that piece) proves nothing, so it is a
 * torn tail. It was refused as corruption when the sync point lay in the first bytes of a header (WAL_CORRUPT:
 * "damage followed by a valid record").
 */

import { bytesCodec, encodeRecord } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const WINDOW = 4096;
const SECTOR = 512;

const mutationBytes = (eventBytes: number) =>
  encodeRecord({ kind: "mutation", lsn: 1, txBeginLsn: 1, event: new Uint8Array(eventBytes) }, bytesCodec).byteLength;

type Options = {
  fs: SimFS;
  codec: typeof bytesCodec;
  unsyncedWindowBytes: number;
  preallocateBytes: 0;
  syncMode: "none";
};

/**
 * A log with one durable commit, then a write of more than a window whose first piece is fsynced and ends `into`
 * bytes into the header of a mutation record. `onSecondPiece` is called once, when the second piece has been written
 * (the file's durable length is then the sync point).
 */
async function writeAcrossSplitHeader(
  into: number,
  onSecondPiece: (fs: SimFS, syncPoint: number) => void,
): Promise<{ options: Options; durable: Uint8Array[]; straddling: number }> {
  const fs = SimFS.withDir(DIR);
  const options: Options = {
    fs,
    codec: bytesCodec,
    unsyncedWindowBytes: WINDOW,
    preallocateBytes: 0,
    syncMode: "none",
  };
  const { wal } = await Wal.open<Uint8Array>(DIR, options);
  const durable = new Uint8Array(50).fill(7);
  const first = await wal.begin();
  await wal.append(first, durable);
  await wal.whenDurable(await wal.commit(first));
  // The next write starts here with nothing unsynced: its first piece ends a window later.
  const syncPoint = fs.readFileSync(SEGMENT).byteLength + WINDOW;
  const straddling = syncPoint - into;
  let called = false;
  const off = fs.onOperation((e) => {
    if (called || e.op !== "write" || e.path !== SEGMENT) return;
    if (fs.durableImage().readFileSync(SEGMENT).byteLength !== syncPoint) return;
    called = true;
    onSecondPiece(fs, syncPoint);
  });
  // txBegin, then a mutation that fills up to the straddling one, then whole transactions past the window.
  const begin = await wal.begin();
  await wal.append(begin, new Uint8Array(straddling - (syncPoint - WINDOW + 25) - mutationBytes(0)).fill(9));
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
  if (!called) throw new Error("no write after the sync point");
  return { options, durable: [durable], straddling };
}

/**
 * The crash image of that log's second piece with its first sector lost and the rest landed (built by hand, so it is
 * this tear whatever `crashImages` samples).
 */
async function splitHeaderImage(into: number) {
  let image: { fs: SimFS; writtenPastSyncPoint: number } | undefined;
  const written = await writeAcrossSplitHeader(into, (fs, syncPoint) => {
    const crashed = fs.durableImage();
    const bytes = fs.readFileSync(SEGMENT).slice();
    bytes.fill(0, syncPoint, Math.ceil(syncPoint / SECTOR) * SECTOR);
    crashed.writeFileSync(SEGMENT, bytes);
    image = { fs: crashed, writtenPastSyncPoint: bytes.byteLength - syncPoint };
  });
  if (image === undefined) throw new Error("no image");
  return { ...image, ...written };
}

it("a sync point inside a record's header, the sector after it lost: a torn tail, every durable commit kept", async () => {
  for (let into = 1; into <= 13; into++) {
    const { fs, writtenPastSyncPoint, options, durable, straddling } = await splitHeaderImage(into);
    // The piece after the sync point is a whole window: its last byte is where the data ends.
    expect(writtenPastSyncPoint, `${into}`).toBe(WINDOW);
    const opened = await Wal.open<Uint8Array>(DIR, { ...options, fs }).catch((error: unknown) => error);
    expect(opened, `${into}`).not.toBeInstanceOf(Error);
    const { wal, events, healed } = opened as Awaited<ReturnType<typeof Wal.open<Uint8Array>>>;
    expect(healed, `${into}`).toMatchObject([{ kind: "tornTailTruncated", offset: straddling }]);
    expect(events, `${into}`).toEqual(durable);
    await wal.close();
  }
});

it("every crash image SimFS gives of the second piece opens with every durable commit", async () => {
  const opened: string[] = [];
  for (const into of [1, 5, 9, 13]) {
    const images: { description: string; fs: SimFS }[] = [];
    const { options, durable } = await writeAcrossSplitHeader(into, (fs) => {
      images.push(...fs.crashImages({ maxImages: 64 }));
    });
    expect(images.length, `${into}`).toBeGreaterThan(1);
    for (const image of images) {
      const result = await Wal.open<Uint8Array>(DIR, { ...options, fs: image.fs }).catch((error: unknown) => error);
      expect(result, `${into}: ${image.description}`).not.toBeInstanceOf(Error);
      const { wal, events } = result as Awaited<ReturnType<typeof Wal.open<Uint8Array>>>;
      expect(events.slice(0, 1), `${into}: ${image.description}`).toEqual(durable);
      await wal.close();
      opened.push(image.description);
    }
  }
  // The tear that splits the header (the first sector lost, every later one landed) is among them at every split.
  expect(opened.filter((d) => /torn: sectors \[1,2,3,4,5,6,7(,8)?\] of/.test(d)).length).toBeGreaterThanOrEqual(4);
});
