/**
 * Replay reads the directory's durable mark before it calls damage in the last unsynced window a torn tail: damage
 * before the end of the record the mark binds to, when that record reads back whole, is corruption. A binding that
 * does not check (other bytes there, a segment gone or short, a hostile length) is ignored, at the cost of one
 * bounded read.
 */

import { jsonCodec } from "@lora/wal-codec";
import {
  type DurableBinding,
  DurableMarkWriter,
  encodeDurableMark,
  SegmentWriter,
  segmentPath,
} from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { checkedDurableBinding } from "./durable-binding.js";
import { replayDir, replaySegments } from "./replay.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);
const MARK = `${DIR}/.lora-wal.durable`;

/** 10 committed transactions, fsynced, and a closed mark bound to the last record; returns that binding. */
async function boundLog(fs: SimFS): Promise<DurableBinding> {
  const writer = await SegmentWriter.create(fs, SEGMENT, 1);
  for (let i = 0; i < 10; i++) writer.appendCommitTx(1 + 3 * i, [`event ${i}`], jsonCodec);
  await writer.flush();
  const last = writer.lastWrittenRecord;
  await writer.close();
  if (last === undefined) throw new Error("no record");
  const binding = {
    segmentId: 1,
    recordOffset: last.offset,
    recordBytes: last.bytes,
    recordLsn: last.lsn,
    recordCrc: last.crc,
  };
  const mark = await DurableMarkWriter.open(fs, DIR, 1);
  mark.publish(30, false, binding);
  await mark.close(30);
  return binding;
}

function flip(fs: SimFS, at: number): void {
  const bytes = fs.readFileSync(SEGMENT);
  bytes[at] = (bytes[at] as number) ^ 0x20;
  fs.writeFileSync(SEGMENT, bytes);
}

const outcomeOf = (fs: SimFS, options: { recovery?: "point-in-time"; durableMarkDir?: string } = {}) =>
  replayDir(DIR, { fs, codec: jsonCodec, ...options }).outcome();

describe("replay and the durable mark's binding", () => {
  it("damage below the bound record is corruption; past it, or with no binding, a torn tail", async () => {
    const fs = SimFS.withDir(DIR);
    const binding = await boundLog(fs);
    expect(await checkedDurableBinding(fs, DIR)).toEqual(binding);
    const clean = fs.readFileSync(SEGMENT);
    flip(fs, 200);
    await expect(outcomeOf(fs)).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      message: expect.stringContaining("the durable mark's record (lsn 30"),
    });
    const pit = await outcomeOf(fs, { recovery: "point-in-time" });
    expect(pit.corruption?.offset).toBeLessThanOrEqual(200);
    expect(pit.tornTail).toBeNull();
    // Files given one by one have no mark, unless their directory is named.
    expect((await replaySegments([SEGMENT], { fs, codec: jsonCodec }).outcome()).tornTail).not.toBeNull();
    await expect(
      replaySegments([SEGMENT], { fs, codec: jsonCodec, durableMarkDir: DIR }).outcome(),
    ).rejects.toMatchObject({ code: "WAL_CORRUPT" });

    // A torn write after the bound record: still a torn tail.
    const torn = new Uint8Array(clean.byteLength + 11);
    torn.set(clean);
    torn.set([0x19, 0, 0, 0, 2, 31], clean.byteLength);
    fs.writeFileSync(SEGMENT, torn);
    expect((await outcomeOf(fs)).tornTail).toMatchObject({ offset: clean.byteLength, droppedBytes: 11 });
  });

  it("a binding whose record does not read back as it says is ignored: the flip is a torn tail", async () => {
    const fs = SimFS.withDir(DIR);
    const binding = await boundLog(fs);
    const size = fs.readFileSync(SEGMENT).byteLength;
    const variants: Partial<DurableBinding>[] = [
      { recordCrc: (binding.recordCrc + 1) >>> 0 },
      { recordLsn: binding.recordLsn + 1 },
      { recordOffset: binding.recordOffset - 1 },
      { recordBytes: 26 },
      { recordBytes: 0xffff_ffff }, // hostile: refused before anything is allocated for it
      { recordOffset: size, recordBytes: 25 }, // past the end
      { recordOffset: 0 },
      { segmentId: 2 }, // no such segment
    ];
    flip(fs, 200);
    for (const change of variants) {
      fs.writeFileSync(
        MARK,
        encodeDurableMark({
          session: 5,
          durableLsn: 30,
          closed: true,
          sessionStartLsn: 1,
          binding: { ...binding, ...change },
        }),
      );
      expect(await checkedDurableBinding(fs, DIR), JSON.stringify(change)).toBeUndefined();
      expect((await outcomeOf(fs)).tornTail, JSON.stringify(change)).not.toBeNull();
    }
  });

  it("the bound record's own bytes damaged: the binding does not check, and the flip is a torn tail", async () => {
    // In its LSN field, and in its begin LSN (a byte only the record's CRC covers).
    for (const into of [10, 15]) {
      const fs = SimFS.withDir(DIR);
      const binding = await boundLog(fs);
      flip(fs, binding.recordOffset + into);
      expect(await checkedDurableBinding(fs, DIR), `byte ${into}`).toBeUndefined();
      expect((await outcomeOf(fs)).tornTail, `byte ${into}`).toMatchObject({ offset: binding.recordOffset });
    }
  });
});
