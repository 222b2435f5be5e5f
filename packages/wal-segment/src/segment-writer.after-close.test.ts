/**
 * From the call of `close()` on, the writer takes no new work: a call that would append, write, sync, cut, rewrite or
 * seal is refused with `WAL_CLOSED` and changes nothing, even while close's own last write is still under way (close
 * only writes what was appended before its call). Before, a `seal()`, `truncateTo()`, `rewriteInPlace()` or
 * `trimZeroTail()` called in that window took the write slot after close's write and ran (the segment sealed, or
 * cut), a `sync()` fdatasynced, and an `append()` was written by close (and, once close had resolved, was accepted
 * into a buffer nothing would write).
 */

import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentWriter, type SegmentWriterOptions } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";
import { segmentLsns } from "./test-support/segment-lsns.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

/** A mutation of 100 payload bytes, filled with its LSN. */
function mutation(lsn: number): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(100).fill(lsn) };
}

/**
 * A zero-filling writer with record 1 flushed and record 2 pending, closed with its last write (record 2's) held.
 * `cut` is where record 1 ends; `logged` is the seam's log length when close was called.
 */
async function closingWithWriteHeld() {
  const sim = SimFS.withDir("/w");
  const io = heldFileOps(sim);
  const writer = await SegmentWriter.create(io.fs, PATH, 1, { preallocateBytes: 64 * 1024 });
  writer.append(mutation(1), bytesCodec);
  await writer.flush();
  const cut = writer.writtenBytes;
  writer.append(mutation(2), bytesCodec);
  io.hold("records");
  const logged = io.log.length;
  const closing = writer.close();
  await io.untilHeld("records");
  return { sim, io, writer, cut, logged, closing };
}

/** A call made after close(), and how it is refused: rejected (the promise) or thrown (a synchronous call). */
const CALLS: Record<string, (writer: SegmentWriter, cut: number) => Promise<unknown> | unknown> = {
  seal: (writer) => writer.seal(),
  truncateTo: (writer, cut) => writer.truncateTo(cut),
  rewriteInPlace: (writer) => writer.rewriteInPlace(),
  trimZeroTail: (writer) => writer.trimZeroTail(),
  write: (writer) => writer.write(),
  flush: (writer) => writer.flush(),
  sync: (writer) => writer.sync(),
  syncNow: (writer) => writer.syncNow(),
  writeNow: (writer) => writer.writeNow(),
  append: (writer) => writer.append(mutation(3), bytesCodec),
  appendCommitTx: (writer) => writer.appendCommitTx(3, [Uint8Array.of(3)], bytesCodec),
};

/** The outcome of `call`: `WAL_CLOSED` when it was refused so (thrown or rejected), else what happened. */
async function refusal(call: () => Promise<unknown> | unknown): Promise<string> {
  try {
    const result = await call();
    return `ran (${String(result)})`;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe("a call made after close(), while close's last write is under way", () => {
  for (const [name, call] of Object.entries(CALLS)) {
    it(`${name}: refused with WAL_CLOSED, and the file is what close alone leaves`, async () => {
      const { sim, io, writer, cut, logged, closing } = await closingWithWriteHeld();
      const outcome = refusal(() => call(writer, cut));
      io.release();
      expect(await outcome).toBe("WAL_CLOSED");
      await closing;
      expect(writer.pendingBytes).toBe(0);
      expect(writer.sealed).toBe(false);
      // Close's last write, then its cut of the zeros ahead: nothing else reached the file.
      expect(io.log.slice(logged)).toEqual(["records 157..282", "truncate 282"]);
      expect(sim.readFileSync(PATH).byteLength).toBe(282);
      await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
    });
  }
});

describe("a call made after close() has resolved", () => {
  for (const [name, call] of Object.entries(CALLS)) {
    it(`${name}: refused with WAL_CLOSED`, async () => {
      const { sim, io, writer, cut, closing } = await closingWithWriteHeld();
      io.release();
      await closing;
      const before = sim.readFileSync(PATH);
      expect(await refusal(() => call(writer, cut))).toBe("WAL_CLOSED");
      expect(writer.pendingBytes).toBe(0);
      expect(sim.readFileSync(PATH)).toEqual(before);
    });
  }
});

/** A writer (with `options`) whose write of record 1 is held in flight: calls made now wait for their turn. */
async function writerWithWriteHeld(options: SegmentWriterOptions) {
  const sim = SimFS.withDir("/w");
  const io = heldFileOps(sim);
  const writer = await SegmentWriter.create(io.fs, PATH, 1, options);
  writer.append(mutation(1), bytesCodec);
  io.hold("records");
  const writing = writer.write();
  await io.untilHeld("records");
  return { sim, io, writer, writing };
}

describe("a call made before close()", () => {
  it("a seal called before close runs first: the segment is sealed, close writes nothing more", async () => {
    const { sim, io, writer, writing } = await writerWithWriteHeld({ preallocateBytes: 64 * 1024 });
    writer.append(mutation(2), bytesCodec);
    const sealing = writer.seal();
    const closing = writer.close();
    io.release();
    await Promise.all([writing, sealing, closing]);
    expect(writer.sealed).toBe(true);
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
  });

  it("a cut waiting for its turn runs before close's last write, which writes what was appended after the cut's call", async () => {
    const sim = SimFS.withDir("/w");
    const io = heldFileOps(sim);
    const writer = await SegmentWriter.create(io.fs, PATH, 1);
    writer.append(mutation(1), bytesCodec);
    await writer.flush();
    const cut = writer.writtenBytes;
    writer.append(mutation(2), bytesCodec);
    io.hold("records");
    const writing = writer.write();
    await io.untilHeld("records");
    const truncating = writer.truncateTo(cut);
    writer.append(mutation(3), bytesCodec);
    const closing = writer.close();
    io.release();
    await Promise.all([writing, truncating, closing]);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 3], end: "end" });
  });

  it("discardAndClose refuses a seal still waiting for its turn: nothing is sealed or written", async () => {
    const { sim, io, writer, writing } = await writerWithWriteHeld({});
    writer.append(mutation(2), bytesCodec);
    const sealing = writer.seal();
    sealing.catch(() => undefined);
    const closing = writer.discardAndClose();
    io.release();
    await writing;
    await expect(sealing).rejects.toMatchObject({ code: "WAL_CLOSED" });
    await closing;
    expect(writer.sealed).toBe(false);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1], end: "end" });
  });
});
