/**
 * A power loss while `Wal.open` settles the durable mark: a binding whose record no longer reads back is cut from the
 * 76-byte mark (to its first 40 bytes) and the cut fsynced. Before the fsync the cut may be lost, or lost after the
 * file system zeroed the rest of its block (bytes 40..76): the binding then fails its CRC and reads as absent, the
 * mark's first 40 bytes unchanged. Every such state opens by default with the history, and the open settles it again.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import {
  DURABLE_MARK_BOUND_BYTES,
  DURABLE_MARK_BYTES,
  DURABLE_MARK_FILE,
  readDurableMark,
  segmentPath,
} from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const MARK = `${DIR}/${DURABLE_MARK_FILE}`;

it("a crash during the mark's settle cut leaves a mark without a binding, or the stale one, and the log opens", async () => {
  const fs = SimFS.withDir(DIR);
  const { wal: first } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  for (const event of ["a", "b", "c"]) await first.commitTx([event]);
  await first.close();
  const stale = await readDurableMark(fs, DIR);
  expect(stale?.binding).toBeDefined();
  // The page cache wrote the bound mark back (it is never fsynced); then another writer cut the log below its record:
  // the last commit record is gone, so "c" was never committed as far as the log can tell.
  fs.writeFileSync(MARK, fs.readFileSync(MARK));
  const segment = fs.readFileSync(SEGMENT);
  fs.writeFileSync(SEGMENT, segment.subarray(0, segment.byteLength - 25));

  const images: { at: string; fs: SimFS }[] = [];
  const off = fs.onOperation((e) => {
    if (e.path !== MARK || e.op !== "truncate") return;
    for (const image of fs.crashImages()) images.push({ at: image.description, fs: image.fs });
  });
  const { wal, events } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, publishDurableLsn: false });
  off();
  await wal.close();
  expect(events).toEqual(["a", "b"]);

  const zeroed = images.filter((i) => i.at.includes(`${MARK}:`) && i.at.includes("lost after zeroing"));
  expect(zeroed.length).toBeGreaterThan(0);
  for (const { at, fs: image } of images) {
    const bytes = image.readFileSync(MARK);
    const mark = await readDurableMark(image, DIR);
    // Whatever the crash left, the mark's first 40 bytes read as they were; a binding is the stale one or none.
    expect(mark, at).toMatchObject({ session: stale?.session, durableLsn: stale?.durableLsn });
    if (bytes.byteLength === DURABLE_MARK_BOUND_BYTES && bytes.subarray(40).every((b) => b === 0)) {
      expect(mark?.binding, at).toBeUndefined();
    }
    const reopened = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec });
    expect(reopened.events, at).toEqual(["a", "b"]);
    await reopened.wal.commitTx(["d"]);
    await reopened.wal.close();
    const again = await Wal.open<JsonValue>(DIR, { fs: image.durableImage(), codec: jsonCodec });
    expect(again.events, at).toEqual(["a", "b", "d"]);
    await again.wal.close();
  }
  expect(fs.durableImage().readFileSync(MARK).byteLength).toBe(DURABLE_MARK_BYTES);
});
