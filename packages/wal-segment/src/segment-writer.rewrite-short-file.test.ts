/**
 * `SegmentWriter.rewriteInPlace` on a file cut shorter than the writer's end by something else (another process, a
 * tool): the bytes it cannot read back are not on disk, so it must not resolve as if they were durable (recovery
 * takes that to mean what replay read is). It used to stop at the end and resolve, and the next flush put an
 * acknowledged record after 42 zero bytes, behind a cut record: damage followed by a valid record. It refuses with
 * `WAL_IO` ("unexpected end", as the archiver names a segment shorter than it should be), and the writer is failed
 * with that error, so nothing is appended after the hole.
 */

import { bytesCodec, isWalError } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { SegmentWriter } from "./segment-writer.js";
import { SimFS } from "./testing/sim-fs.js";

const PATH = "/w/0000000001.wal";

/** A segment of two 25-byte records (82 bytes), reopened for append at its end, as recovery does. */
async function reopened(): Promise<{ fs: SimFS; writer: SegmentWriter }> {
  const fs = SimFS.withDir("/w");
  const first = await SegmentWriter.create(fs, PATH, 1);
  first.append({ kind: "txBegin", lsn: 1 }, bytesCodec);
  first.append({ kind: "txCommit", lsn: 2, txBeginLsn: 1 }, bytesCodec);
  await first.flush();
  await first.close();
  return { fs, writer: await SegmentWriter.openForAppend(fs, PATH, 82) };
}

describe("SegmentWriter.rewriteInPlace on a file shorter than written", () => {
  it("refuses with WAL_IO naming where the file ends, and appends nothing after the hole", async () => {
    const { fs, writer } = await reopened();
    const other = await fs.open(PATH, "readWrite");
    await other.truncate(40); // cut mid-way through the first record, behind the writer's back, durably
    await other.sync();
    await other.close();

    const failure = await writer.rewriteInPlace({ chunkBytes: 16 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isWalError(failure, "WAL_IO")).toBe(true);
    expect((failure as Error).message).toContain(`unexpected end of ${PATH} at 40 (wanted 82)`);
    expect((failure as { details: object }).details).toMatchObject({ path: PATH, offset: 40 });
    // Failed with that error: no record is appended after the 42 missing bytes.
    writer.append({ kind: "txBegin", lsn: 3 }, bytesCodec);
    await expect(writer.flush()).rejects.toBe(failure);
    await writer.discardAndClose();
    expect(fs.durableImage().readFileSync(PATH).byteLength).toBe(40);
  });

  it("a file as long as written is rewritten and synced whole", async () => {
    const { fs, writer } = await reopened();
    await writer.rewriteInPlace({ chunkBytes: 16 });
    expect(writer.unsyncedBytes).toBe(0);
    await writer.discardAndClose();
    expect(fs.durableImage().readFileSync(PATH).byteLength).toBe(82);
  });
});
