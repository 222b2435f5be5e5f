/**
 * `truncateTo` on a writer that may not be cut is refused and changes nothing on disk: a sealed writer (or one whose
 * `seal()` was called before the cut) with `WAL_SEGMENT_SEALED`, as `append` and `openForAppend` refuse a sealed
 * segment (it cut the sealed segment's records); a closed one with `WAL_CLOSED`; a failed one with its first failure.
 * Real files.
 */

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, type WalRecord } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createNodeFileSystem } from "./fs/node-file-system.js";
import { SegmentWriter } from "./segment-writer.js";
import { heldFileOps } from "./test-support/held-file-ops.js";
import { segmentLsns } from "./test-support/segment-lsns.js";

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-trunc-refused-"));
  path = join(dir, "0000000001.wal");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function mutation(lsn: number): WalRecord<Uint8Array> {
  return { kind: "mutation", lsn, txBeginLsn: 1, event: new Uint8Array(100).fill(lsn) };
}

/** Records 1 and 2 flushed over `fs`; `cut` is where record 1 ends. */
async function twoRecords(fs = createNodeFileSystem()) {
  const writer = await SegmentWriter.create(fs, path, 1);
  writer.append(mutation(1), bytesCodec);
  await writer.flush();
  const cut = writer.writtenBytes;
  writer.append(mutation(2), bytesCodec);
  await writer.flush();
  return { fs, writer, cut };
}

describe("truncateTo refuses a writer it may not cut, changing nothing on disk", () => {
  it("a sealed writer: WAL_SEGMENT_SEALED", async () => {
    const { fs, writer, cut } = await twoRecords();
    await writer.seal();
    const sealed = await readFile(path);
    await expect(writer.truncateTo(cut)).rejects.toMatchObject({ name: "WalError", code: "WAL_SEGMENT_SEALED" });
    expect(writer.failure).toBeUndefined();
    expect(writer.writtenBytes).toBe(sealed.byteLength);
    await writer.close();
    expect(await readFile(path)).toEqual(sealed);
    await expect(segmentLsns(fs, path)).resolves.toEqual({ lsns: [1, 2], end: "end" });
  });

  it("a writer whose seal was called before the cut: WAL_SEGMENT_SEALED at once, and the seal writes every record", async () => {
    const { fs, writer, cut } = await twoRecords();
    writer.append(mutation(3), bytesCodec);
    const sealing = writer.seal();
    await expect(writer.truncateTo(cut)).rejects.toMatchObject({ code: "WAL_SEGMENT_SEALED" });
    await sealing;
    await writer.close();
    await expect(segmentLsns(fs, path)).resolves.toEqual({ lsns: [1, 2, 3], end: "end" });
  });

  it("a cut called before seal runs first, and the seal after it", async () => {
    const { fs, writer, cut } = await twoRecords();
    const truncating = writer.truncateTo(cut);
    writer.append(mutation(3), bytesCodec); // after the cut's call: after the cut
    await Promise.all([truncating, writer.seal()]);
    await writer.close();
    await expect(segmentLsns(fs, path)).resolves.toEqual({ lsns: [1, 3], end: "end" });
  });

  it("a closed writer: WAL_CLOSED", async () => {
    const { writer, cut } = await twoRecords();
    await writer.close();
    const before = await readFile(path);
    await expect(writer.truncateTo(cut)).rejects.toMatchObject({ code: "WAL_CLOSED" });
    expect(await readFile(path)).toEqual(before);
  });

  it("a failed writer: its first failure", async () => {
    const io = heldFileOps(createNodeFileSystem());
    const { writer, cut } = await twoRecords(io.fs);
    io.failing("datasync", () => Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    writer.append(mutation(3), bytesCodec);
    const failure = await writer.flush().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).not.toBeNull();
    const before = await readFile(path);
    await expect(writer.truncateTo(cut)).rejects.toBe(failure);
    expect(await readFile(path)).toEqual(before);
    await writer.discardAndClose();
    expect(await readFile(path)).toEqual(before);
  });
});
