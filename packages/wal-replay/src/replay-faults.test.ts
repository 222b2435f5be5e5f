/**
 * Replay and the segment writer under injected SimFS faults: a read error is never taken for the end of the log or
 * a torn tail, a failed fdatasync poisons the writer (fsyncgate), and damage in a sealed newest segment is
 * corruption, never a tail.
 */

import { isWalError, type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { SEGMENT_HEADER_BYTES, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS, type SimOp, type SimStats } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { replayDir } from "./replay.js";
import type { RecoveryMode, ReplayedTransaction, ReplayOutcome } from "./replay-types.js";

const DIR = "/wal";
const MODES: readonly RecoveryMode[] = ["tolerate-torn-tail", "absolute", "point-in-time"];

type Rec = WalRecord<JsonValue>;

function tx(begin: number, events: JsonValue[]): Rec[] {
  return [
    { kind: "txBegin", lsn: begin },
    ...events.map((event, i): Rec => ({ kind: "mutation", lsn: begin + 1 + i, txBeginLsn: begin, event })),
    { kind: "txCommit", lsn: begin + 1 + events.length, txBeginLsn: begin },
  ];
}

async function writeSegment(fs: SimFS, id: number, base: number, records: readonly Rec[], sealed: boolean) {
  const w = await SegmentWriter.create(fs, segmentPath(DIR, id), base);
  for (const r of records) w.append(r, jsonCodec);
  if (sealed) await w.seal();
  else await w.flush();
  await w.close();
  await fs.syncDir(DIR);
}

async function collect(fs: SimFS, recovery: RecoveryMode, chunkBytes = 64) {
  const replay = replayDir(DIR, { codec: jsonCodec, fs, recovery, chunkBytes });
  const txs: ReplayedTransaction<JsonValue>[] = [];
  for await (const t of replay) txs.push(t);
  return { txs, outcome: await replay.outcome() };
}

/** Replay, resolving to the outcome or to the error it threw. */
async function settle(fs: SimFS, recovery: RecoveryMode): Promise<{ outcome?: ReplayOutcome; error?: unknown }> {
  try {
    return { outcome: (await collect(fs, recovery)).outcome };
  } catch (error) {
    return { error };
  }
}

const events = (txs: readonly ReplayedTransaction<JsonValue>[]) => txs.flatMap((t) => t.events);

/** Three segments (two sealed), ~40 records, events long enough that a 64-byte chunk needs several reads. */
async function multiSegmentLog(): Promise<SimFS> {
  const fs = new SimFS();
  fs.mkdirpSync(DIR);
  const long = (s: string) => `${s}:${"v".repeat(90)}`;
  await writeSegment(fs, 1, 1, [...tx(1, [long("a"), long("b")]), ...tx(5, [long("c")])], true);
  await writeSegment(fs, 2, 8, [...tx(8, [long("d")]), ...tx(11, [long("e"), long("f"), long("g")])], true);
  await writeSegment(fs, 3, 16, [...tx(16, [long("h")]), ...tx(19, [long("i")])], false);
  return fs;
}

const COUNTER: Partial<Record<SimOp, keyof SimStats>> = {
  read: "reads",
  open: "opens",
  size: "sizes",
  readdir: "readdirs",
  stat: "stats",
};

/**
 * For every operation of `op` that a clean replay performs, fail exactly that one with EIO and expect the replay
 * to reject with `WAL_IO` (errno kept as cause) in every recovery mode: never a shorter successful replay, a
 * torn tail or a corruption report. Returns how many operations were tried. With `path`, only operations on a
 * matching path are failed (and counted).
 */
async function everyFaultRejects(base: SimFS, op: SimOp, path?: RegExp): Promise<number> {
  const counter = COUNTER[op] as keyof SimStats;
  const probe = base.clone();
  await settle(probe, "point-in-time");
  const count = probe.stats[counter];
  for (let skip = 0; skip < count; skip++) {
    for (const recovery of MODES) {
      const fs = base.clone();
      const fault = fs.injectFault({ op, errno: "EIO", skip, ...(path === undefined ? {} : { path }) });
      const { outcome, error } = await settle(fs, recovery);
      if (path !== undefined && fault.hits === 0) return skip; // no more operations on a matching path
      expect(fault.hits, `${op} #${skip} (${recovery}) was not reached`).toBe(1);
      expect(outcome, `${op} #${skip} EIO (${recovery}) ended the replay normally`).toBeUndefined();
      expect(isWalError(error) && error.code, `${op} #${skip} EIO (${recovery}): ${String(error)}`).toBe("WAL_IO");
      expect((error as Error).cause).toMatchObject({ code: "EIO" });
    }
  }
  return count;
}

describe("an I/O error during replay is never the end of the log", () => {
  it("every read, open, size and readdir of a multi-segment replay: EIO rejects with WAL_IO", async () => {
    const fs = await multiSegmentLog();
    const clean = await collect(fs, "absolute");
    expect(events(clean.txs)).toHaveLength(9);
    expect(await everyFaultRejects(fs, "read")).toBeGreaterThan(20);
    expect(await everyFaultRejects(fs, "open")).toBe(3);
    expect(await everyFaultRejects(fs, "size")).toBe(3);
    expect(await everyFaultRejects(fs, "readdir")).toBe(1);
  });

  it("reads of the torn-tail scan (looking for a valid record after the damage): EIO rejects, not a torn tail", async () => {
    const fs = await multiSegmentLog();
    const path = segmentPath(DIR, 3);
    const bytes = fs.readFileSync(path);
    // A torn last record followed by 300 bytes of garbage that the scan must read through.
    const torn = new Uint8Array(bytes.byteLength + 300).fill(0xa5);
    torn.set(bytes.subarray(0, bytes.byteLength - 7));
    fs.writeFileSync(path, torn);
    const clean = await collect(fs, "point-in-time");
    expect(clean.outcome.tornTail).not.toBeNull();
    expect(await everyFaultRejects(fs, "read")).toBeGreaterThan(20);
  });

  it("reads and stats that classify a headerless newest segment: EIO rejects, the segment is not taken as empty", async () => {
    const fs = await multiSegmentLog();
    fs.writeFileSync(segmentPath(DIR, 4), new Uint8Array(SEGMENT_HEADER_BYTES));
    const clean = await collect(fs, "tolerate-torn-tail");
    expect(clean.outcome.headerlessLastSegment).toMatchObject({ id: 4, fileSize: SEGMENT_HEADER_BYTES });
    expect(await everyFaultRejects(fs, "read")).toBeGreaterThan(20);
    // The headerless segment's. The durable mark's (read before any record, see DurableBindingCheck.prime) fails only
    // damage that asks for the binding, which this classification does not (durable-binding-unreadable-mark.test.ts).
    expect(await everyFaultRejects(fs, "stat", /\.wal$/)).toBe(1);
  });

  it("a persistent read error rejects too, and outcome() rejects with the same error", async () => {
    const fs = await multiSegmentLog();
    fs.injectFault({ op: "read", errno: "EIO", skip: 5, persistent: true });
    const replay = replayDir(DIR, { codec: jsonCodec, fs, recovery: "point-in-time", chunkBytes: 64 });
    const seen: JsonValue[] = [];
    const error = await (async () => {
      try {
        for await (const t of replay) seen.push(...t.events);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: "WAL_IO", cause: { code: "EIO" } });
    await expect(replay.outcome()).rejects.toBe(error);
    expect(seen.length).toBeLessThan(9);
  });
});

describe("fsyncgate: a failed fdatasync poisons the writer", () => {
  async function setUp() {
    const fs = new SimFS();
    fs.mkdirpSync(DIR);
    const w = await SegmentWriter.create(fs, segmentPath(DIR, 1), 1);
    await fs.syncDir(DIR);
    for (const r of tx(1, ["durable"])) w.append(r, jsonCodec);
    await w.flush();
    for (const r of tx(4, ["lost"])) w.append(r, jsonCodec);
    return { fs, w };
  }

  it("sync rejects with WAL_IO, every later write/sync/flush/seal/truncate rejects with that error, and no crash image holds the failed sync's data", async () => {
    const { fs, w } = await setUp();
    await w.write();
    const fault = fs.injectFault({ op: "datasync", errno: "EIO" });
    const error = await w.sync().catch((e: unknown) => e);
    expect(fault.hits).toBe(1);
    expect(error).toMatchObject({ code: "WAL_IO", cause: { code: "EIO" } });
    expect(w.failure).toBe(error);

    // SimFS would let the next fdatasync succeed (as Linux does) although the data is gone: the writer must not.
    await expect(w.sync()).rejects.toBe(error);
    for (const r of tx(7, ["after"])) w.append(r, jsonCodec);
    await expect(w.write()).rejects.toBe(error);
    await expect(w.flush()).rejects.toBe(error);
    await expect(w.seal()).rejects.toBe(error);
    await expect(w.truncateTo(SEGMENT_HEADER_BYTES)).rejects.toBe(error);
    expect(fs.stats.datasyncs).toBe(2); // the flush of tx 1 and the failed one: nothing retried
    // Closing cannot write the buffered transaction either, and says so.
    await expect(w.close()).rejects.toBe(error);

    // The page cache still shows the lost transaction: exactly what a retrying writer would have trusted.
    expect(events((await collect(fs, "absolute")).txs)).toEqual(["durable", "lost"]);
    const images = [...fs.crashImages({ maxImages: 64 })];
    expect(images.length).toBeGreaterThan(0);
    expect(fs.durableImage().readFileSync(segmentPath(DIR, 1)).byteLength).toBeLessThan(
      fs.readFileSync(segmentPath(DIR, 1)).byteLength,
    );
    for (const { description, fs: image } of [...images, { description: "durable image", fs: fs.durableImage() }]) {
      const { txs, outcome } = await collect(image, "point-in-time");
      expect(events(txs), description).toEqual(["durable"]);
      expect(outcome.corruption, description).toBeNull();
    }
  });

  it("a failed write (a prefix landed, then EIO) poisons the writer too; the partial record is only ever a torn tail", async () => {
    const { fs, w } = await setUp();
    fs.injectFault({ op: "write", errno: "EIO", partialBytes: 30 });
    const error = await w.write().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "WAL_IO", cause: { code: "EIO" } });
    expect(w.failure).toBe(error);
    await expect(w.write()).rejects.toBe(error);
    await expect(w.sync()).rejects.toBe(error);
    await w.close();
    for (const { description, fs: image } of fs.crashImages({ maxImages: 64 })) {
      const { txs, outcome } = await collect(image, "point-in-time");
      expect(events(txs), description).toEqual(["durable"]);
      expect(outcome.corruption, description).toBeNull();
    }
  });
});

describe("a sealed newest segment (regression: damage in it was reported as a torn tail)", () => {
  // A sealed segment's records were fdatasynced before its sealed header was written, so damage in its last
  // record is never a crash mid-write: cutting it as a tail would drop a durable record.
  async function sealedNewest() {
    const fs = new SimFS();
    fs.mkdirpSync(DIR);
    await writeSegment(fs, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], true);
    await writeSegment(fs, 2, 7, [...tx(7, ["c"]), ...tx(10, ["d"])], true);
    return { fs, path: segmentPath(DIR, 2) };
  }

  it("a bit flipped in its last record is WAL_CORRUPT, never a torn tail", async () => {
    const { fs, path } = await sealedNewest();
    const bytes = fs.readFileSync(path);
    bytes[bytes.byteLength - 2] = (bytes[bytes.byteLength - 2] as number) ^ 0x10;
    fs.writeFileSync(path, bytes);
    await expect(collect(fs, "tolerate-torn-tail")).rejects.toMatchObject({
      code: "WAL_CORRUPT",
      message: expect.stringContaining("sealed segment"),
    });
    const { txs, outcome } = await collect(fs, "point-in-time");
    expect(outcome.tornTail).toBeNull();
    expect(outcome.corruption).toMatchObject({ segmentPath: path, segmentId: 2 });
    expect(events(txs)).toEqual(["a", "b", "c"]);
  });

  it("cut short inside its last record is WAL_CORRUPT, never a torn tail", async () => {
    const { fs, path } = await sealedNewest();
    const bytes = fs.readFileSync(path);
    fs.writeFileSync(path, bytes.subarray(0, bytes.byteLength - 5));
    await expect(collect(fs, "tolerate-torn-tail")).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    expect((await collect(fs, "point-in-time")).outcome.tornTail).toBeNull();
  });

  it("the same damage in an unsealed newest segment stays a torn tail", async () => {
    const fs = new SimFS();
    fs.mkdirpSync(DIR);
    await writeSegment(fs, 1, 1, [...tx(1, ["a"]), ...tx(4, ["b"])], true);
    await writeSegment(fs, 2, 7, [...tx(7, ["c"]), ...tx(10, ["d"])], false);
    const path = segmentPath(DIR, 2);
    const bytes = fs.readFileSync(path);
    fs.writeFileSync(path, bytes.subarray(0, bytes.byteLength - 5));
    const { txs, outcome } = await collect(fs, "tolerate-torn-tail");
    expect(outcome.tornTail).toMatchObject({ segmentPath: path });
    expect(events(txs)).toEqual(["a", "b", "c"]);
  });
});
