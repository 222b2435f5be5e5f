import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesCodec, encodeRecord, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { flipBit, type Rec, tx, writeSegment } from "../test/build-log.js";
import { replayDir } from "./replay.js";
import type { ReplayOptions } from "./replay-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-replay-record-end-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function outcomeOf(options: Partial<ReplayOptions<JsonValue>>) {
  const replay = replayDir(dir, { codec: jsonCodec, ...options });
  for await (const _ of replay) {
    // Only the outcome matters.
  }
  return replay.outcome();
}

const bytesOf = (records: readonly Rec[]) => records.reduce((n, r) => n + encodeRecord(r, jsonCodec).byteLength, 0);

/*
 * A damaged record whose header is intact reaches, by its own length, to its end. When that end lies within the
 * unsynced window the damage may be a torn write, whatever follows it; only its first byte lying before the window
 * does not make it corruption.
 */
describe("a damaged record that starts before the unsynced window", () => {
  it("is a torn tail in the middle of a segment (its LSN follows the last one read)", async () => {
    const before = tx(1, ["a"]);
    const damaged = tx(4, ["x".repeat(2000)]);
    const path = await writeSegment(dir, 1, 1, [...before, ...damaged, ...tx(7, ["c"])]);
    // The batch record at lsn 5: its header stays intact, a bit of its payload flips.
    const start = SEGMENT_HEADER_BYTES + bytesOf(before) + bytesOf(damaged.slice(0, 1));
    const length = bytesOf(damaged.slice(1, 2));
    await flipBit(path, start + 40);
    const size = (await stat(path)).size;
    // The window starts 100 bytes into the damaged record: its end lies inside, its start before.
    const outcome = await outcomeOf({ unsyncedWindowBytes: size - (start + 100) });
    expect(start + length).toBeGreaterThan(start + 100);
    expect(outcome.corruption).toBeNull();
    expect(outcome.tornTail).toMatchObject({ offset: start, droppedBytes: size - start });
    expect(outcome.committedTransactions).toBe(1);
  });

  it("is corruption when its last byte lies just before the window, a torn tail when it lies in it", async () => {
    const first = tx(1, ["a"]);
    const path = await writeSegment(dir, 1, 1, [...first, ...tx(4, ["b"]), ...tx(7, ["c"])]);
    const start = SEGMENT_HEADER_BYTES + bytesOf(first.slice(0, 1));
    const end = start + bytesOf(first.slice(1, 2));
    await flipBit(path, start + 25); // past the header of the batch at lsn 2, followed by intact markers
    const size = (await stat(path)).size;
    // The window is the last `unsyncedWindowBytes` bytes of data: [size - window, size).
    await expect(outcomeOf({ unsyncedWindowBytes: size - end })).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    const torn = await outcomeOf({ unsyncedWindowBytes: size - end + 1 });
    expect(torn.tornTail).toMatchObject({ offset: start });
    expect(torn.corruption).toBeNull();
  });

  it("is a torn tail as a segment's first record (its LSN is the segment's base, not the last read plus one)", async () => {
    // The log starts at lsn 10 (truncated below the fence 9): the first record's LSN is 10, though none was read.
    const records = [...tx(10, ["y".repeat(2000)]), ...tx(13, ["c"])];
    const path = await writeSegment(dir, 1, 10, records);
    const length = bytesOf(records.slice(0, 1));
    await flipBit(path, SEGMENT_HEADER_BYTES + 22); // in the txBegin's CRC: its length, kind and LSN stay intact
    const size = (await stat(path)).size;
    // The window starts past the 13 header bytes an implausible header would reach through, before the record's end.
    const outcome = await outcomeOf({ checkpointLsn: 9, unsyncedWindowBytes: size - (SEGMENT_HEADER_BYTES + 20) });
    expect(length).toBeGreaterThan(20);
    expect(outcome.corruption).toBeNull();
    expect(outcome.tornTail).toMatchObject({ offset: SEGMENT_HEADER_BYTES });
  });
});

/*
 * A header that is not plausible says nothing of where its record ends, but a writer's sync point may split it: a
 * write larger than the window goes out in window-sized pieces fsynced in turn, and a piece ends wherever the window
 * does. Such damage reaches through the 13 bytes the header is judged by (length, kind, LSN).
 */
describe("a damaged record whose header is not plausible", () => {
  it("is a torn tail when the window starts among its 13 judged bytes, corruption when it starts after them", async () => {
    const first = tx(1, ["a"]);
    const path = await writeSegment(dir, 1, 1, [
      ...first,
      ...tx(4, ["b".repeat(300)]),
      ...tx(7, ["c"]),
      ...tx(10, ["d"]),
    ]);
    // The batch at lsn 5, its kind byte zeroed (a sector lost after a sync point 4 bytes into it); markers follow.
    const start = SEGMENT_HEADER_BYTES + bytesOf(first) + bytesOf(tx(4, ["b".repeat(300)]).slice(0, 1));
    const bytes = await readFile(path);
    bytes[start + 4] = 0;
    await writeFile(path, bytes);
    const size = bytes.byteLength;
    expect(bytes[size - 1]).not.toBe(0); // the data ends at the file's end
    // The window is [size - window, size): its first byte the header's last judged byte, then the byte after it.
    const torn = await outcomeOf({ unsyncedWindowBytes: size - (start + 12) });
    expect(torn.corruption).toBeNull();
    expect(torn.tornTail).toMatchObject({ offset: start, droppedBytes: size - start });
    expect(torn.committedTransactions).toBe(1);
    await expect(outcomeOf({ unsyncedWindowBytes: size - (start + 13) })).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      message: expect.stringContaining("damage followed by a valid record"),
    });
  });
});

describe("damage before the unsynced window", () => {
  it("is corruption only for a marker after the damaged record's end, not one inside its payload", async () => {
    // A mutation whose payload holds the bytes of an intact commit marker of the next LSN, a bit of it flipped, then
    // a mutation (no marker) that the window covers.
    const payload = new Uint8Array(300).fill(0x61);
    payload.set(encodeRecord({ kind: "txCommit", lsn: 3, txBeginLsn: 1 }, bytesCodec), 100);
    const damaged = encodeRecord({ kind: "mutation", lsn: 2, txBeginLsn: 1, event: payload }, bytesCodec);
    damaged[30] = (damaged[30] as number) ^ 1;
    const after = encodeRecord(
      { kind: "mutation", lsn: 3, txBeginLsn: 1, event: new Uint8Array(200).fill(0x62) },
      bytesCodec,
    );
    const path = segmentPath(dir, 1);
    const begin = encodeRecord({ kind: "txBegin", lsn: 1 }, bytesCodec);
    await writeFile(path, Buffer.concat([encodeSegmentHeader({ baseLsn: 1, sealed: false }), begin, damaged, after]));
    expect(after[after.byteLength - 1]).not.toBe(0); // the data ends at the file's end
    const replay = replayDir(dir, { codec: bytesCodec, unsyncedWindowBytes: after.byteLength });
    for await (const _ of replay) {
      // Only the outcome matters.
    }
    const outcome = await replay.outcome();
    expect(outcome.corruption).toBeNull();
    expect(outcome.tornTail).toMatchObject({ offset: SEGMENT_HEADER_BYTES + begin.byteLength });
  });

  it("is judged against a 1 MiB window by default", async () => {
    const first = tx(1, ["a"]);
    const damaged = tx(4, ["b"]);
    // About 700 KiB of data after the damaged transaction: within 1 MiB of the end, not within 512 KiB.
    const path = await writeSegment(dir, 1, 1, [
      ...first,
      ...damaged,
      ...tx(7, ["x".repeat(700 * 1024)]),
      ...tx(10, ["d"]),
    ]);
    const start = SEGMENT_HEADER_BYTES + bytesOf(first) + bytesOf(damaged.slice(0, 1));
    await flipBit(path, start + 25); // the batch's payload: its header stays plausible
    const size = (await stat(path)).size;
    const end = start + bytesOf(damaged.slice(1, 2));
    expect(size - end).toBeGreaterThan(512 * 1024);
    expect(size - end).toBeLessThan(1024 * 1024);
    const outcome = await outcomeOf({});
    expect(outcome.corruption).toBeNull();
    expect(outcome.tornTail).toMatchObject({ offset: start });
  });
});
