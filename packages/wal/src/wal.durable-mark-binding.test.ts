/**
 * The durable mark bound to the bytes it vouches for: damage in the last unsynced window below the record the mark
 * names (read back whole, with its LSN and CRC) is corruption, never a torn tail, so a default open no longer cuts
 * acknowledged commits a flipped bit damaged. A mark that no longer names those bytes (the log cut or rewritten
 * below it, by this library or another writer; a torn or zeroed mark) is ignored, and a torn write is cut as before.
 */

import { encodeRecord, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import { DURABLE_MARK_FILE, encodeSegmentHeader, readDurableMark, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { withTestingHooks } from "./testing/index.js";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const MARK = `${DIR}/${DURABLE_MARK_FILE}`;
const TXS = 40;

/** Event `i`, all of one length, so every transaction takes the same bytes. */
const event = (i: number): string => `event ${String(i).padStart(4, "0")} ${"x".repeat(20)}`;

/** A cleanly closed log of `TXS` one-event transactions; returns where transaction `k` starts and its size. */
async function closedLog(fs: SimFS): Promise<{ txStart: (k: number) => number; end: number }> {
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  for (let i = 0; i < TXS; i++) await wal.commitTx([event(i)]);
  await wal.close();
  const end = fs.readFileSync(SEGMENT).byteLength;
  const txBytes = (end - 32) / TXS;
  expect(Number.isInteger(txBytes)).toBe(true);
  return { txStart: (k) => 32 + k * txBytes, end };
}

function flip(fs: SimFS, path: string, offset: number): void {
  const bytes = fs.readFileSync(path);
  bytes[offset] = (bytes[offset] as number) ^ 0x01;
  fs.writeFileSync(path, bytes);
}

/** Every file of the directory and its bytes (the lock file's name included). */
function snapshot(fs: SimFS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.listSync(DIR)) out[name] = Buffer.from(fs.readFileSync(`${DIR}/${name}`)).toString("hex");
  return out;
}

describe("damage below the record the durable mark names", () => {
  it("a flipped byte in a committed record of a cleanly closed log, within the window: refused by default, nothing changed; point-in-time cuts it", async () => {
    const fs = SimFS.withDir(DIR);
    const { txStart, end } = await closedLog(fs);
    // Inside the mutation record of transaction 30 of 40, ~1 KiB before the end: well within the 1 MiB window.
    const at = txStart(30) + 25 + 30;
    expect(end - at).toBeLessThan(1024 * 1024);
    flip(fs, SEGMENT, at);
    const before = snapshot(fs);

    await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      details: { segment: SEGMENT, offset: txStart(30) + 25 },
    });
    expect(snapshot(fs)).toEqual(before);
    // A read-only reader reports what opening does.
    await expect(replayDir(DIR, { fs, codec: jsonCodec }).outcome()).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    expect(snapshot(fs)).toEqual(before);

    const { wal, events, healed } = await Wal.open<JsonValue>(DIR, {
      fs,
      codec: jsonCodec,
      recovery: "point-in-time",
    });
    expect(healed).toMatchObject([{ kind: "corruptionCut", segment: SEGMENT, offset: txStart(30) + 25 }]);
    expect(events).toEqual(Array.from({ length: 30 }, (_, i) => event(i)));
    // The cut took the bound record: the mark no longer names it, on disk for certain.
    expect((await readDurableMark(fs.durableImage(), DIR))?.binding).toBeUndefined();
    await wal.commitTx([event(30)]);
    const rebound = (await readDurableMark(fs, DIR))?.binding;
    // Transaction 30's begin (LSN 91) stayed before the cut: the new one commits at 94.
    expect(rebound).toMatchObject({ segmentId: 1, recordLsn: 94 });
    expect((rebound?.recordOffset ?? 0) + (rebound?.recordBytes ?? 0)).toBe(txStart(31) + 25);
    await wal.close();
  });

  it("the mark is carried over a reopen that writes nothing: a flip after it is still refused", async () => {
    const fs = SimFS.withDir(DIR);
    const { txStart } = await closedLog(fs);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await wal.close();
    flip(fs, SEGMENT, txStart(35) + 3);
    await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_CORRUPT" });
  });

  it("an open keeps the binding on disk: a power loss right after it, with a flip below, is still refused", async () => {
    const fs = SimFS.withDir(DIR);
    const { txStart } = await closedLog(fs);
    // The page cache wrote the mark back (it is never fsynced).
    fs.writeFileSync(MARK, fs.readFileSync(MARK));
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    const image = fs.durableImage();
    await wal.close();
    expect((await readDurableMark(image, DIR))?.binding).toMatchObject({ segmentId: 1, recordLsn: 3 * TXS });
    flip(image, SEGMENT, txStart(35) + 3);
    await expect(Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec })).rejects.toMatchObject({
      code: "WAL_CORRUPT",
    });
  });

  it("after a rotation, the binding names the new segment", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 4096 });
    for (let i = 0; i < TXS; i++) await wal.commitTx([event(i)]);
    const segments = fs.listSync(DIR).filter((name) => name.endsWith(".wal"));
    expect(segments.length).toBeGreaterThan(1);
    const newest = segmentPath(DIR, segments.length);
    const end = (await replayDir(DIR, { fs, codec: jsonCodec }).outcome()).segments.at(-1)?.endOffset ?? 0;
    expect((await readDurableMark(fs, DIR))?.binding).toMatchObject({
      segmentId: segments.length,
      recordLsn: 3 * TXS,
      recordOffset: end - 25,
    });
    expect(fs.readFileSync(newest).byteLength).toBeGreaterThanOrEqual(end);
    await wal.close();
  });

  it("a crash (no clean close) with the mark at LSN L and a flip below L: refused", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    for (let i = 0; i < TXS; i++) await wal.commitTx([event(i)]);
    // What a killed process leaves: the page cache, the mark as last written.
    const image = fs.clone();
    await wal.close();
    const mark = await readDurableMark(image, DIR);
    expect(mark).toMatchObject({ closed: false, durableLsn: 3 * TXS });
    const dataEnd = (await replayDir(DIR, { fs: image, codec: jsonCodec }).outcome()).segments[0]?.endOffset ?? 0;
    const txBytes = (dataEnd - 32) / TXS;
    expect(image.readFileSync(SEGMENT).byteLength).toBeGreaterThan(dataEnd); // the zero tail of a live segment
    flip(image, SEGMENT, 32 + 20 * txBytes + 30);
    await expect(Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec })).rejects.toMatchObject({
      code: "WAL_CORRUPT",
    });
  });

  it("a torn write above the mark's record is still cut as a torn tail", async () => {
    const fs = SimFS.withDir(DIR);
    const { end } = await closedLog(fs);
    const record = encodeRecord(
      { kind: "mutation", lsn: 3 * TXS + 1, txBeginLsn: 3 * TXS + 1, event: "y".repeat(5000) },
      jsonCodec,
    );
    const torn = new Uint8Array(end + 3000);
    torn.set(fs.readFileSync(SEGMENT));
    torn.set(record.subarray(0, 3000), end);
    fs.writeFileSync(SEGMENT, torn);
    const bound = (await readDurableMark(fs, DIR))?.binding;
    const { wal, events, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(healed).toMatchObject([{ kind: "tornTailTruncated", offset: end, droppedBytes: 3000 }]);
    expect(events).toHaveLength(TXS);
    // The cut lay past the bound record: the binding is carried over, and still checks.
    await wal.close();
    expect(bound).toMatchObject({ recordLsn: 3 * TXS, recordOffset: end - 25 });
    expect((await readDurableMark(fs, DIR))?.binding).toEqual(bound);
  });
});

describe("a mark that no longer names the bytes is ignored", () => {
  it("after our own point-in-time cut and the same transactions appended again, every crash image of an unsynced write opens by default", async () => {
    const fs = SimFS.withDir(DIR);
    const { txStart, end } = await closedLog(fs);
    const before = fs.readFileSync(SEGMENT);
    // The begin record of transaction 30: the cut leaves 30 whole transactions, and appending transactions 30..39
    // again writes the very bytes that were cut, the mark's own record among them.
    flip(fs, SEGMENT, txStart(30) + 7);
    // The page cache wrote the mark back (it is never fsynced): a power loss from now on can bring it back.
    fs.writeFileSync(MARK, fs.readFileSync(MARK));
    expect((await readDurableMark(fs, DIR))?.binding?.recordOffset).toBe(end - 25);
    // Without preallocation: small files, so thousands of crash images are cheap to make.
    const small = { fs, codec: jsonCodec, preallocateBytes: 0 } as const;
    const { wal: cut } = await Wal.open<JsonValue>(DIR, { ...small, recovery: "point-in-time" });
    await cut.close();
    let stop = false;
    const { wal } = await Wal.open<JsonValue>(
      DIR,
      withTestingHooks(
        { ...small },
        {
          failpoint: (name) => {
            if (stop && name === "commit.beforeFsync") throw new Error("power loss");
          },
        },
      ),
    );
    stop = true;
    const inFlight = Array.from({ length: TXS - 30 }, (_, i) => wal.commitTx([event(30 + i)]));
    await Promise.allSettled(inFlight);
    // The very bytes that were cut are in the file again (not fsynced), the old mark's record among them.
    expect(fs.readFileSync(SEGMENT).subarray(32, end)).toEqual(before.subarray(32, end));
    let images = 0;
    let oldBinding = 0;
    for (const { description, fs: image } of fs.crashImages({ maxImages: 4096 })) {
      images++;
      if ((await readDurableMark(image, DIR))?.binding?.recordOffset === end - 25) oldBinding++;
      // Replay applies the rules Wal.open applies (read-only, so each of the thousands of images is cheap to judge).
      const events: JsonValue[] = [];
      for await (const tx of replayDir<JsonValue>(DIR, { fs: image, codec: jsonCodec })) events.push(...tx.events);
      expect(events.slice(0, 30), description).toEqual(Array.from({ length: 30 }, (_, i) => event(i)));
    }
    expect(images).toBeGreaterThan(100);
    // The old mark's binding never comes back: the open that cut below it fsynced the mark without it.
    expect(oldBinding).toBe(0);
    // And the log opens.
    const { wal: reopened } = await Wal.open<JsonValue>(DIR, { fs: fs.durableImage(), codec: jsonCodec });
    await reopened.close();
    await wal.close().catch(() => undefined);
  });

  it("after another writer rewrote the log below it (records written by hand), a torn tail there is cut", async () => {
    const fs = SimFS.withDir(DIR);
    const { end } = await closedLog(fs);
    const markBefore = fs.readFileSync(MARK);
    // Another writer's log: 20 transactions of other events, then a record torn mid-write, all below the old end.
    const parts: Uint8Array[] = [encodeSegmentHeader({ baseLsn: 1, sealed: false })];
    let lsn = 1;
    for (let i = 0; i < 20; i++) {
      const begin = lsn;
      parts.push(encodeRecord({ kind: "txBegin", lsn: lsn++ }, jsonCodec));
      parts.push(encodeRecord({ kind: "mutation", lsn: lsn++, txBeginLsn: begin, event: `other ${i}` }, jsonCodec));
      parts.push(encodeRecord({ kind: "txCommit", lsn: lsn++, txBeginLsn: begin }, jsonCodec));
    }
    const whole = Buffer.concat(parts);
    const torn = encodeRecord({ kind: "txBegin", lsn }, jsonCodec).subarray(0, 11);
    const rewritten = Buffer.concat([whole, torn]);
    expect(rewritten.byteLength).toBeLessThan(end);
    fs.writeFileSync(SEGMENT, rewritten);
    expect(fs.readFileSync(MARK)).toEqual(markBefore);
    const { wal, events, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    expect(healed).toMatchObject([{ kind: "tornTailTruncated", offset: whole.byteLength }]);
    expect(events).toEqual(Array.from({ length: 20 }, (_, i) => `other ${i}`));
    await wal.close();
  });

  it("a zeroed, torn or missing mark: the flip is cut as a torn tail, as before", async () => {
    for (const spoil of ["zeroed", "torn", "missing"] as const) {
      const fs = SimFS.withDir(DIR);
      const { txStart, end } = await closedLog(fs);
      const mark = fs.readFileSync(MARK);
      if (spoil === "zeroed") fs.writeFileSync(MARK, new Uint8Array(mark.byteLength));
      else if (spoil === "torn") fs.writeFileSync(MARK, mark.subarray(0, mark.byteLength - 5));
      else await fs.unlink(MARK);
      flip(fs, SEGMENT, txStart(30) + 25 + 30);
      const { wal, events, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
      expect(healed, spoil).toMatchObject([
        { kind: "tornTailTruncated", offset: txStart(30) + 25, droppedBytes: end - txStart(30) - 25 },
      ]);
      expect(events, spoil).toHaveLength(30);
      await wal.close();
    }
  });
});
