/**
 * A segment missing from the middle of the log below a checkpoint marker after it (a truncation a crash interrupted)
 * is read as the truncated log it is: the log is whole from the segment after the hole, as `lora-wal verify` and
 * `Wal.open` judge it. A replay with a fence below the hole is `WAL_FENCE_TOO_LOW` naming the fence that works (it
 * was `WAL_CORRUPT`, after handing over the transactions before the hole), a read from before it is
 * `WAL_TRUNCATED` as a follower's (it was `WAL_CORRUPT` too), and `allowTruncatedHistory` reads the log from the
 * segment after the hole. A hole no marker after it covers is still `WAL_CORRUPT`, whatever the options.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Rec, tx, writeSegment } from "../test/build-log.js";
import { readCommitted } from "./read-committed.js";
import { replayDir } from "./replay.js";
import type { ReplayOptions } from "./replay-types.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "covered-hole-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Segments 1 (LSNs 1..6), 2 (7..12) and 3 (13..19, with a checkpoint marker at 16 whose snapshot is `snapshot`),
 * then segment 2 removed: the hole holds 7..12, and the log goes on at 13.
 */
async function logWithHole(snapshot: number): Promise<void> {
  await writeSegment(dir, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], { sealed: true });
  await writeSegment(dir, 2, 7, [...tx(7, ["c"]), ...tx(10, ["d"])], { sealed: true });
  await writeSegment(dir, 3, 13, [
    ...tx(13, ["e"]),
    { kind: "checkpoint", lsn: 16, snapshotLsn: snapshot },
    ...tx(17, ["f"]),
  ]);
  await rm(segmentPath(dir, 2));
}

/** The commit LSNs handed over before the end or the failure, and the failure. */
async function collect(source: AsyncIterable<{ commitLsn: number }>) {
  const commits: number[] = [];
  try {
    for await (const t of source) commits.push(t.commitLsn);
    return { commits, failure: undefined };
  } catch (error) {
    return { commits, failure: error };
  }
}

const replay = (options: Omit<ReplayOptions<JsonValue>, "codec"> = {}) =>
  collect(replayDir<JsonValue>(dir, { codec: jsonCodec, ...options }));

describe("a hole a checkpoint marker after it covers", () => {
  beforeEach(async () => {
    await logWithHole(15);
  });

  it("replayDir below the hole: WAL_FENCE_TOO_LOW naming the hole and the fence that works, nothing handed over", async () => {
    const { commits, failure } = await replay();
    expect(commits).toEqual([]);
    expect(failure).toMatchObject({
      code: "WAL_FENCE_TOO_LOW",
      details: { oldestFence: 12, usableFence: 12, segment: segmentPath(dir, 3) },
    });
    expect((failure as Error).message).toContain(
      "segment 2 is missing between 0000000001.wal and 0000000003.wal, below the checkpoint at lsn 15 (a truncation a crash interrupted)",
    );
    expect((failure as Error).message).toContain("with a checkpointLsn at or above 12");
    // The same with a fence that is not 0 but still below the hole, and in every recovery mode.
    for (const recovery of ["absolute", "point-in-time"] as const) {
      expect((await replay({ checkpointLsn: 6, recovery })).failure).toMatchObject({ code: "WAL_FENCE_TOO_LOW" });
    }
    expect((await replay({ checkpointLsn: 6, scanFrom: "fence" })).failure).toMatchObject({
      code: "WAL_FENCE_TOO_LOW",
      details: { usableFence: 12 },
    });
  });

  it("replayDir with a fence at or above the hole, or allowTruncatedHistory: the log from the segment after it", async () => {
    expect(await replay({ checkpointLsn: 12 })).toEqual({ commits: [15, 19], failure: undefined });
    expect(await replay({ checkpointLsn: 15 })).toEqual({ commits: [19], failure: undefined });
    const truncated = replayDir<JsonValue>(dir, { codec: jsonCodec, allowTruncatedHistory: true });
    expect(await collect(truncated)).toEqual({ commits: [15, 19], failure: undefined });
    expect(await truncated.outcome()).toMatchObject({ oldestFence: 12, corruption: null, maxLsn: 19 });
  });

  it("readCommitted from before the hole: WAL_TRUNCATED as a follower says it, nothing handed over", async () => {
    for (const after of [0, 3]) {
      const { commits, failure } = await collect(readCommitted<JsonValue>(dir, { codec: jsonCodec, after }));
      expect(commits).toEqual([]);
      expect(failure).toMatchObject({
        code: "WAL_TRUNCATED",
        details: { lsn: after, oldestRetainedLsn: 13, segment: segmentPath(dir, 3) },
      });
      expect((failure as Error).message).toContain(
        "segment 2 is missing between 0000000001.wal and 0000000003.wal (below the checkpoint at lsn 15: a truncation a crash interrupted)",
      );
    }
  });

  it("readCommitted with allowTruncatedHistory, or from the hole's end on: the log after the hole", async () => {
    const read = (options: { after?: number; allowTruncatedHistory?: boolean }) =>
      collect(readCommitted<JsonValue>(dir, { codec: jsonCodec, ...options }));
    expect(await read({ allowTruncatedHistory: true })).toEqual({ commits: [15, 19], failure: undefined });
    expect(await read({ after: 12 })).toEqual({ commits: [15, 19], failure: undefined });
    expect(await read({ after: 15 })).toEqual({ commits: [19], failure: undefined });
  });
});

describe("a hole no checkpoint marker covers", () => {
  // The marker after the hole names a snapshot below it: it covers segment 1 only.
  beforeEach(async () => {
    await logWithHole(6);
  });

  it("replayDir: WAL_CORRUPT at the hole, whatever the fence below it or allowTruncatedHistory", async () => {
    for (const options of [{}, { checkpointLsn: 6 }, { allowTruncatedHistory: true }]) {
      const { commits, failure } = await replay(options);
      expect(failure).toMatchObject({ code: "WAL_CORRUPT", details: { segment: segmentPath(dir, 1) } });
      expect((failure as Error).message).toContain("segment 2 is missing");
      // What precedes the hole was handed over, as before any corruption.
      expect(commits).toEqual("checkpointLsn" in options ? [] : [3, 6]);
    }
  });

  it("readCommitted from before the hole: WAL_CORRUPT, with or without allowTruncatedHistory", async () => {
    for (const options of [{}, { after: 3 }, { allowTruncatedHistory: true }]) {
      const { failure } = await collect(readCommitted<JsonValue>(dir, { codec: jsonCodec, ...options }));
      expect(failure).toMatchObject({ code: "WAL_CORRUPT" });
    }
  });
});

describe("several holes", () => {
  /**
   * Segments 1..5, segment `k` starting at LSN 4k-3 with one transaction (LSN gaps are allowed), the marker first in
   * its segment; then segments 2 and 4 removed.
   */
  async function logWithTwoHoles(marker: { inSegment: number; snapshot: number }): Promise<void> {
    for (let id = 1; id <= 5; id++) {
      const base = 4 * id - 3;
      const records: Rec[] =
        id === marker.inSegment
          ? [{ kind: "checkpoint", lsn: base, snapshotLsn: marker.snapshot }, ...tx(base + 1, [id])]
          : tx(base, [id]);
      await writeSegment(dir, id, base, records, { sealed: id < 5 });
    }
    await rm(segmentPath(dir, 2));
    await rm(segmentPath(dir, 4));
  }

  it("a marker after the last hole that covers it covers them all: each named, read from after the last", async () => {
    // Segment 5 starts at 17 with the marker (snapshot 16), then the transaction 18..20.
    await logWithTwoHoles({ inSegment: 5, snapshot: 16 });
    const { commits, failure } = await replay();
    expect(commits).toEqual([]);
    expect(failure).toMatchObject({ code: "WAL_FENCE_TOO_LOW", details: { usableFence: 16 } });
    expect((failure as Error).message).toContain(
      "segments 2, 4 are missing, the last before 0000000005.wal, below the checkpoint at lsn 16",
    );
    expect(await replay({ allowTruncatedHistory: true })).toEqual({ commits: [20], failure: undefined });
    const read = await collect(readCommitted<JsonValue>(dir, { codec: jsonCodec }));
    expect(read.failure).toMatchObject({ code: "WAL_TRUNCATED", details: { oldestRetainedLsn: 17 } });
  });

  it("a marker between the holes covers the first only: the log is corrupt, WAL_CORRUPT", async () => {
    // Segment 3 starts at 9 with the marker (snapshot 8), covering the first hole; nothing covers the second.
    await logWithTwoHoles({ inSegment: 3, snapshot: 8 });
    for (const options of [{}, { allowTruncatedHistory: true }, { checkpointLsn: 8 }]) {
      expect((await replay(options)).failure).toMatchObject({ code: "WAL_CORRUPT" });
    }
  });
});
