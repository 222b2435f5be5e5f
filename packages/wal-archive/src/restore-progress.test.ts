/**
 * A restore's `onProgress`: bytes, objects and segments done of the totals the archive's listing names, reported at
 * most once per MiB fetched and once at the end. On an archive of a few MiB built by hand in a memory store: sealed
 * segments of about 800 KiB, and an active segment shipped as one piece per transaction (hundreds of objects).
 */

import { crc32, isWalError, type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { SegmentReader, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { archiveKey } from "./archive-keys.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { PROGRESS_EVERY_BYTES, type RestoreProgress, restoreProgressCounter } from "./restore-progress.js";

const MIB = PROGRESS_EVERY_BYTES;
const SOURCE = "/source";
const EVENT = "x".repeat(1000);
/** Transactions per sealed segment (about 800 KiB each). */
const PER_SEALED = 800;
const SEALED = 4;
/** Transactions of the active segment, each its own piece. */
const ACTIVE_TXS = 300;

interface BuiltArchive {
  readonly store: MemoryArchive;
  /** Each segment's size, oldest first (the active one last). */
  readonly sizes: number[];
  /** Each segment's base LSN. */
  readonly bases: number[];
  readonly objects: number;
}

/** Write `count` one-event transactions (begin, mutation, commit) from `lsn`; returns the next LSN. */
function appendTransactions(w: SegmentWriter, lsn: number, count: number): number {
  let next = lsn;
  for (let t = 0; t < count; t++) {
    const records: WalRecord<JsonValue>[] = [
      { kind: "txBegin", lsn: next },
      { kind: "mutation", lsn: next + 1, txBeginLsn: next, event: EVENT },
      { kind: "txCommit", lsn: next + 2, txBeginLsn: next },
    ];
    for (const r of records) w.append(r, jsonCodec);
    next += 3;
  }
  return next;
}

/** The end offset of every third record (each transaction's commit) of a segment. */
async function transactionEnds(fs: SimFS, path: string): Promise<number[]> {
  const reader = await SegmentReader.open(fs, path);
  const ends: number[] = [];
  try {
    for (let n = 1; ; n++) {
      const step = await reader.next(jsonCodec);
      if (step.kind === "end") break;
      if (step.kind === "damaged") throw step.error;
      if (n % 3 === 0) ends.push(step.offset + step.byteLength);
    }
  } finally {
    await reader.close();
  }
  return ends;
}

/** Archive a log as the archiver ships it: sealed segments whole, the active one as a chain of pieces. */
async function buildArchive(): Promise<BuiltArchive> {
  const fs = new SimFS();
  fs.mkdirpSync(SOURCE);
  const store = memoryArchive();
  const sizes: number[] = [];
  const bases: number[] = [];
  let objects = 0;
  let lsn = 1;
  for (let id = 1; id <= SEALED + 1; id++) {
    const path = segmentPath(SOURCE, id);
    const baseLsn = lsn;
    const w = await SegmentWriter.create(fs, path, baseLsn);
    const active = id === SEALED + 1;
    lsn = appendTransactions(w, lsn, active ? ACTIVE_TXS : PER_SEALED);
    if (active) await w.flush();
    else await w.seal();
    await w.close();
    const bytes = fs.readFileSync(path);
    sizes.push(bytes.byteLength);
    bases.push(baseLsn);
    if (!active) {
      const crc = crc32(bytes);
      await store.put(archiveKey({ kind: "segment", id, baseLsn, size: bytes.byteLength, crc32: crc }), bytes);
      objects++;
      continue;
    }
    let from = 0;
    for (const to of await transactionEnds(fs, path)) {
      const piece = bytes.slice(from, to);
      await store.put(archiveKey({ kind: "piece", id, baseLsn, from, to, crc32: crc32(piece) }), piece);
      objects++;
      from = to;
    }
  }
  return { store, sizes, bases, objects };
}

/** Restore into a fresh simulated file system, recording every progress call. */
async function restoreRecording(store: MemoryArchive, options: { toLsn?: number; fromLsn?: number } = {}) {
  const calls: RestoreProgress[] = [];
  const result = await restore({
    store,
    dir: "/restored",
    fs: new SimFS(),
    ...options,
    onProgress: (p) => calls.push(p),
  });
  return { calls, result };
}

/**
 * The law every sequence of calls obeys: the totals never change, the counts never decrease, each call before the
 * last one in a MiB of its own (so at most one per MiB fetched) and a step forward, and a single last call at the
 * totals.
 */
function expectWellFormed(calls: readonly RestoreProgress[]): RestoreProgress {
  const last = calls.at(-1) as RestoreProgress;
  expect(last).toEqual({
    bytes: last.totalBytes,
    totalBytes: last.totalBytes,
    objects: last.totalObjects,
    totalObjects: last.totalObjects,
    segments: last.totalSegments,
    totalSegments: last.totalSegments,
    done: true,
  });
  expect(calls.filter((c) => c.done)).toHaveLength(1);
  for (const [i, c] of calls.entries()) {
    expect([c.totalBytes, c.totalObjects, c.totalSegments]).toEqual([
      last.totalBytes,
      last.totalObjects,
      last.totalSegments,
    ]);
    if (c !== last) {
      expect(c.bytes).toBeLessThanOrEqual(c.totalBytes);
      expect(Math.floor(c.bytes / MIB)).toBe(i + 1);
    }
    const before = calls[i - 1];
    if (before !== undefined) {
      // The last call can repeat the bytes of the one before it (the last object crossed a MiB).
      expect(c.bytes).toBeGreaterThanOrEqual(before.bytes);
      expect(c.objects).toBeGreaterThanOrEqual(before.objects);
      expect(c.segments).toBeGreaterThanOrEqual(before.segments);
      if (c !== last) expect(c.objects).toBeGreaterThan(before.objects);
    }
  }
  return last;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe("restore's onProgress", () => {
  it("reports each MiB of a large restore and the end, bounded by the bytes, not by the hundreds of objects", async () => {
    const archive = await buildArchive();
    const total = sum(archive.sizes);
    expect(total).toBeGreaterThan(3 * MIB);
    const { calls, result } = await restoreRecording(archive.store);
    const last = expectWellFormed(calls);
    expect(last).toMatchObject({ totalBytes: total, totalObjects: archive.objects, totalSegments: SEALED + 1 });
    expect(result).toMatchObject({ bytes: total, objects: archive.objects, segments: SEALED + 1 });
    // No object crosses two MiB boundaries, so exactly one call per whole MiB, and the last.
    expect(calls).toHaveLength(Math.floor(total / MIB) + 1);
    expect(archive.objects).toBeGreaterThan(50 * calls.length);
  });

  it("with toLsn, counts the objects the listing names whole, the cut segment's too", async () => {
    const archive = await buildArchive();
    // Inside the third segment: three segments fetched, the third cut.
    const toLsn = (archive.bases[2] as number) + 3 * 100 - 1;
    const { calls, result } = await restoreRecording(archive.store, { toLsn });
    const last = expectWellFormed(calls);
    const fetched = sum(archive.sizes.slice(0, 3));
    expect(last).toMatchObject({ totalBytes: fetched, totalObjects: 3, totalSegments: 3 });
    expect(result.lastLsn).toBe(toLsn);
    expect(result.bytes).toBeLessThan(fetched);
  });

  it("with fromLsn, counts only the segments from the one holding fromLsn + 1", async () => {
    const archive = await buildArchive();
    const fromLsn = (archive.bases[3] as number) + 2; // a transaction boundary in the fourth segment
    const { calls } = await restoreRecording(archive.store, { fromLsn });
    const last = expectWellFormed(calls);
    expect(last).toMatchObject({
      totalBytes: sum(archive.sizes.slice(3)),
      totalObjects: archive.objects - 3,
      totalSegments: 2,
    });
  });

  it("a callback that throws fails the restore, which removes what it wrote; a non-function is refused", async () => {
    const archive = await buildArchive();
    const fs = new SimFS();
    const boom = new Error("progress broke");
    let calls = 0;
    const failed = restore({
      store: archive.store,
      dir: "/restored",
      fs,
      onProgress: () => {
        if (++calls === 2) throw boom;
      },
    });
    await expect(failed).rejects.toBe(boom);
    expect(await fs.stat("/restored")).toBeNull(); // the directory it made is removed too

    const bad = restore({ store: archive.store, dir: "/other", fs, onProgress: 5 as never });
    await expect(bad).rejects.toSatisfy((e) => isWalError(e, "WAL_INVALID_OPTION"));
  });
});

describe("restoreProgressCounter", () => {
  const totals = { totalBytes: 5 * MIB + 7, totalObjects: 6, totalSegments: 2 };

  it("one call for an object that crosses several MiB at once; the last call however the bytes fall", () => {
    const calls: RestoreProgress[] = [];
    const counter = restoreProgressCounter((p) => calls.push(p), totals);
    counter.fetched(3 * MIB + 5); // crosses 1, 2 and 3 MiB: one call
    counter.fetched(2); // inside the fourth MiB: none
    counter.written();
    counter.fetched(MIB - 7); // reaches 4 MiB exactly: a call
    for (const n of [MIB, 5, 2]) counter.fetched(n); // one call at 5 MiB, then none below the total
    counter.written();
    counter.finish();
    expect(calls.map((c) => [c.bytes, c.objects, c.segments, c.done])).toEqual([
      [3 * MIB + 5, 1, 0, false],
      [4 * MIB, 3, 1, false],
      [5 * MIB, 4, 1, false],
      [5 * MIB + 7, 6, 2, true],
    ]);
  });
});
