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

/**
 * A log whose second write of more than a window has its first piece fsynced, ending `into` bytes into the header of
 * a mutation record, and the crash image of that write's second piece with its first sector lost and the rest landed.
 */
async function splitHeaderImage(into: number) {
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
  // The next write starts here with nothing unsynced: its first piece ends a window later.
  const syncPoint = fs.readFileSync(SEGMENT).byteLength + WINDOW;
  const straddling = syncPoint - into;
  let image: { fs: SimFS; writtenPastSyncPoint: number } | undefined;
  const off = fs.onOperation((e) => {
    if (e.op !== "write" || e.path !== SEGMENT) return;
    const crashed = fs.durableImage();
    if (crashed.readFileSync(SEGMENT).byteLength !== syncPoint) return;
    const bytes = fs.readFileSync(SEGMENT).slice();
    bytes.fill(0, syncPoint, Math.ceil(syncPoint / SECTOR) * SECTOR);
    crashed.writeFileSync(SEGMENT, bytes);
    image = { fs: crashed, writtenPastSyncPoint: bytes.byteLength - syncPoint };
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
  if (image === undefined) throw new Error("no write after the sync point");
  return { ...image, options, durable: [durable], straddling };
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
