/**
 * The flushes of a torn-tail heal at open: the copy and the directory side by side, then one full fsync of the
 * segment that covers both the cut and the rewrite before appends resume; and a crash at any step of it loses
 * neither a commit nor the torn bytes.
 */

import { basename } from "node:path";
import { encodeRecord, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { SimFS, type SimOperationEvent } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

const DIR = "/w";
const SEGMENT = segmentPath(DIR, 1);

/** A log of two commits whose segment ends in a torn record (its end never landed); the torn bytes come back. */
async function tornLog(): Promise<{ fs: SimFS; tail: Uint8Array; offset: number }> {
  const fs = SimFS.withDir(DIR);
  const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
  await wal.commitTx(["a"]);
  await wal.commitTx(["b"]);
  await wal.close();
  const before = fs.readFileSync(SEGMENT);
  const record = encodeRecord({ kind: "mutation", lsn: 7, txBeginLsn: 7, event: "x".repeat(5000) }, jsonCodec);
  const tail = record.subarray(0, 3000);
  const torn = new Uint8Array(before.byteLength + tail.byteLength);
  torn.set(before);
  torn.set(tail, before.byteLength);
  fs.writeFileSync(SEGMENT, torn);
  return { fs, tail, offset: before.byteLength };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

describe("a torn-tail heal at open", () => {
  it("flushes the segment once, with a full fsync after the cut, and the directory once, beside the copy", async () => {
    const { fs } = await tornLog();
    const ops: SimOperationEvent[] = [];
    const stop = fs.onOperation((e) => ops.push(e));
    const { wal, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    stop();
    expect(healed.map((h) => h.kind)).toEqual(["tornTailTruncated"]);
    const flushes = (path: string) =>
      ops.filter((e) => e.path === path && (e.op === "sync" || e.op === "datasync" || e.op === "syncDir"));
    const cut = ops.findIndex((e) => e.op === "truncate" && e.path === SEGMENT);
    const copySynced = ops.findIndex((e) => e.op === "sync" && e.path.endsWith(".broken"));
    const dirSynced = ops.findIndex((e) => e.op === "syncDir" && e.path === DIR);
    expect(copySynced).toBeGreaterThanOrEqual(0);
    expect(dirSynced).toBeGreaterThanOrEqual(0);
    expect(cut).toBeGreaterThan(Math.max(copySynced, dirSynced));
    // One flush of the segment, after the cut, and a full fsync: POSIX promises an fdatasync only the metadata
    // needed to read the data back, which a shrunk size need not be.
    expect(flushes(SEGMENT).map((e) => e.op)).toEqual(["sync"]);
    expect(flushes(SEGMENT)[0]?.seq).toBeGreaterThan(ops[cut]?.seq ?? Number.POSITIVE_INFINITY);
    // The directory's fsync beside the copy already covers the segment's entry: no second one before appends.
    expect(flushes(DIR)).toHaveLength(1);
    expect(fs.durableImage().readFileSync(SEGMENT)).toEqual(fs.readFileSync(SEGMENT));
    await wal.close();
  });

  it("a clean open flushes the active segment with an fdatasync and the directory once", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal: first } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    await first.commitTx(["a"]);
    await first.close();
    const ops: SimOperationEvent[] = [];
    const stop = fs.onOperation((e) => ops.push(e));
    const { wal, healed } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    stop();
    expect(healed).toEqual([]);
    const flushOps = ops.filter((e) => e.op === "sync" || e.op === "datasync" || e.op === "syncDir");
    expect(flushOps.map((e) => `${e.op} ${e.path}`)).toEqual([`datasync ${SEGMENT}`, `syncDir ${DIR}`]);
    await wal.close();
  });

  it("a cut of a sealed segment (point-in-time) is fsynced on its own, after the later segments' moves are durable", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal: first } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, segmentTargetBytes: 4096 });
    for (let i = 0; i < 300; i++) await first.commitTx([`event ${i} ${"x".repeat(40)}`]);
    await first.close();
    expect(fs.listSync(DIR).filter((n) => n.endsWith(".wal")).length).toBeGreaterThan(3);
    // A flipped byte in the middle of the first segment, which is sealed: corruption, not a torn tail.
    const bytes = fs.readFileSync(SEGMENT);
    bytes[2000] = (bytes[2000] as number) ^ 0xff;
    fs.writeFileSync(SEGMENT, bytes);
    const ops: SimOperationEvent[] = [];
    const stop = fs.onOperation((e) => ops.push(e));
    const { wal, healed } = await Wal.open<JsonValue>(DIR, {
      fs,
      codec: jsonCodec,
      recovery: "point-in-time",
      unsyncedWindowBytes: 4096,
    });
    stop();
    expect(healed.map((h) => h.kind)).toEqual(["corruptionCut", "sealedSegmentSucceeded"]);
    const cut = ops.findIndex((e) => e.op === "truncate" && e.path === SEGMENT);
    const lastMove = ops.findLastIndex((e) => e.op === "rename");
    const dirSyncAfterMoves = ops.findIndex((e, i) => i > lastMove && e.op === "syncDir" && e.path === DIR);
    expect(lastMove).toBeGreaterThanOrEqual(0);
    expect(dirSyncAfterMoves).toBeGreaterThan(lastMove);
    expect(cut).toBeGreaterThan(dirSyncAfterMoves);
    // The cut segment is not opened for appends: its own fsync follows the cut, a full one.
    const nextFlush = ops.find((e, i) => i > cut && e.path === SEGMENT && (e.op === "sync" || e.op === "datasync"));
    expect(nextFlush?.op).toBe("sync");
    expect(fs.durableImage().readFileSync(SEGMENT)).toEqual(fs.readFileSync(SEGMENT));
    await wal.close();
  });

  it("a crash at any step of the heal keeps every commit, and the torn bytes in the segment or in a whole copy", async () => {
    const { fs, tail, offset } = await tornLog();
    const images: { description: string; fs: SimFS }[] = [];
    const stop = fs.onOperation((e) => {
      for (const image of fs.crashImages({ maxImages: 16, seed: e.seq })) {
        images.push({ description: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs });
      }
    });
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec });
    stop();
    await wal.commitTx(["c"]);
    await wal.close();
    expect(images.length).toBeGreaterThan(10);
    const copy = `${SEGMENT}.${offset}.broken`;
    let stillTorn = 0;
    let copied = 0;
    for (const { description, fs: image } of images) {
      const segment = image.readFileSync(SEGMENT);
      const inSegment = segment.byteLength === offset + tail.byteLength && same(segment.subarray(offset), tail);
      const inCopy = image.listSync(DIR).includes(basename(copy)) && same(image.readFileSync(copy), tail);
      expect(inSegment || inCopy, description).toBe(true);
      if (inSegment) stillTorn++;
      else copied++;
      const { wal: reopened, events } = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec });
      expect(events, description).toEqual(["a", "b"]);
      await reopened.commitTx(["d"]);
      await reopened.close();
      const { wal: again, events: after, healed } = await Wal.open<JsonValue>(DIR, { fs: image, codec: jsonCodec });
      expect(after, description).toEqual(["a", "b", "d"]);
      expect(healed, description).toEqual([]);
      await again.close();
    }
    // Both sides of the cut were reached: images taken before it and after it.
    expect(stillTorn).toBeGreaterThan(0);
    expect(copied).toBeGreaterThan(0);
  });
});
