import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem, type WalFileSystem } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx, writeSegment } from "../test/build-log.js";
import { readCommitted } from "./read-committed.js";
import { replayDir } from "./replay.js";
import type { ReplayedTransaction } from "./replay-types.js";
import { oldestRetainedLsn } from "./segment-locate.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-read-committed-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const collect = async <E>(it: AsyncIterable<ReplayedTransaction<E>>) => {
  const out: { beginLsn: number; commitLsn: number; events: E[] }[] = [];
  for await (const t of it) out.push({ beginLsn: t.beginLsn, commitLsn: t.commitLsn, events: t.events });
  return out;
};

/** A log of `segments` segments of `perSegment` three-record transactions each (sealed but the last). */
async function writeLog(segments: number, perSegment: number): Promise<number> {
  let lsn = 1;
  for (let s = 1; s <= segments; s++) {
    const base = lsn;
    const records = [];
    for (let t = 0; t < perSegment; t++) {
      records.push(...tx(lsn, [{ s, t, lsn }]));
      lsn += 3;
    }
    await writeSegment(dir, s, base, records, { sealed: s < segments });
  }
  return lsn - 1;
}

describe("readCommitted", () => {
  test.prop([fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.nat(70), fc.nat(70)], {
    numRuns: 40,
  })("returns exactly replay's transactions with beginLsn > after and commitLsn <= upto", async (segs, per, a, u) => {
    await rm(dir, { recursive: true, force: true });
    dir = await mkdtemp(join(tmpdir(), "lora-wal-read-committed-"));
    const last = await writeLog(segs, per);
    const after = Math.min(a, last);
    const upto = Math.min(u, last + 3);
    const all = await collect(replayDir<JsonValue>(dir, { codec: jsonCodec }));
    const want = all.filter((t) => t.beginLsn > after && t.commitLsn <= upto);
    expect(await collect(readCommitted(dir, { codec: jsonCodec, after, upto }))).toEqual(want);
    expect(await collect(readCommitted(dir, { codec: jsonCodec, after }))).toEqual(
      all.filter((t) => t.beginLsn > after),
    );
  });

  it("starts at the segment holding after + 1: earlier segments are not read (a damaged one does not matter)", async () => {
    await writeLog(4, 3);
    // Segment 1 unreadable: a read from segment 3 on never opens it.
    await unlink(join(dir, "0000000001.wal"));
    const got = await collect(readCommitted(dir, { codec: jsonCodec, after: 18, allowTruncatedHistory: true }));
    expect(got.map((t) => t.beginLsn)).toEqual([19, 22, 25, 28, 31, 34]);
    // Without the opt-in, a resume point below what the log retains is WAL_TRUNCATED, never a silent gap.
    await expect(collect(readCommitted(dir, { codec: jsonCodec, after: 3 }))).rejects.toMatchObject({
      code: "WAL_TRUNCATED",
      details: { oldestRetainedLsn: 10 },
    });
    expect(await oldestRetainedLsn(dir)).toBe(10);
  });

  it("oldestRetainedLsn looks again when truncation removes the oldest segment between its listing and its read", async () => {
    await writeLog(3, 2);
    const node = createNodeFileSystem();
    let raced = false;
    // Truncation running beside it: right after the first listing, segment 1 goes.
    const racing: WalFileSystem = {
      name: node.name,
      open: (path, mode) => node.open(path, mode),
      mkdirp: (path) => node.mkdirp(path),
      stat: (path) => node.stat(path),
      rename: (from, to) => node.rename(from, to),
      unlink: (path) => node.unlink(path),
      syncDir: (path) => node.syncDir(path),
      readdir: async (path) => {
        const names = await node.readdir(path);
        if (!raced) {
          raced = true;
          await unlink(join(dir, "0000000001.wal"));
        }
        return names;
      },
    };
    expect(await oldestRetainedLsn(dir, { fs: racing })).toBe(7);
    expect(raced).toBe(true);
  });

  it("never reads past upto: damage beyond it (a live writer's half-written record) is not an error", async () => {
    const records = [...tx(1, ["a"]), ...tx(4, ["b"])];
    const path = await writeSegment(dir, 1, 1, records);
    const { appendFile } = await import("node:fs/promises");
    // A half-written record after lsn 6, and the next segment's absence: the writer is mid-append.
    await appendFile(path, new Uint8Array([200, 0, 0, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0, 9, 9]));
    const got = await collect(readCommitted(dir, { codec: jsonCodec, after: 0, upto: 6, recovery: "absolute" }));
    expect(got.map((t) => t.commitLsn)).toEqual([3, 6]);
    // Unbounded, the same bytes are a torn tail: refused in absolute mode.
    await expect(collect(readCommitted(dir, { codec: jsonCodec, recovery: "absolute" }))).rejects.toMatchObject({
      code: "WAL_TORN_TAIL",
    });
  });

  it("an empty directory yields nothing; bad bounds are WAL_INVALID_OPTION; upto <= after yields nothing", async () => {
    expect(await collect(readCommitted(dir, { codec: jsonCodec }))).toEqual([]);
    expect(await oldestRetainedLsn(dir)).toBeNull();
    await expect(collect(readCommitted(dir, { codec: jsonCodec, after: -1 }))).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
    await expect(collect(readCommitted(dir, { codec: jsonCodec, upto: 1.5 }))).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
    await expect(collect(readCommitted(dir, null as never))).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    await writeLog(1, 2);
    expect(await collect(readCommitted(dir, { codec: jsonCodec, after: 3, upto: 3 }))).toEqual([]);
  });

  it.each([
    { codec: {} as typeof jsonCodec },
    { codec: jsonCodec, recovery: "bogus" as never },
    { codec: jsonCodec, signal: 42 as never },
    { codec: jsonCodec, allowTruncatedHistory: "yes" as never },
    { codec: jsonCodec, unsyncedWindowBytes: -1 },
  ])("refuses a bad option whatever the range, an empty one included: %j", async (options) => {
    await writeLog(1, 2);
    for (const range of [
      { after: 0, upto: 9 },
      { after: 5, upto: 5 },
      { after: 5, upto: 2 },
    ]) {
      await expect(collect(readCommitted(dir, { ...options, ...range }))).rejects.toMatchObject({
        code: "WAL_INVALID_OPTION",
      });
    }
  });
});
