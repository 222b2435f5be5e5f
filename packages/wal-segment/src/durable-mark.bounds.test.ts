/**
 * The durable mark at its bounds: a u64 field of 2^53 or more reads as no mark (or no binding), never as an unsafe
 * number; a publish of the LSN already published changes nothing, a close with a lower final LSN never lowers the
 * mark; settling a mark without a binding neither cuts nor fsyncs it; a reader whose open raced a removal looks
 * again at its next read.
 */

import { crc32, WalError } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import {
  DURABLE_MARK_BYTES,
  DURABLE_MARK_FILE,
  type DurableBinding,
  DurableMarkReader,
  DurableMarkWriter,
  decodeDurableMark,
  encodeDurableMark,
  readDurableMark,
  settleDurableBinding,
} from "./durable-mark.js";
import { SimFS } from "./testing/sim-fs.js";
import { interceptOpen } from "./testing/wrapped-fs.js";

const DIR = "/w";
const MARK = `${DIR}/${DURABLE_MARK_FILE}`;
const binding = (recordLsn: number): DurableBinding => ({
  segmentId: 1,
  recordOffset: 64,
  recordBytes: 30,
  recordLsn,
  recordCrc: 0x1234_5678,
});

/** `bytes` with the version 2 mark's CRC (and the binding's, when there is one) summed again. */
function resummed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  view.setUint32(36, crc32(out.subarray(0, 36)), true);
  if (out.byteLength >= 76) {
    const scratch = out.slice(0, 72);
    new DataView(scratch.buffer).setUint32(36, 0, true);
    view.setUint32(72, crc32(scratch), true);
  }
  return out;
}

describe("durable mark bounds", () => {
  it("a u64 field of exactly 2^53 reads as no mark; 2^53 - 1 reads back", () => {
    const top = { session: 1, durableLsn: Number.MAX_SAFE_INTEGER, closed: false, sessionStartLsn: 0 };
    expect(decodeDurableMark(encodeDurableMark(top))).toEqual(top);
    for (const at of [8, 16, 24]) {
      const bytes = encodeDurableMark({ ...top, durableLsn: 1 });
      const view = new DataView(bytes.buffer);
      view.setUint32(at, 0, true);
      view.setUint32(at + 4, 0x20_0000, true); // 2^53
      expect(decodeDurableMark(resummed(bytes)), `field at ${at}`).toBeNull();
    }
  });

  it("a binding field of exactly 2^53 reads as no binding, the mark still read", () => {
    const mark = { session: 1, durableLsn: 9, closed: false, sessionStartLsn: 0 };
    const bytes = encodeDurableMark({ ...mark, binding: binding(Number.MAX_SAFE_INTEGER) });
    expect(decodeDurableMark(bytes)?.binding?.recordLsn).toBe(Number.MAX_SAFE_INTEGER);
    for (const at of [40, 48, 56]) {
      const bad = bytes.slice();
      const view = new DataView(bad.buffer);
      view.setUint32(at, 0, true);
      view.setUint32(at + 4, 0x20_0000, true);
      expect(decodeDurableMark(resummed(bad)), `field at ${at}`).toEqual(mark);
    }
  });

  it("publishing the LSN already published changes nothing, not even the binding", async () => {
    const fs = SimFS.withDir(DIR);
    const writer = await DurableMarkWriter.open(fs, DIR, 1);
    writer.publish(5, false, binding(5));
    const writes = fs.stats.writes;
    writer.publish(5, false, binding(4));
    expect(fs.stats.writes).toBe(writes);
    expect((await readDurableMark(fs, DIR))?.binding).toEqual(binding(5));
    await writer.abandon();
  });

  it("a close with a final LSN below the one published keeps the higher one, marked closed", async () => {
    const fs = SimFS.withDir(DIR);
    const writer = await DurableMarkWriter.open(fs, DIR, 1);
    writer.publish(10);
    await writer.close(7);
    expect(await readDurableMark(fs, DIR)).toEqual({
      session: writer.session,
      durableLsn: 10,
      closed: true,
      sessionStartLsn: 1,
    });
  });

  it("settling a mark of exactly 40 bytes cuts nothing and fsyncs nothing", async () => {
    const fs = SimFS.withDir(DIR);
    fs.writeFileSync(MARK, encodeDurableMark({ session: 3, durableLsn: 4, closed: true, sessionStartLsn: 1 }));
    expect(fs.readFileSync(MARK).byteLength).toBe(DURABLE_MARK_BYTES);
    const before = { ...fs.stats };
    expect(await settleDurableBinding(fs, DIR, () => Promise.reject(new Error("asked")))).toBeUndefined();
    expect([fs.stats.truncates - before.truncates, fs.stats.syncs - before.syncs]).toEqual([0, 0]);
  });

  it("a reader whose open found the mark gone (removed after its stat) looks again at its next read", async () => {
    const fs = SimFS.withDir(DIR);
    const writer = await DurableMarkWriter.open(fs, DIR, 1);
    writer.publish(6);
    let refuse = true;
    const seam = interceptOpen(fs, (path, mode, next) => {
      if (!refuse || !path.endsWith(DURABLE_MARK_FILE)) return next(path, mode);
      refuse = false;
      return Promise.reject(new WalError("WAL_IO", `open ${path}: ENOENT`, { details: { errno: "ENOENT", path } }));
    });
    const reader = new DurableMarkReader(seam, DIR);
    expect(await reader.read()).toBeNull();
    expect((await reader.read())?.durableLsn).toBe(6);
    await reader.close();
    await writer.close(6);
  });
});
