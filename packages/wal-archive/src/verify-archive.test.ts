import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { crc32, isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem, decodeSegmentHeader, listSegments, SegmentReader } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { archiveKey } from "./archive-keys.js";
import { type MemoryArchive, memoryArchive } from "./memory-archive.js";
import { listArchive, type VerifyArchiveOptions, type VerifyArchiveProgress, verifyArchive } from "./verify-archive.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir("wal-archive-verify");
});
afterEach(async () => {
  await tmp.cleanup();
});

interface Segment {
  readonly id: number;
  readonly baseLsn: number;
  readonly sealed: boolean;
  readonly bytes: Uint8Array;
  /** Record end offsets. */
  readonly ends: number[];
}

/** A log of `count` single-batch transactions (on 2 KiB segments by default); the last commit LSN and its segments. */
async function writeLog(count: number, segmentTargetBytes = 2048): Promise<{ lastLsn: number; segments: Segment[] }> {
  const dir = join(tmp.path, "log");
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes });
  let lastLsn = 0;
  for (let i = 0; i < count; i++) {
    const info = await wal.commitTx([{ i, pad: "v".repeat((i * 53) % 150) }]);
    lastLsn = info?.commitLsn ?? lastLsn;
  }
  await wal.close();
  const fs = createNodeFileSystem();
  const segments: Segment[] = [];
  for (const entry of await listSegments(fs, dir)) {
    const bytes = new Uint8Array(await readFile(entry.path));
    const header = decodeSegmentHeader(bytes);
    const reader = await SegmentReader.open(fs, entry.path);
    const ends: number[] = [];
    for (let step = await reader.next(jsonCodec); step.kind === "record"; step = await reader.next(jsonCodec)) {
      ends.push(step.offset + step.byteLength);
    }
    await reader.close();
    segments.push({ id: entry.id, baseLsn: header.baseLsn, sealed: header.sealed, bytes, ends });
  }
  return { lastLsn, segments };
}

async function putSealed(store: MemoryArchive, s: Segment): Promise<string> {
  const key = archiveKey({
    kind: "segment",
    id: s.id,
    baseLsn: s.baseLsn,
    size: s.bytes.byteLength,
    crc32: crc32(s.bytes),
  });
  await store.put(key, s.bytes);
  return key;
}

async function putPiece(store: MemoryArchive, s: Segment, from: number, to: number): Promise<string> {
  const bytes = s.bytes.slice(from, to);
  const key = archiveKey({ kind: "piece", id: s.id, baseLsn: s.baseLsn, from, to, crc32: crc32(bytes) });
  await store.put(key, bytes);
  return key;
}

/** Every sealed segment whole, the active one in two pieces split at its middle record. */
async function archived(count = 50) {
  const { lastLsn, segments } = await writeLog(count);
  const store = memoryArchive();
  const sealed = new Map<number, string>();
  const pieces: string[] = [];
  const active = segments.at(-1) as Segment;
  for (const s of segments.slice(0, -1)) sealed.set(s.id, await putSealed(store, s));
  const middle = active.ends[Math.floor(active.ends.length / 2)] as number;
  pieces.push(await putPiece(store, active, 0, middle), await putPiece(store, active, middle, active.bytes.byteLength));
  return { lastLsn, segments, store, sealed, pieces, active };
}

const total = (segments: readonly Segment[]) => segments.reduce((n, s) => n + s.bytes.byteLength, 0);

describe("verifyArchive", () => {
  test("a sound archive: every segment checked, no problems, nothing written", async () => {
    const { lastLsn, segments, store } = await archived();
    expect(segments.length).toBeGreaterThanOrEqual(4);
    const progress: VerifyArchiveProgress[] = [];
    const report = await verifyArchive(store, { onProgress: (p) => void progress.push(p) });
    expect(report).toEqual({
      segments: segments.length,
      pieces: 2,
      bytes: total(segments),
      firstLsn: 1,
      lastLsn,
      problems: [],
    });
    expect(progress.map((p) => p.segmentsDone)).toEqual(segments.map((_, i) => i + 1));
    // Bytes of the objects checked, rising to the archive's total; done only at the last call.
    expect(progress.at(-1)).toMatchObject({ bytes: total(segments), totalBytes: total(segments), done: true });
    expect(progress.slice(0, -1).every((p) => !p.done && p.bytes < p.totalBytes)).toBe(true);
    expect(store.calls.put - (segments.length + 1)).toBe(0);
    expect(store.calls.delete).toBe(0);
  });

  test("an empty archive is one missing-segments problem", async () => {
    const report = await verifyArchive(memoryArchive());
    expect(report.segments).toBe(0);
    expect(report.problems.map((p) => p.code)).toEqual(["WAL_ARCHIVE_MISSING"]);
    expect(report.firstLsn).toBe(undefined);
  });

  test("collects every problem: a missing segment, a corrupt one, a gap in the pieces; the rest still checked", async () => {
    const { segments, store, sealed, pieces, active } = await archived(60);
    expect(segments.length).toBeGreaterThanOrEqual(5);
    store.remove(sealed.get(2) as string);
    store.corrupt(sealed.get(4) as string);
    store.remove(pieces[0] as string);
    const report = await verifyArchive(store);
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    expect(report.problems.map((p) => [p.code, p.key])).toEqual([
      ["WAL_ARCHIVE_MISSING", "segments/0000000002-*"],
      ["WAL_ARCHIVE_CORRUPT", sealed.get(4)],
      ["WAL_ARCHIVE_MISSING", `partial/${pad(active.id, 10)}-${pad(active.baseLsn, 16)}-000000000000-*`],
    ]);
    for (const p of report.problems) expect(p.message.length).toBeGreaterThan(20);
    const good = segments.filter((s) => s.id !== 2 && s.id !== 4 && s.id !== active.id);
    expect(report.segments).toBe(good.length);
    expect(report.bytes).toBe(total(good));
    expect(report.pieces).toBe(0);
  });

  test("the piece chain reaching furthest is used, whatever pieces supersede each other", async () => {
    const { lastLsn, segments } = await writeLog(40, 1 << 20);
    expect(segments.length).toBe(1);
    const store = memoryArchive();
    const active = segments[0] as Segment;
    const e = active.ends;
    expect(e.length).toBeGreaterThanOrEqual(8);
    const [a, b, c] = [e[1] as number, e[3] as number, e[5] as number];
    const end = active.bytes.byteLength;
    // [0,a) and [0,b) overlap; [b,c) leads nowhere; [a,end) reaches the end: taking the longest first piece fails.
    for (const [from, to] of [
      [0, a],
      [0, b],
      [b, c],
      [a, end],
    ] as const) {
      await putPiece(store, active, from, to);
    }
    const report = await verifyArchive(store);
    expect(report.problems).toEqual([]);
    expect(report.pieces).toBe(2);
    expect(report.bytes).toBe(total(segments));
    expect(report.lastLsn).toBe(lastLsn);
  });

  test("two sealed objects for one segment, or objects naming different base LSNs, are corruption", async () => {
    const { segments, store, sealed } = await archived(40);
    const s = segments[1] as Segment;
    const twin = s.bytes.slice();
    twin[40] = (twin[40] as number) ^ 1;
    const second = archiveKey({
      kind: "segment",
      id: s.id,
      baseLsn: s.baseLsn,
      size: twin.byteLength,
      crc32: crc32(twin),
    });
    await store.put(second, twin);
    const t = segments[2] as Segment;
    const stray = archiveKey({
      kind: "piece",
      id: t.id,
      baseLsn: t.baseLsn + 7,
      from: 0,
      to: 32,
      crc32: crc32(t.bytes.slice(0, 32)),
    });
    await store.put(stray, t.bytes.slice(0, 32));
    const report = await verifyArchive(store);
    expect(report.problems.map((p) => [p.code, p.key])).toEqual([
      ["WAL_ARCHIVE_CORRUPT", [sealed.get(s.id) as string, second].sort()[1]],
      ["WAL_ARCHIVE_CORRUPT", stray],
    ]);
  });

  test("a segment that does not follow the one before it (base LSN not above its records)", async () => {
    const { segments, store, sealed } = await archived(50);
    const [two, three] = [segments[1] as Segment, segments[2] as Segment];
    store.remove(sealed.get(three.id) as string);
    // Segment 2's bytes again, archived as segment 3 (its header says segment 2's base).
    const key = archiveKey({
      kind: "segment",
      id: three.id,
      baseLsn: two.baseLsn,
      size: two.bytes.byteLength,
      crc32: crc32(two.bytes),
    });
    await store.put(key, two.bytes);
    const report = await verifyArchive(store);
    expect(report.problems.map((p) => [p.code, p.key])).toEqual([["WAL_ARCHIVE_CORRUPT", key]]);
    expect(report.problems[0]?.message).toContain("not above segment 2");
  });

  test("a failing get is reported as a problem and the other segments are still checked", async () => {
    const { segments, store, sealed } = await archived(40);
    store.injectFault({ op: "get", key: sealed.get(1) as string, error: "reset" });
    const report = await verifyArchive(store);
    expect(report.problems.map((p) => [p.code, p.key])).toEqual([["WAL_IO", sealed.get(1)]]);
    expect(report.segments).toBe(segments.length - 1);
  });

  test("an aborted verify rejects with the signal's reason", async () => {
    const { store } = await archived(30);
    const controller = new AbortController();
    const reason = new Error("enough");
    let error: unknown;
    try {
      await verifyArchive(store, {
        signal: controller.signal,
        onProgress: () => controller.abort(reason),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBe(reason);
  });
});

describe("verifyArchive and listArchive refuse", () => {
  /** The rejection of `p` (failing if it resolves): a WalError with `code` and a message starting with `prefix`. */
  /** A refusal before the store is called: a store that is not one is a wrong argument, anything else an option. */
  async function refusal(p: Promise<unknown>, prefix: string): Promise<void> {
    const code = prefix.endsWith("store must be an ArchiveStore") ? "WAL_INVALID_ARGUMENT" : "WAL_INVALID_OPTION";
    const error = await p.then(
      () => expect.unreachable("the call resolved"),
      (e: unknown) => e,
    );
    expect(isWalError(error, code)).toBe(true);
    expect((error as Error).message.startsWith(prefix)).toBe(true);
  }

  test("a store that is not an ArchiveStore, before calling anything of it", async () => {
    const list = vi.fn(() => Promise.resolve([]));
    for (const store of [null, undefined, {}, { list }, "fs:/backup"]) {
      await refusal(verifyArchive(store as unknown as MemoryArchive), "verifyArchive: store must be an ArchiveStore");
      await refusal(listArchive(store as unknown as MemoryArchive), "listArchive: store must be an ArchiveStore");
    }
    expect(list).not.toHaveBeenCalled();
  });

  test("a read-only store (get and list, all they call) serves them", async () => {
    const { store } = await archived(10);
    const readOnly = { get: store.get.bind(store), list: store.list.bind(store) };
    const report = await verifyArchive(readOnly as unknown as MemoryArchive);
    expect(report).toEqual(await verifyArchive(store));
    expect(await listArchive(readOnly as unknown as MemoryArchive)).toEqual(await listArchive(store));
  });

  test("a signal that is not an AbortSignal, options that are not an object, before calling the store", async () => {
    const { store } = await archived(10);
    for (const signal of [{}, "x", 5, null]) {
      const options = { signal } as unknown as { signal: AbortSignal };
      await refusal(verifyArchive(store, options), "verifyArchive: signal must be an AbortSignal");
      await refusal(listArchive(store, options), "listArchive: signal must be an AbortSignal");
    }
    await refusal(
      verifyArchive(store, null as unknown as VerifyArchiveOptions),
      "verifyArchive: options must be an object",
    );
    await refusal(listArchive(store, 5 as unknown as VerifyArchiveOptions), "listArchive: options must be an object");
    expect(store.calls).toEqual({ put: expect.any(Number), get: 0, list: 0, delete: 0 });
  });

  test("an onProgress that is not a function, before calling the store", async () => {
    const { store } = await archived(10);
    for (const onProgress of [5, "progress", {}]) {
      const options = { onProgress } as unknown as VerifyArchiveOptions;
      await refusal(verifyArchive(store, options), "verifyArchive: onProgress must be a function");
    }
    expect(store.calls.list + store.calls.get).toBe(0);
  });
});

describe("listArchive", () => {
  test("groups the parsed objects per segment, oldest first, pieces by offset; other keys are left out", async () => {
    const { segments } = await writeLog(30);
    const store = memoryArchive();
    const [one, two] = [segments[0] as Segment, segments[1] as Segment];
    const sealedOne = await putSealed(store, one);
    const late = await putPiece(store, two, 100, 200);
    const early = await putPiece(store, two, 0, 100);
    const wider = await putPiece(store, two, 0, 150);
    await store.put("segments/notes.txt", new Uint8Array(1));
    await store.put("partial/garbage", new Uint8Array(1));
    await store.put("elsewhere/0000000001.wal", new Uint8Array(1));
    const listing = await listArchive(store);
    expect(listing).toEqual([
      {
        id: one.id,
        baseLsn: one.baseLsn,
        sealed: [
          {
            kind: "segment",
            key: sealedOne,
            id: one.id,
            baseLsn: one.baseLsn,
            size: one.bytes.byteLength,
            crc32: crc32(one.bytes),
            storedSize: one.bytes.byteLength,
          },
        ],
        pieces: [],
      },
      {
        id: two.id,
        baseLsn: two.baseLsn,
        sealed: [],
        pieces: [early, wider, late].map((key) => {
          const [from, to] = key === early ? [0, 100] : key === wider ? [0, 150] : [100, 200];
          return {
            kind: "piece",
            key,
            id: two.id,
            baseLsn: two.baseLsn,
            from,
            to,
            crc32: crc32(two.bytes.slice(from, to)),
            storedSize: to - from,
          };
        }),
      },
    ]);
    expect(await listArchive(memoryArchive())).toEqual([]);
  });
});
