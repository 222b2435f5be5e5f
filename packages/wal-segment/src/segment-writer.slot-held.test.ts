/**
 * `rewriteInPlace`, `trimZeroTail` and `seal` hold the write slot while they run, as `truncateTo` does: a write or a
 * cut called meanwhile waits for them, so nothing lands in the file between their reads, writes, cuts and flushes.
 * Before, they waited for the slot but did not take it: a cut made during a rewrite had old bytes written back past
 * its end (the cut records came back), a sync of a rewrite counted a record written beside it as synced, a zero-tail
 * cut removed a record written beside it, and a cut made while a seal ran cut the sealed segment.
 */

import { settlesWithinTurns } from "@lora/test-utils";
import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";
import { segmentLsns } from "./test-support/segment-lsns.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

/** A mutation of `bytes` payload bytes, filled with its LSN. */
function mutation(lsn: number, bytes = 100): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(bytes).fill(lsn) };
}

/** SimFS behind the held seam (no blocking twins), with records 1 and 2 flushed; `cut` is where record 1 ends. */
async function twoRecords(options: { preallocateBytes?: number } = {}) {
  const sim = SimFS.withDir("/w");
  const io = heldFileOps(sim, { blocking: false });
  const writer = await SegmentWriter.create(io.fs, PATH, 1, options);
  writer.append(mutation(1), bytesCodec);
  await writer.flush();
  const cut = writer.writtenBytes;
  writer.append(mutation(2), bytesCodec);
  await writer.flush();
  return { sim, io, writer, cut };
}

/** How many turns of the event loop a call is given to settle before it counts as waiting (SimFS needs a handful). */
const TURNS = 20;

describe("rewriteInPlace holds the write slot", () => {
  it("a cut called while it writes back waits for it: no byte comes back past the cut", async () => {
    const { sim, io, writer, cut } = await twoRecords();
    io.hold("records");
    const rewriting = writer.rewriteInPlace();
    await io.untilHeld("records"); // the write-back of the whole file, read before the cut
    const truncating = writer.truncateTo(cut);
    expect(await settlesWithinTurns(truncating, TURNS)).toBe(false);
    io.release("records");
    await Promise.all([rewriting, truncating]);
    expect(writer.writtenBytes).toBe(cut);
    expect(sim.readFileSync(PATH).byteLength).toBe(cut);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1], end: "end" });
    await writer.close();
  });

  it("a record written while its fdatasync runs is not counted synced", async () => {
    const { sim, io, writer } = await twoRecords();
    io.hold("datasync");
    const rewriting = writer.rewriteInPlace();
    await io.untilHeld("datasync");
    writer.append(mutation(3), bytesCodec);
    const writing = writer.write();
    expect(await settlesWithinTurns(writing, TURNS)).toBe(false);
    io.release("datasync");
    await Promise.all([rewriting, writing]);
    // Written after the rewrite's fdatasync: not covered by it.
    expect(writer.unsyncedBytes).toBeGreaterThan(0);
    await writer.flush();
    expect(writer.unsyncedBytes).toBe(0);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
    await writer.close();
  });
});

describe("trimZeroTail holds the write slot", () => {
  it("a record written while it cuts the zeros off lands after the cut, not under it", async () => {
    const { sim, io, writer } = await twoRecords({ preallocateBytes: 64 * 1024 });
    io.hold("truncate");
    const trimming = writer.trimZeroTail();
    await io.untilHeld("truncate");
    writer.append(mutation(3), bytesCodec);
    const writing = writer.write();
    expect(await settlesWithinTurns(writing, TURNS)).toBe(false);
    io.release("truncate");
    await Promise.all([trimming, writing]);
    await writer.sync();
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
    await writer.close(); // cuts the zeros the write filled ahead of itself
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
  });
});

describe("seal holds the write slot", () => {
  it("a cut called while the sealed header is written waits for it and is refused: the sealed file is unchanged", async () => {
    const { sim, io, writer, cut } = await twoRecords({ preallocateBytes: 64 * 1024 });
    io.hold("truncate"); // the zero tail's cut, in the header phase
    const sealing = writer.seal();
    await io.untilHeld("truncate");
    const truncating = writer.truncateTo(cut);
    truncating.catch(() => undefined);
    io.release("truncate");
    await sealing;
    await expect(truncating).rejects.toMatchObject({ name: "WalError", code: "WAL_SEGMENT_SEALED" });
    expect(writer.failure).toBeUndefined();
    const sealed = sim.readFileSync(PATH);
    await writer.close();
    expect(sim.readFileSync(PATH)).toEqual(sealed);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
    expect(sealed.byteLength).toBe(writer.writtenBytes);
  });

  it("an append made while the seal runs is refused: no record is written, or cut away, beside the seal", async () => {
    const { sim, io, writer } = await twoRecords({ preallocateBytes: 64 * 1024 });
    io.hold("truncate");
    const sealing = writer.seal();
    await io.untilHeld("truncate");
    expect(() => writer.append(mutation(3), bytesCodec)).toThrow(
      expect.objectContaining({ code: "WAL_SEGMENT_SEALED" }),
    );
    expect(writer.pendingBytes).toBe(0);
    io.release("truncate");
    await sealing;
    await writer.write();
    await writer.close();
    expect(sim.readFileSync(PATH).byteLength).toBe(writer.writtenBytes);
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
  });

  it("two seals called together seal once, the second after the first", async () => {
    const { sim, io, writer } = await twoRecords({ preallocateBytes: 64 * 1024 });
    await Promise.all([writer.seal(), writer.seal()]);
    expect(writer.sealed).toBe(true);
    expect(io.log.filter((entry) => entry.startsWith("truncate"))).toHaveLength(1);
    await writer.close();
    await expect(segmentLsns(sim, PATH)).resolves.toEqual({ lsns: [1, 2], end: "end" });
  });
});
