/**
 * Restore from archives built by hand from real logs: a log written with `Wal.open` and many commits on small
 * segments, its sealed segments uploaded whole and its active segment as a chain of pieces cut at record
 * boundaries (what the archiver ships). Restored directories are opened with `Wal.open` (and LoraDB) and compared
 * with the original's transactions.
 */

import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loraGraphSummary, makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { crc32, isWalError, type JsonValue, jsonCodec, type PayloadCodec } from "@lora/wal-codec";
import { createPropertyMap, loraCodec, type MutationEvent } from "@lora/wal-codec/lora";
import { replayDir } from "@lora/wal-replay";
import {
  createNodeFileSystem,
  decodeSegmentHeader,
  listSegments,
  type SegmentHeader,
  SegmentReader,
  segmentFileName,
} from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { openWalDatabase } from "@loradb/lora-node";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { archiveKey } from "./archive-keys.js";
import type { ArchiveStore } from "./archive-store.js";
import { fsArchive } from "./fs-archive.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { type RestoreOptions, type RestoreProgress, restore } from "./restore.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir("wal-archive-restore");
});
afterEach(async () => {
  await tmp.cleanup();
});

interface Tx {
  readonly events: JsonValue[];
  readonly beginLsn: number;
  readonly commitLsn: number;
}

/**
 * A log of `count` transactions on 2 KiB segments: most through `commitTx` (begin, one batch, commit), every fifth
 * through begin / append / append / commit (four records), so cuts can fall inside multi-record transactions.
 */
async function writeLog(dir: string, count: number, segmentTargetBytes = 2048): Promise<Tx[]> {
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes });
  const txs: Tx[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const events: JsonValue[] = Array.from({ length: 1 + (i % 3) }, (_, j) => ({
        tx: i,
        e: j,
        pad: "p".repeat((i * 37) % 180),
      }));
      if (i % 5 === 4) {
        const begin = await wal.begin();
        for (const event of events.slice(0, 2)) await wal.append(begin, event);
        const commitLsn = await wal.commit(begin);
        txs.push({ events: events.slice(0, 2), beginLsn: begin, commitLsn });
      } else {
        const info = await wal.commitTx(events);
        if (info === null) throw new Error("commitTx wrote nothing");
        txs.push({ events, beginLsn: info.beginLsn, commitLsn: info.commitLsn });
      }
    }
  } finally {
    await wal.close();
  }
  return txs;
}

interface SegmentFile {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly header: SegmentHeader;
  /** Record end offsets and LSNs, in order. */
  readonly ends: number[];
  readonly lsns: number[];
}

/** The segments of `dir`, read with the log's own codec (a record it cannot decode would end the walk early). */
async function readSegments(dir: string, codec: PayloadCodec<unknown> = jsonCodec): Promise<SegmentFile[]> {
  const fs = createNodeFileSystem();
  const out: SegmentFile[] = [];
  for (const entry of await listSegments(fs, dir)) {
    const bytes = new Uint8Array(await readFile(entry.path));
    const reader = await SegmentReader.open(fs, entry.path);
    const ends: number[] = [];
    const lsns: number[] = [];
    for (;;) {
      const step = await reader.next(codec);
      if (step.kind === "end") break;
      if (step.kind === "damaged") throw step.error;
      ends.push(step.offset + step.byteLength);
      lsns.push(step.record.lsn);
    }
    await reader.close();
    out.push({ id: entry.id, bytes, header: decodeSegmentHeader(bytes), ends, lsns });
  }
  return out;
}

interface Archived {
  /** Sealed object key per segment id. */
  readonly sealed: Map<number, string>;
  /** Piece keys of the active segment, in order. */
  readonly pieces: string[];
}

/**
 * Upload a log as the archiver would: sealed segments whole; the active one (unless `withActive` is false) as pieces
 * ending at about a third, two thirds and the end of its records.
 */
async function archiveLog(store: ArchiveStore, segments: readonly SegmentFile[], withActive = true): Promise<Archived> {
  const sealed = new Map<number, string>();
  const pieces: string[] = [];
  for (const s of segments) {
    if (s.header.sealed) {
      const key = archiveKey({
        kind: "segment",
        id: s.id,
        baseLsn: s.header.baseLsn,
        size: s.bytes.byteLength,
        crc32: crc32(s.bytes),
      });
      await store.put(key, s.bytes, { crc32: crc32(s.bytes) });
      sealed.set(s.id, key);
    } else if (withActive) {
      const n = s.ends.length;
      const cuts = [...new Set([s.ends[Math.floor(n / 3)], s.ends[Math.floor((2 * n) / 3)], s.bytes.byteLength])]
        .filter((c): c is number => c !== undefined)
        .sort((a, b) => a - b);
      let from = 0;
      for (const to of cuts) {
        const bytes = s.bytes.slice(from, to);
        const key = archiveKey({ kind: "piece", id: s.id, baseLsn: s.header.baseLsn, from, to, crc32: crc32(bytes) });
        await store.put(key, bytes, { crc32: crc32(bytes) });
        pieces.push(key);
        from = to;
      }
    }
  }
  return { sealed, pieces };
}

/** A log of `count` transactions, its segments, and an archive of it in a fresh memory store. */
async function archivedLog(count = 60, withActive = true) {
  const source = join(tmp.path, "source");
  const txs = await writeLog(source, count);
  const segments = await readSegments(source);
  const store = memoryArchive();
  const archived = await archiveLog(store, segments, withActive);
  return { source, txs, segments, store, archived };
}

/** The events `Wal.open` delivers for `dir` (then closed). */
async function openedEvents(dir: string, checkpointLsn?: number): Promise<JsonValue[]> {
  const opened = await Wal.open<JsonValue>(dir, {
    codec: jsonCodec,
    ...(checkpointLsn === undefined ? {} : { checkpointLsn }),
  });
  await opened.wal.close();
  return opened.events;
}

const eventsOf = (txs: readonly Tx[]) => txs.flatMap((t) => t.events);
const walNames = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to reject");
}

/** `path` does not exist: a refused restore removes the directory it created. */
async function expectGone(path: string): Promise<void> {
  expect(await stat(path).catch((e: { code?: string }) => e.code)).toBe("ENOENT");
}

function expectArchiveError(error: unknown, code: string, object: string | RegExp): void {
  expect(isWalError(error) ? error.code : error).toBe(code);
  const named = (error as { details: { object?: string } }).details.object ?? "";
  if (typeof object === "string") expect(named).toBe(object);
  else expect(named).toMatch(object);
}

describe("restore", () => {
  test("restores the newest state: sealed segments byte for byte, the active one from its pieces", async () => {
    const { source, txs, segments, store, archived } = await archivedLog();
    expect(segments.length).toBeGreaterThanOrEqual(5);
    expect(archived.pieces.length).toBe(3);
    const progress: RestoreProgress[] = [];
    const dir = join(tmp.path, "restored");
    const result = await restore({ store, dir, onProgress: (p) => progress.push(p) });

    expect(await walNames(dir)).toEqual(await walNames(source));
    for (const s of segments) {
      const restored = new Uint8Array(await readFile(join(dir, segmentFileName(s.id))));
      expect({ id: s.id, same: Buffer.compare(restored, s.bytes) === 0 }).toEqual({ id: s.id, same: true });
    }
    const lastLsn = (segments.at(-1) as SegmentFile).lsns.at(-1);
    expect(result).toEqual({
      segments: segments.length,
      bytes: segments.reduce((n, s) => n + s.bytes.byteLength, 0),
      firstLsn: 1,
      lastLsn,
      objects: segments.length - 1 + 3,
      successor: null,
    });
    expect(lastLsn).toBe((txs.at(-1) as Tx).commitLsn);

    // Under a MiB: no call on the way, one at the end with every count at its total.
    expect(progress).toEqual([
      {
        bytes: result.bytes,
        totalBytes: result.bytes,
        objects: result.objects,
        totalObjects: result.objects,
        segments: segments.length,
        totalSegments: segments.length,
        done: true,
      },
    ]);

    expect(await openedEvents(dir)).toEqual(eventsOf(txs));
    // Nothing but segments is left behind (no temporary files).
    expect((await readdir(dir)).filter((n) => !n.startsWith(".lora-wal"))).toEqual(await walNames(dir));
  });

  test("restores to LSNs anywhere: the state at each is exactly the transactions committed at or below it", async () => {
    const { txs, segments, store } = await archivedLog();
    const sealedEnd = (segments[1] as SegmentFile).lsns.at(-1) as number;
    const activeBase = (segments.at(-1) as SegmentFile).header.baseLsn;
    const mid = txs[27] as Tx;
    const multi = txs[29] as Tx; // a begin / append / append / commit transaction
    const targets = [
      1,
      (txs[0] as Tx).commitLsn,
      mid.commitLsn,
      mid.beginLsn + 1,
      multi.beginLsn + 2,
      sealedEnd,
      sealedEnd + 1,
      (segments[2] as SegmentFile).header.baseLsn,
      activeBase,
      activeBase + 4,
      (txs.at(-1) as Tx).commitLsn - 1,
      (txs.at(-1) as Tx).commitLsn,
    ];
    for (const [i, toLsn] of targets.entries()) {
      const dir = join(tmp.path, `to-${i}`);
      const result = await restore({ store, dir, toLsn });
      const expectedSegments = segments.filter((s) => s.header.baseLsn <= toLsn);
      expect({ toLsn, names: await walNames(dir) }).toEqual({
        toLsn,
        names: expectedSegments.map((s) => segmentFileName(s.id)),
      });
      expect({ toLsn, lastLsn: result.lastLsn }).toEqual({ toLsn, lastLsn: toLsn });
      // The last restored segment ends right after the record at toLsn and is unsealed.
      const last = expectedSegments.at(-1) as SegmentFile;
      const restored = new Uint8Array(await readFile(join(dir, segmentFileName(last.id))));
      const end = last.ends[last.lsns.indexOf(toLsn)] as number;
      expect({ toLsn, size: restored.byteLength, sealed: decodeSegmentHeader(restored).sealed }).toEqual({
        toLsn,
        size: end,
        sealed: false,
      });
      expect(Buffer.compare(restored.subarray(32), last.bytes.subarray(32, end))).toBe(0);
      expect({ toLsn, events: await openedEvents(dir) }).toEqual({
        toLsn,
        events: eventsOf(txs.filter((t) => t.commitLsn <= toLsn)),
      });
    }
  });

  test("a log restored to an LSN takes new commits and reopens with them", async () => {
    const { txs, store } = await archivedLog(30);
    const toLsn = (txs[12] as Tx).beginLsn + 1; // inside transaction 12: it is left incomplete
    const dir = join(tmp.path, "restored");
    await restore({ store, dir, toLsn });
    const { wal, events } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 2048 });
    expect(events).toEqual(eventsOf(txs.slice(0, 12)));
    await wal.commitTx([{ after: "restore" }]);
    await wal.close();
    expect(await openedEvents(dir)).toEqual([...eventsOf(txs.slice(0, 12)), { after: "restore" }]);
  });

  test("a sealed newest segment gets the empty successor Wal.open's healing would create", async () => {
    const { source, txs, segments, store, archived } = await archivedLog(60, false);
    expect(archived.pieces).toEqual([]);
    const sealed = segments.filter((s) => s.header.sealed);
    const newest = sealed.at(-1) as SegmentFile;
    const dir = join(tmp.path, "restored");
    const result = await restore({ store, dir });
    expect(result.successor).toBe(join(dir, segmentFileName(newest.id + 1)));
    expect(result.segments).toBe(sealed.length);
    expect(await walNames(dir)).toEqual([...sealed.map((s) => segmentFileName(s.id)), segmentFileName(newest.id + 1)]);

    // What Wal.open creates for the same sealed segments.
    const healedDir = join(tmp.path, "healed");
    await mkdir(healedDir);
    for (const s of sealed) await writeFile(join(healedDir, segmentFileName(s.id)), s.bytes);
    const healed = await Wal.open<JsonValue>(healedDir, { codec: jsonCodec });
    await healed.wal.close();
    expect(healed.healed.map((h) => h.kind)).toEqual(["sealedSegmentSucceeded"]);
    const theirs = await readFile(join(healedDir, segmentFileName(newest.id + 1)));
    const ours = await readFile(join(dir, segmentFileName(newest.id + 1)));
    expect(ours.byteLength).toBe(32);
    expect(Buffer.compare(ours, theirs)).toBe(0);
    expect(decodeSegmentHeader(ours).baseLsn).toBe((newest.lsns.at(-1) as number) + 1);

    // Opening needs no healing and replays every transaction in the sealed segments.
    const opened = await Wal.open<JsonValue>(dir, { codec: jsonCodec });
    await opened.wal.close();
    expect(opened.healed).toEqual([]);
    const lastSealed = newest.lsns.at(-1) as number;
    expect(opened.events).toEqual(eventsOf(txs.filter((t) => t.commitLsn <= lastSealed)));
    void source;
  });

  test("fromLsn starts at the segment holding fromLsn + 1, fetches nothing older, and opens with checkpointLsn", async () => {
    const { txs, segments, store, archived } = await archivedLog();
    const fence = (txs[33] as Tx).commitLsn;
    const holding = segments.filter((s) => s.header.baseLsn <= fence + 1).at(-1) as SegmentFile;
    expect(holding.id).toBeGreaterThan(2);
    const fetched: string[] = [];
    store.onCall((c) => {
      if (c.op === "get") fetched.push(c.key);
    });
    const dir = join(tmp.path, "from-fence");
    const result = await restore({ store, dir, fromLsn: fence });
    const older = segments.filter((s) => s.id < holding.id).map((s) => archived.sealed.get(s.id));
    expect(fetched.filter((k) => older.includes(k))).toEqual([]);
    expect(result.segments).toBe(segments.length - holding.id + 1);
    expect((await walNames(dir))[0]).toBe(segmentFileName(holding.id));

    expect(await openedEvents(dir, fence)).toEqual(eventsOf(txs.filter((t) => t.beginLsn > fence)));
    // Without the fence the restored log is missing its beginning, and open says so.
    const error = await failure(Wal.open<JsonValue>(dir, { codec: jsonCodec }));
    expect(isWalError(error, "WAL_FENCE_TOO_LOW")).toBe(true);

    // With toLsn as well: the transactions after the fence up to toLsn.
    const toLsn = (txs[50] as Tx).commitLsn;
    const both = join(tmp.path, "fence-to");
    await restore({ store, dir: both, fromLsn: fence, toLsn });
    expect(await openedEvents(both, fence)).toEqual(
      eventsOf(txs.filter((t) => t.beginLsn > fence && t.commitLsn <= toLsn)),
    );
  });

  test("restores into a directory that exists and is empty, through fsArchive too", async () => {
    const source = join(tmp.path, "source");
    const txs = await writeLog(source, 25);
    const store = fsArchive(join(tmp.path, "archive"));
    await archiveLog(store, await readSegments(source));
    const dir = join(tmp.path, "empty");
    await mkdir(dir);
    await restore({ store, dir });
    expect(await openedEvents(dir)).toEqual(eventsOf(txs));
  });

  test("keys that are not archive keys are ignored", async () => {
    const { txs, store } = await archivedLog(20);
    await store.put("segments/README.txt", new TextEncoder().encode("not a segment"));
    await store.put("partial/0000000001-junk.part", new Uint8Array(3));
    await store.put("other/0000000001.wal", new Uint8Array(3));
    const dir = join(tmp.path, "restored");
    await restore({ store, dir });
    expect(await openedEvents(dir)).toEqual(eventsOf(txs));
  });

  test("every crash image of a restore either holds the whole log or fails to open, never a shorter or empty log", async () => {
    const { txs, store } = await archivedLog(40);
    const sim = new SimFS();
    const outcomes = new Set<string>();
    const images: SimFS[] = [];
    sim.onOperation(() => {
      for (const image of sim.crashImages({ maxImages: 12 })) images.push(image.fs);
    });
    await restore({ store, dir: "/restored", fs: sim });
    for (const image of sim.crashImages()) images.push(image.fs);
    for (const fs of images) {
      const names = (await fs.stat("/restored")) === null ? [] : fs.listSync("/restored");
      if (names.length === 0) {
        outcomes.add("nothing yet");
        continue;
      }
      const replay = replayDir<JsonValue>("/restored", { codec: jsonCodec, fs });
      const events: JsonValue[] = [];
      try {
        for await (const tx of replay) events.push(...tx.events);
      } catch (error) {
        // Only .restoring files (none renamed into place yet): a restore that did not finish, never an empty log.
        const unfinished = !names.some((n) => n.endsWith(".wal"));
        expect(isWalError(error) ? error.code : error).toBe(unfinished ? "WAL_MALFORMED" : "WAL_FENCE_TOO_LOW");
        outcomes.add(unfinished ? "unfinished" : "fence too low");
        continue;
      }
      expect(events).toEqual(eventsOf(txs));
      outcomes.add("whole");
    }
    expect([...outcomes].sort()).toEqual(["fence too low", "nothing yet", "unfinished", "whole"]);
  });

  test("with the lora codec, LoraDB opens the restored directory and shows the same graph", async () => {
    const source = join(tmp.path, "lora-source");
    const { wal } = await Wal.open<MutationEvent>(source, { codec: loraCodec, segmentTargetBytes: 4096 });
    let id = 0n;
    for (let tx = 0; tx < 40; tx++) {
      const events: MutationEvent[] = [];
      for (let i = 0; i < 5; i++) {
        const properties = createPropertyMap();
        properties.tx = BigInt(tx);
        properties.name = `node-${id}-${"x".repeat(tx % 20)}`;
        events.push({ type: "CreateNode", id: id++, labels: ["Restored"], properties });
      }
      await wal.commitTx(events);
    }
    await wal.close();
    const segments = await readSegments(source, loraCodec as PayloadCodec<unknown>);
    expect(segments.length).toBeGreaterThanOrEqual(4);

    const withPieces = memoryArchive();
    await archiveLog(withPieces, segments);
    const sealedOnly = memoryArchive();
    await archiveLog(sealedOnly, segments, false);
    const lastSealed = segments.filter((s) => s.header.sealed).at(-1) as SegmentFile;
    // Five nodes per transaction, and each transaction is three records (begin, batch, commit).
    const nodesInSealed = ((lastSealed.lsns.at(-1) as number) / 3) * 5;

    const cases: { name: string; store: MemoryArchive; nodes: number }[] = [
      { name: "newest from pieces", store: withPieces, nodes: 200 },
      { name: "sealed newest and its successor", store: sealedOnly, nodes: nodesInSealed },
    ];
    for (const c of cases) {
      const dir = join(tmp.path, c.name.replaceAll(" ", "-"));
      await restore({ store: c.store, dir });
      const db = await openWalDatabase({ walDir: dir });
      try {
        expect({ case: c.name, summary: await loraGraphSummary(db) }).toEqual({
          case: c.name,
          summary: { nodes: c.nodes, relationships: 0 },
        });
      } finally {
        db.dispose();
      }
    }
    expect(nodesInSealed).toBeGreaterThan(0);
    expect(nodesInSealed).toBeLessThan(200);
  });
});

describe("restore refuses", () => {
  test("a target that is not empty or not a directory, before fetching anything", async () => {
    const { store } = await archivedLog(10);
    const full = join(tmp.path, "full");
    await mkdir(full);
    await writeFile(join(full, "0000000001.wal"), "x");
    const file = join(tmp.path, "a-file");
    await writeFile(file, "x");
    for (const dir of [full, file]) {
      const error = await failure(restore({ store, dir }));
      expect(isWalError(error, "WAL_INVALID_OPTION")).toBe(true);
      if (dir === full) expect((error as Error).message).toContain("is not empty (1 entry: 0000000001.wal)");
    }
    expect(store.calls.get + store.calls.list).toBe(0);
    expect(await readdir(full)).toEqual(["0000000001.wal"]);
  });

  test("bad options", async () => {
    const store = memoryArchive();
    const dir = join(tmp.path, "x");
    for (const options of [
      { store, dir: "" },
      { store, dir, toLsn: -1 },
      { store, dir, fromLsn: 1.5 },
      { store, dir, fromLsn: 10, toLsn: 9 },
      { store: {} as ArchiveStore, dir },
    ]) {
      expect(isWalError(await failure(restore(options)), "WAL_INVALID_OPTION")).toBe(true);
    }
  });

  test("a signal that is not an AbortSignal, or a store that is not one, before calling the store or creating dir", async () => {
    const { store } = await archivedLog(10);
    const dir = join(tmp.path, "r");
    for (const options of [
      { store, dir, signal: {} },
      { store, dir, signal: "x" },
      { store, dir, signal: 5 },
      { store, dir, signal: null },
      { store: null, dir },
      { store: { list: store.list.bind(store) }, dir },
    ]) {
      const error = await failure(restore(options as unknown as RestoreOptions));
      expect(isWalError(error, "WAL_INVALID_OPTION")).toBe(true);
      expect((error as Error).message).toMatch(/^restore: (signal|store) must be an? /);
    }
    expect(store.calls.get + store.calls.list).toBe(0);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
  });

  test("an empty archive", async () => {
    const error = await failure(restore({ store: memoryArchive(), dir: join(tmp.path, "r") }));
    expectArchiveError(error, "WAL_ARCHIVE_MISSING", "segments/0000000001-*");
  });

  test("a missing middle segment, naming it, and leaves the target empty", async () => {
    const { store, archived } = await archivedLog();
    store.remove(archived.sealed.get(3) as string);
    const dir = join(tmp.path, "restored");
    const error = await failure(restore({ store, dir }));
    expectArchiveError(error, "WAL_ARCHIVE_MISSING", "segments/0000000003-*");
    // Found from the keys alone, before the directory is created.
    expect(await stat(dir).catch((e: { code?: string }) => e.code)).toBe("ENOENT");
    expect(store.calls.get).toBe(0);
    // Restoring to an LSN before the hole works; one whose range reaches the hole does not.
    const before = await restore({ store, dir: join(tmp.path, "before"), toLsn: 5 });
    expect(before.segments).toBe(1);
  });

  test("a segment after the last one needed, when it is missing and may hold records at or below toLsn", async () => {
    const { segments, store, archived } = await archivedLog();
    store.remove(archived.sealed.get(3) as string);
    const toLsn = (segments[2] as SegmentFile).header.baseLsn + 2; // in segment 3, which is gone
    const error = await failure(restore({ store, dir: join(tmp.path, "r"), toLsn }));
    expectArchiveError(error, "WAL_ARCHIVE_MISSING", "segments/0000000003-*");
  });

  test("a missing segment does not stop a restore to a point before it: up to the last record of the one before", async () => {
    const { segments, store, archived } = await archivedLog();
    store.remove(archived.sealed.get(3) as string);
    const toLsn = (segments[2] as SegmentFile).header.baseLsn - 1; // the last record of segment 2
    const result = await restore({ store, dir: join(tmp.path, "r"), toLsn });
    expect(result.lastLsn).toBe(toLsn);
    const { wal } = await Wal.open<JsonValue>(join(tmp.path, "r"), { codec: jsonCodec });
    expect(wal.nextLsn()).toBe(toLsn + 1);
    await wal.close();
    // One past it is in the missing segment.
    const error = await failure(restore({ store, dir: join(tmp.path, "r2"), toLsn: toLsn + 1 }));
    expectArchiveError(error, "WAL_ARCHIVE_MISSING", "segments/0000000003-*");
  });

  test("a segment older than the newest that has only pieces", async () => {
    const { segments, store, archived } = await archivedLog();
    const newestSealed = (segments.filter((s) => s.header.sealed).at(-1) as SegmentFile).id;
    const key = archived.sealed.get(newestSealed) as string;
    const bytes = store.peek(key) as Uint8Array;
    store.remove(key);
    const base = (segments.find((s) => s.id === newestSealed) as SegmentFile).header.baseLsn;
    const piece = bytes.slice(0, 200);
    await store.put(
      archiveKey({ kind: "piece", id: newestSealed, baseLsn: base, from: 0, to: 200, crc32: crc32(piece) }),
      piece,
    );
    const error = await failure(restore({ store, dir: join(tmp.path, "r") }));
    expectArchiveError(error, "WAL_ARCHIVE_MISSING", `segments/${String(newestSealed).padStart(10, "0")}-*`);
  });

  test("a missing piece of the active segment, naming the offset", async () => {
    const { segments, store, archived } = await archivedLog();
    const active = segments.at(-1) as SegmentFile;
    const second = archived.pieces[1] as string;
    store.remove(second);
    const from = Number(second.split("-")[2]);
    const error = await failure(restore({ store, dir: join(tmp.path, "r") }));
    const prefix = `partial/${String(active.id).padStart(10, "0")}-${String(active.header.baseLsn).padStart(16, "0")}`;
    expectArchiveError(error, "WAL_ARCHIVE_MISSING", `${prefix}-${String(from).padStart(12, "0")}-*`);
    // Without the first piece, the chain does not start.
    store.remove(archived.pieces[0] as string);
    const noStart = await failure(restore({ store, dir: join(tmp.path, "r2") }));
    expectArchiveError(noStart, "WAL_ARCHIVE_MISSING", `${prefix}-000000000000-*`);
  });

  test("a flipped byte in a sealed segment or a piece, naming the object", async () => {
    for (const which of ["sealed", "piece"] as const) {
      const { store, archived } = await archivedLog(30);
      const key = which === "sealed" ? (archived.sealed.get(2) as string) : (archived.pieces[2] as string);
      store.corrupt(key);
      const dir = join(tmp.path, `r-${which}`);
      const error = await failure(restore({ store, dir }));
      expectArchiveError(error, "WAL_ARCHIVE_CORRUPT", key);
      expect((error as Error).message).toContain("CRC-32");
      await expectGone(dir);
    }
  });

  test("a truncated object, and an object whose size differs from its key", async () => {
    const { store, archived } = await archivedLog(30);
    const key = archived.sealed.get(1) as string;
    store.corrupt(key, { truncateTo: 100 });
    expectArchiveError(await failure(restore({ store, dir: join(tmp.path, "r1") })), "WAL_ARCHIVE_CORRUPT", key);

    const other = await archivedLog(30);
    const original = other.archived.sealed.get(2) as string;
    const bytes = other.store.peek(original) as Uint8Array;
    other.store.remove(original);
    // The right bytes and CRC under a key that claims one more byte.
    const parts = original.split("-");
    const wrong = [...parts.slice(0, 2), String(bytes.byteLength + 1), ...parts.slice(3)].join("-");
    await other.store.put(wrong, bytes);
    const error = await failure(restore({ store: other.store, dir: join(tmp.path, "r2") }));
    expectArchiveError(error, "WAL_ARCHIVE_CORRUPT", wrong);
  });

  test("an object whose header names another base LSN than its key", async () => {
    const { segments, store, archived } = await archivedLog(30);
    const s = segments[1] as SegmentFile;
    store.remove(archived.sealed.get(s.id) as string);
    const key = archiveKey({
      kind: "segment",
      id: s.id,
      baseLsn: s.header.baseLsn + 1,
      size: s.bytes.byteLength,
      crc32: crc32(s.bytes),
    });
    await store.put(key, s.bytes);
    const error = await failure(restore({ store, dir: join(tmp.path, "r") }));
    expectArchiveError(error, "WAL_ARCHIVE_CORRUPT", key);
    expect((error as Error).message).toContain("base lsn");
  });

  test("damaged records under a matching CRC-32 (archived damaged), naming the object", async () => {
    const { segments, store, archived } = await archivedLog(30);
    const s = segments[1] as SegmentFile;
    const damaged = s.bytes.slice();
    const at = (s.ends[2] as number) + 6; // inside the LSN of the fourth record
    damaged[at] = (damaged[at] as number) ^ 0x40;
    store.remove(archived.sealed.get(s.id) as string);
    const key = archiveKey({
      kind: "segment",
      id: s.id,
      baseLsn: s.header.baseLsn,
      size: damaged.byteLength,
      crc32: crc32(damaged),
    });
    await store.put(key, damaged);
    const error = await failure(restore({ store, dir: join(tmp.path, "r") }));
    expectArchiveError(error, "WAL_ARCHIVE_CORRUPT", key);
    expect((error as Error).message).toContain(`offset ${s.ends[2]}`);
  });

  test("a piece chain that ends inside a record", async () => {
    const { segments, store, archived } = await archivedLog(30);
    const active = segments.at(-1) as SegmentFile;
    const last = archived.pieces.at(-1) as string;
    const bytes = store.peek(last) as Uint8Array;
    const from = Number(last.split("-")[2]);
    store.remove(last);
    const cut = bytes.slice(0, bytes.byteLength - 3);
    const key = archiveKey({
      kind: "piece",
      id: active.id,
      baseLsn: active.header.baseLsn,
      from,
      to: from + cut.byteLength,
      crc32: crc32(cut),
    });
    await store.put(key, cut);
    const error = await failure(restore({ store, dir: join(tmp.path, "r") }));
    expectArchiveError(error, "WAL_ARCHIVE_CORRUPT", key);
    expect((error as Error).message).toContain("ends inside a record");
  });

  test("toLsn above everything archived, saying what the archive holds", async () => {
    const { txs, store } = await archivedLog(30);
    const last = (txs.at(-1) as Tx).commitLsn;
    const dir = join(tmp.path, "r");
    const error = await failure(restore({ store, dir, toLsn: last + 1 }));
    expectArchiveError(error, "WAL_ARCHIVE_MISSING", /^partial\//);
    expect((error as Error).message).toContain(`its newest record is lsn ${last}`);
    await expectGone(dir);
  });

  test("toLsn or fromLsn before what the archive reaches back to", async () => {
    const { segments, store, archived } = await archivedLog(40);
    store.remove(archived.sealed.get(1) as string);
    store.remove(archived.sealed.get(2) as string);
    const oldest = (segments[2] as SegmentFile).header.baseLsn;
    const early = await failure(restore({ store, dir: join(tmp.path, "r1"), toLsn: oldest - 1 }));
    expectArchiveError(early, "WAL_ARCHIVE_MISSING", "segments/0000000002-*");
    const fence = await failure(restore({ store, dir: join(tmp.path, "r2"), fromLsn: oldest - 2 }));
    expectArchiveError(fence, "WAL_ARCHIVE_MISSING", "segments/0000000002-*");
    // From the fence the oldest segment serves, it works.
    const ok = await restore({ store, dir: join(tmp.path, "r3"), fromLsn: oldest - 1 });
    expect(ok.segments).toBe(segments.length - 2);
  });

  test("and removes the directories it created (missing parents too), never one that was there", async () => {
    const { store, archived } = await archivedLog(30);
    // Found after newer segments were written: the directory holds files by then.
    store.corrupt(archived.sealed.get(1) as string);
    const nested = join(tmp.path, "a", "b", "restored");
    expectArchiveError(await failure(restore({ store, dir: nested })), "WAL_ARCHIVE_CORRUPT", /^segments\//);
    await expectGone(join(tmp.path, "a"));
    // An empty directory that was there stays, empty; so does its parent.
    const existing = join(tmp.path, "existing");
    await mkdir(existing);
    expectArchiveError(await failure(restore({ store, dir: existing })), "WAL_ARCHIVE_CORRUPT", /^segments\//);
    expect(await readdir(existing)).toEqual([]);
    // Under a parent that was there, only the directory created goes.
    const child = join(existing, "restored");
    expectArchiveError(await failure(restore({ store, dir: child })), "WAL_ARCHIVE_CORRUPT", /^segments\//);
    await expectGone(child);
    expect(await readdir(existing)).toEqual([]);
  });

  test("a store failure mid-restore: WAL_IO, and the files written so far are removed", async () => {
    const { store, archived } = await archivedLog(40);
    store.injectFault({ op: "get", key: archived.sealed.get(2) as string, error: "reset" });
    const dir = join(tmp.path, "r");
    const error = await failure(restore({ store, dir }));
    expect(isWalError(error, "WAL_IO")).toBe(true);
    await expectGone(dir);
  });

  test("an aborted restore rejects with the signal's reason and removes what it wrote", async () => {
    const { store } = await archivedLog(40);
    const controller = new AbortController();
    const reason = new Error("stop");
    let gets = 0;
    store.onCall((call) => {
      if (call.op === "get" && ++gets === 3) controller.abort(reason);
    });
    const progress: RestoreProgress[] = [];
    const dir = join(tmp.path, "r");
    const error = await failure(
      restore({ store, dir, signal: controller.signal, onProgress: (p) => progress.push(p) }),
    );
    expect(error).toBe(reason);
    expect(gets).toBe(3);
    // No last call for a restore that did not finish.
    expect(progress).toEqual([]);
    await expectGone(dir);
  });
});
