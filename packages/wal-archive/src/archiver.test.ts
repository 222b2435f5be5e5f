import { basename } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { Wal } from "@lora/wal";
import { crc32, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createSlot, readSlot } from "@lora/wal-replay";
import { isSpareSegmentName, listSegments, SegmentReader, segmentPath } from "@lora/wal-segment";
import { countingFileSystem, interceptOpen, SimFS } from "@lora/wal-segment/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseArchiveKey } from "./archive-keys.js";
import type { ArchiveObjectInfo, ArchiveStore } from "./archive-store.js";
import {
  type ArchivableWal,
  type Archiver,
  type ArchiverOptions,
  type ArchiverStatus,
  startArchiver,
} from "./archiver.js";

/** A minimal store over a Map, with a switch that makes every call fail or hang (the network down). */
class MapStore implements ArchiveStore {
  readonly name = "map";
  readonly objects = new Map<string, Uint8Array>();
  mode: "up" | "fail" | "hang" = "up";
  calls = 0;
  async #gate(signal?: AbortSignal): Promise<void> {
    this.calls++;
    if (this.mode === "fail") throw new Error("503 Service Unavailable");
    if (this.mode === "hang") {
      await new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true }));
    }
  }
  async put(key: string, bytes: Uint8Array, o?: { crc32?: number; signal?: AbortSignal }) {
    await this.#gate(o?.signal);
    if (o?.crc32 !== undefined && o.crc32 !== crc32(bytes)) throw new Error("crc");
    this.objects.set(key, bytes.slice());
  }
  async get(key: string, o?: { signal?: AbortSignal }) {
    await this.#gate(o?.signal);
    return this.objects.get(key) ?? null;
  }
  async list(prefix = "", o?: { signal?: AbortSignal }): Promise<ArchiveObjectInfo[]> {
    await this.#gate(o?.signal);
    return [...this.objects]
      .filter(([k]) => k.startsWith(prefix))
      .map(([key, b]) => ({ key, size: b.byteLength }))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  }
  async delete(key: string, o?: { signal?: AbortSignal }) {
    await this.#gate(o?.signal);
    this.objects.delete(key);
  }
}

const archivers: Archiver[] = [];
afterEach(async () => {
  for (const a of archivers.splice(0)) await a.stop({ flush: false });
});

async function setup(options: { segmentTargetBytes?: number; intervalMs?: number } = {}) {
  const fs = new SimFS();
  const { wal } = await Wal.open<JsonValue>("/w", {
    codec: jsonCodec,
    fs,
    segmentTargetBytes: options.segmentTargetBytes ?? 300,
  });
  const store = new MapStore();
  const states: ArchiverStatus["state"][] = [];
  const archiver = startArchiver(wal, {
    store,
    fs,
    intervalMs: options.intervalMs ?? 5,
    retry: { initialMs: 1, maxMs: 5, failingAfter: 3 },
    callTimeoutMs: 50,
    onStateChange: (s) => states.push(s.state),
  });
  archivers.push(archiver);
  return { fs, wal, store, archiver, states };
}

/** Let the archiver work (turns of the event loop, bounded by a count) until it has uploaded `count` segments. */
async function untilUploaded(archiver: Archiver, count: number): Promise<void> {
  for (let turn = 0; turn < 10_000 && archiver.status().uploadedSegments < count; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(archiver.status().uploadedSegments).toBeGreaterThanOrEqual(count);
}

/**
 * A handle and archiver (intervalMs 1000, fake timers installed by the caller) at t = 2000 with everything durable
 * archived but the slot file behind: written at 1500 by a seal's pass, a second seal at 1700 within the interval,
 * the active segment's records shipped by the tick at 2000.
 */
async function withLaggingSlotFile() {
  const ctx = await setup({ intervalMs: 1000 });
  const { fs, wal, archiver } = ctx;
  await archiver.flush(); // t = 0: the slot file is written
  const slotAt = async () => (await readSlot("/w", "archive", { fs })).confirmedLsn;
  const rotate = async () => {
    const uploaded = archiver.status().uploadedSegments;
    const segments = (await listSegments(fs, "/w")).length;
    while ((await listSegments(fs, "/w")).length === segments) await wal.commitTx([{ pad: "p".repeat(40) }]);
    await untilUploaded(archiver, uploaded + 1);
    // The rest of the pass (the archived LSN, the slot file): a bounded number of turns.
    for (let turn = 0; turn < 200; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  vi.advanceTimersByTime(1500); // the tick at 1000 finds nothing new
  await rotate(); // t = 1500: the seal's pass writes the slot file (a whole interval since the last write)
  const written = await slotAt();
  expect(written).toBeGreaterThan(0);
  vi.advanceTimersByTime(200);
  await rotate(); // t = 1700: within the interval, the file is left behind
  expect(await slotAt()).toBe(written);
  vi.advanceTimersByTime(300); // t = 2000: the tick ships the active segment's records, still within the interval
  for (let turn = 0; turn < 10_000 && archiver.status().archivedLsn < wal.fsyncedLsn(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
  expect(await slotAt()).toBe(written);
  return { ...ctx, slotAt };
}

/** The base LSN of the newest segment in /w. */
async function activeBase(fs: SimFS): Promise<number> {
  const segs = await listSegments(fs, "/w");
  const active = await SegmentReader.open(fs, (segs.at(-1) as { path: string }).path);
  const base = active.header.baseLsn;
  await active.close();
  return base;
}

/** The bytes the archive holds for segment `id`: the sealed object, else the pieces from 0 in order. */
function archivedBytes(store: MapStore, id: number): Uint8Array | null {
  const keys = [...store.objects.keys()].map((k) => ({ k, p: parseArchiveKey(k) }));
  const sealed = keys.find((x) => x.p?.kind === "segment" && x.p.id === id);
  if (sealed !== undefined) return store.objects.get(sealed.k) as Uint8Array;
  const pieces = keys.flatMap((x) => (x.p?.kind === "piece" && x.p.id === id ? [{ ...x.p, k: x.k }] : []));
  pieces.sort((a, b) => a.from - b.from);
  let at = 0;
  const parts: Uint8Array[] = [];
  for (const p of pieces) {
    if (p.from !== at) return null;
    parts.push(store.objects.get(p.k) as Uint8Array);
    at = p.to;
  }
  return parts.length === 0 ? null : Buffer.concat(parts);
}

/** A segment's bytes up to the end of its records: a durable handle's active segment has zeros after them. */
async function fileBytes(fs: SimFS, path: string): Promise<Uint8Array> {
  const reader = await SegmentReader.open(fs, path);
  try {
    while ((await reader.next(jsonCodec)).kind === "record");
  } finally {
    await reader.close();
  }
  const f = await fs.open(path, "read");
  const b = new Uint8Array(reader.position);
  await f.read(b, 0, b.byteLength, 0);
  await f.close();
  return b;
}

describe("startArchiver", () => {
  it("uploads every sealed segment whole and the active segment's durable prefix, and flush waits for it", async () => {
    const { fs, wal, store, archiver } = await setup();
    for (let i = 0; i < 20; i++) await wal.commitTx([{ i, pad: "p".repeat(30) }]);
    await archiver.flush();
    const segments = await listSegments(fs, "/w");
    expect(segments.length).toBeGreaterThan(3);
    for (const s of segments) {
      const local = await fileBytes(fs, s.path);
      const archived = archivedBytes(store, s.id);
      // Sealed segments are archived whole; the active one up to its last record (all of it is durable here).
      expect(archived === null ? null : Buffer.from(archived), s.name).toEqual(Buffer.from(local));
    }
    const status = archiver.status();
    expect(status.archivedLsn).toBe(wal.fsyncedLsn());
    expect(status.state).toBe("running");
    expect(status.lagMs).toBe(0);
    await wal.close();
  });

  it("a rotation costs one store call (the sealed segment): the next segment's records wait for the timer or a flush", async () => {
    // The timer never fires in this test: what is shipped, a seal or a flush shipped.
    const { fs, wal, store, archiver } = await setup({ intervalMs: 3_600_000 });
    await archiver.flush();
    const before = archiver.status();
    const puts = store.objects.size;
    const segments = (await listSegments(fs, "/w")).length;
    while ((await listSegments(fs, "/w")).length < segments + 2) await wal.commitTx([{ pad: "p".repeat(40) }]);
    await untilUploaded(archiver, before.uploadedSegments + 2);
    await wal.commitTx([{ last: true }]);
    await untilUploaded(archiver, before.uploadedSegments + 2);
    const after = archiver.status();
    expect(after.uploadedSegments - before.uploadedSegments).toBe(2);
    expect(after.uploadedPieces).toBe(before.uploadedPieces);
    const added = [...store.objects.keys()].slice(puts).map((k) => parseArchiveKey(k)?.kind);
    expect(added).toEqual(["segment", "segment"]);
    expect(after.archivedLsn).toBeLessThan(wal.fsyncedLsn());
    await archiver.flush();
    expect(archiver.status().uploadedPieces).toBe(before.uploadedPieces + 1);
    expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
    await wal.close();
  });

  it("moves the slot file at most once per intervalMs, and on every flush and on stop", async () => {
    const { fs, wal, archiver } = await setup({ intervalMs: 3_600_000 });
    await archiver.flush();
    const slotAt = async () => (await readSlot("/w", "archive", { fs })).confirmedLsn;
    const first = await slotAt();
    const rotate = async (n: number) => {
      const uploaded = archiver.status().uploadedSegments;
      const segments = (await listSegments(fs, "/w")).length;
      while ((await listSegments(fs, "/w")).length < segments + n) await wal.commitTx([{ pad: "p".repeat(40) }]);
      await untilUploaded(archiver, uploaded + n);
    };
    await rotate(3);
    // Three segments archived, the file not moved: truncation keeps them (more than needed, never less).
    expect(await slotAt()).toBe(first);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
    await archiver.flush();
    const flushed = await slotAt();
    expect(flushed).toBeGreaterThan(first);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
    await rotate(2);
    expect(await slotAt()).toBe(flushed);
    await archiver.stop({ flush: false });
    expect(await slotAt()).toBeGreaterThan(flushed);
    await wal.close();
  });

  it("a flush that finds everything archived still moves a lagging slot file before it resolves", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "performance"] });
    try {
      const { fs, wal, archiver, slotAt } = await withLaggingSlotFile();
      await archiver.flush();
      expect(await slotAt()).toBe((await activeBase(fs)) - 1);
      await wal.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("a slot file left behind catches up at the next tick after an interval, with nothing new to ship", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "performance"] });
    try {
      const { fs, wal, slotAt } = await withLaggingSlotFile();
      vi.advanceTimersByTime(1000); // t = 3000: a whole interval since the file was written (at 1500)
      for (let turn = 0; turn < 200; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(await slotAt()).toBe((await activeBase(fs)) - 1);
      await wal.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps truncation from deleting a segment before it is archived (its replication slot)", async () => {
    const { fs, wal, store, archiver } = await setup();
    await archiver.flush();
    store.mode = "fail"; // the store is down: nothing new gets archived
    for (let i = 0; i < 20; i++) await wal.commitTx([{ i, pad: "p".repeat(30) }]);
    const before = (await listSegments(fs, "/w")).length;
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
    expect((await listSegments(fs, "/w")).length).toBe(before);
    store.mode = "up";
    await archiver.flush();
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
    expect((await readSlot("/w", "archive", { fs })).confirmedLsn).toBeGreaterThan(0);
    await wal.close();
  });

  it("a store that stays down: the writer never waits, the state turns failing with a code, and it recovers", async () => {
    const { wal, store, archiver, states } = await setup();
    await archiver.flush();
    store.mode = "hang"; // every call hangs until its time-out
    const flushed = archiver.flush();
    for (let i = 0; i < 30; i++) await wal.commitTx([{ i }]); // commits go on while the store hangs
    const pending = archiver.flush();
    await expect(pending).rejects.toMatchObject({ code: "WAL_ARCHIVE_UNAVAILABLE" });
    await flushed.catch(() => undefined);
    expect(archiver.status().state).toBe("failing");
    expect(archiver.status().lastError?.code).toBe("WAL_ARCHIVE_UNAVAILABLE");
    expect(archiver.status().archivedLsn).toBeLessThan(wal.fsyncedLsn());
    store.mode = "up";
    await new Promise((r) => setTimeout(r, 20));
    await archiver.flush();
    expect(archiver.status().state).toBe("running");
    expect(states).toEqual(expect.arrayContaining(["retrying", "failing", "running"]));
    await wal.close();
  });

  test.prop([fc.array(fc.constantFrom("commit", "commit", "commit", "fail", "up", "truncate"), { maxLength: 40 })], {
    numRuns: 25,
  })("whatever the store does, once it is up and flushed the archive equals the log", async (plan) => {
    const { fs, wal, store, archiver } = await setup();
    let i = 0;
    for (const step of plan) {
      if (step === "commit") await wal.commitTx([{ i: i++ }]);
      else if (step === "fail") store.mode = "fail";
      else if (step === "up") store.mode = "up";
      else await wal.truncateUpTo(wal.safeCheckpointLsn());
    }
    store.mode = "up";
    await new Promise((r) => setTimeout(r, 10));
    await archiver.flush();
    for (const s of await listSegments(fs, "/w")) {
      const local = await fileBytes(fs, s.path);
      const archived = archivedBytes(store, s.id);
      // A segment with no record yet (only its header) has nothing to archive.
      if (local.byteLength === 32 && archived === null) continue;
      expect(archived === null ? null : Buffer.from(archived), s.name).toEqual(Buffer.from(local));
    }
    await wal.close();
  });

  it("resumes where the store is after a restart: nothing uploaded twice, pieces continue", async () => {
    const { fs, wal, store, archiver } = await setup({ segmentTargetBytes: 100_000 });
    for (let i = 0; i < 5; i++) await wal.commitTx([{ i }]);
    await archiver.stop();
    const pieces = [...store.objects.keys()];
    expect(pieces.length).toBeGreaterThan(0);
    for (let i = 5; i < 10; i++) await wal.commitTx([{ i }]);
    const again = startArchiver(wal, { store, fs, intervalMs: 5 });
    archivers.push(again);
    await again.flush();
    const segments = await listSegments(fs, "/w");
    const archived = archivedBytes(store, (segments[0] as { id: number }).id);
    expect(Buffer.from(archived as Uint8Array)).toEqual(Buffer.from(await fileBytes(fs, "/w/0000000001.wal")));
    for (const k of pieces) expect(store.objects.has(k)).toBe(true);
    await wal.close();
  });

  it("holds truncation back from the moment it starts, before its slot file exists", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    for (let i = 0; i < 30; i++) await wal.commitTx([{ i, pad: "p".repeat(30) }]);
    const store = new MapStore();
    store.mode = "fail";
    const archiver = startArchiver(wal, { store, fs, intervalMs: 5, retry: { initialMs: 1, maxMs: 2 } });
    archivers.push(archiver);
    // No await between the start and the truncation: nothing the archive lacks may go.
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
    store.mode = "up";
    await archiver.flush();
    for (const s of await listSegments(fs, "/w")) {
      const local = await fileBytes(fs, s.path);
      const archived = archivedBytes(store, s.id);
      expect(archived === null ? null : Buffer.from(archived), s.name).toEqual(Buffer.from(local));
    }
    await wal.close();
  });

  it("a slot invalidated by maxSlotRetainedBytes leaves a reported gap, and archiving goes on after it", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", {
      codec: jsonCodec,
      fs,
      segmentTargetBytes: 300,
      maxSlotRetainedBytes: 600,
    });
    const store = new MapStore();
    const archiver = startArchiver(wal, { store, fs, intervalMs: 5, retry: { initialMs: 1, maxMs: 2 } });
    archivers.push(archiver);
    await archiver.flush();
    store.mode = "fail";
    for (let i = 0; i < 30; i++) await wal.commitTx([{ i, pad: "p".repeat(30) }]);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
    store.mode = "up";
    await new Promise((r) => setTimeout(r, 10));
    await archiver.flush();
    const status = archiver.status();
    expect(status.skippedSegments).toBeGreaterThan(0);
    expect(status.state).toBe("running");
    expect(status.lastError?.code).toBe("WAL_ARCHIVE_MISSING");
    expect(status.archivedLsn).toBe(wal.fsyncedLsn());
    // The slot keeps nothing from truncation any more, for as long as it is not dropped: said apart from the gap.
    expect(status.slotProblem).toMatchObject({ code: "WAL_SLOT_INVALIDATED", details: { slot: "archive" } });
    await wal.close();
  });

  it("a store that never answers (ignoring the signal) does not stall archiving's stop, and the lag counts from attach", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    for (let i = 0; i < 10; i++) await wal.commitTx([{ i }]);
    const deaf: ArchiveStore = {
      name: "deaf",
      put: () => new Promise(() => undefined),
      get: () => new Promise(() => undefined),
      list: () => new Promise(() => undefined),
      delete: () => new Promise(() => undefined),
    };
    const archiver = startArchiver(wal, { store: deaf, fs, intervalMs: 5, callTimeoutMs: 20, retry: { initialMs: 1 } });
    await new Promise((r) => setTimeout(r, 60));
    // Nothing reached the store, and what was durable at attach has been waiting since then.
    expect(archiver.status().archivedLsn).toBe(0);
    expect(archiver.status().lagMs).toBeGreaterThan(0);
    expect(archiver.status().failures).toBeGreaterThan(0);
    await archiver.stop({ flush: false });
    expect(archiver.status().state).toBe("stopped");
    await wal.close();
  });

  it("hands its catch-up listing the call's signal: a listing abandoned at callTimeoutMs is told to stop", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    const signals: (AbortSignal | undefined)[] = [];
    const hanging: ArchiveStore = {
      name: "hanging",
      put: () => new Promise(() => undefined),
      get: () => new Promise(() => undefined),
      list: (_prefix, options) => {
        signals.push(options?.signal);
        return new Promise(() => undefined);
      },
      delete: () => new Promise(() => undefined),
    };
    const archiver = startArchiver(wal, { store: hanging, fs, callTimeoutMs: 20, retry: { initialMs: 1 } });
    // Two listings: the first abandoned at callTimeoutMs (its signal aborted), the retry still hanging at stop.
    while (signals.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(signals[0]?.aborted).toBe(true);
    await archiver.stop({ flush: false });
    expect(signals.every((signal) => signal instanceof AbortSignal && signal.aborted)).toBe(true);
    await wal.close();
  });

  it("uses an existing slot and refuses bad options", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    await createSlot("/w", "mine", { fs });
    expect(() => startArchiver(wal, { store: new MapStore(), fs, intervalMs: 0 })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    expect(() => startArchiver(wal, { store: undefined as unknown as ArchiveStore, fs })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    const a = startArchiver(wal, { store: new MapStore(), fs, slot: "mine" });
    archivers.push(a);
    await a.flush();
    await wal.close();
  });
});

describe("startArchiver refuses", () => {
  /** A handle that records what the archiver did to it: a refused start must hold, subscribe and read nothing. */
  function recordingWal() {
    const done: string[] = [];
    const wal: ArchivableWal = {
      dir: () => "/w",
      fsyncedLsn: () => 0,
      onLifecycle: () => {
        done.push("onLifecycle");
        return () => undefined;
      },
      retain: (name) => {
        done.push(`retain ${name}`);
        return () => undefined;
      },
    };
    return { wal, done };
  }

  const refusals: [string, Record<string, unknown>][] = [
    // Node's timers keep at most 2^31 - 1 ms (a longer delay fires after 1 ms), AbortSignal.timeout integers only.
    ["intervalMs 2^31", { intervalMs: 2 ** 31 }],
    ["intervalMs NaN", { intervalMs: Number.NaN }],
    ["intervalMs 0", { intervalMs: 0 }],
    ["callTimeoutMs 2^31", { callTimeoutMs: 2 ** 31 }],
    ["callTimeoutMs 1.5", { callTimeoutMs: 1.5 }],
    ["callTimeoutMs 1e12", { callTimeoutMs: 1e12 }],
    ["callTimeoutMs NaN", { callTimeoutMs: Number.NaN }],
    ["retry.initialMs 2^31", { retry: { initialMs: 2 ** 31 } }],
    ["retry.initialMs Infinity", { retry: { initialMs: Number.POSITIVE_INFINITY } }],
    ["retry.maxMs 2^31", { retry: { maxMs: 2 ** 31 } }],
    ["retry.maxMs -1", { retry: { maxMs: -1 } }],
    ["retry.failingAfter 1.5", { retry: { failingAfter: 1.5 } }],
    ["retry 5", { retry: 5 }],
    ["slot with a space", { slot: "bad name" }],
    ["slot 5", { slot: 5 }],
    ["slot empty", { slot: "" }],
    ["slot of 65 characters", { slot: "s".repeat(65) }],
    ["slot with a slash", { slot: "../archive" }],
    ["onStateChange 5", { onStateChange: 5 }],
    ["store null", { store: null }],
    ["store without get and delete", { store: { name: "half", put: () => Promise.resolve(), list: () => [] } }],
  ];

  it.each(refusals)("%s, with WAL_INVALID_OPTION at once: nothing held, subscribed or stored", async (_, bad) => {
    const { wal, done } = recordingWal();
    const store = new MapStore();
    const fs = new SimFS();
    const error = (() => {
      try {
        archivers.push(startArchiver(wal, { store, fs, ...bad } as ArchiverOptions));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toEqual(expect.objectContaining({ code: "WAL_INVALID_OPTION" }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toEqual([]);
    expect(store.calls).toBe(0);
    expect(await fs.stat("/w")).toBe(null);
  });

  it("a wal that is not a handle, with WAL_INVALID_ARGUMENT at once: nothing stored", () => {
    const store = new MapStore();
    const { wal } = recordingWal();
    for (const bad of [null, undefined, {}, "/w", { ...wal, dir: "/w" }, { ...wal, retain: 5 }]) {
      expect(() => startArchiver(bad as ArchivableWal, { store, fs: new SimFS() })).toThrow(
        expect.objectContaining({
          code: "WAL_INVALID_ARGUMENT",
          message: expect.stringMatching(/^startArchiver: wal/),
        }),
      );
    }
    expect(store.calls).toBe(0);
  });

  it("a closed handle, with its WAL_CLOSED at once: nothing held, stored or written", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    await wal.commitTx([{ a: 1 }]);
    await wal.close();
    const before = await fs.readdir("/w");
    const store = new MapStore();
    expect(() => startArchiver(wal, { store, fs })).toThrow(expect.objectContaining({ code: "WAL_CLOSED" }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls).toBe(0);
    expect(await fs.readdir("/w")).toEqual(before);
    // The handle's own refusals, which the archiver meets first.
    expect(() => wal.retain("x", () => 0)).toThrow(expect.objectContaining({ code: "WAL_CLOSED" }));
    expect(() => wal.onLifecycle(() => undefined)).toThrow(expect.objectContaining({ code: "WAL_CLOSED" }));
  });

  it("nothing at the limits: 2^31 - 1 ms timers, fractional retry delays, a 64-character slot name", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    const slot = "a-Z_9".padEnd(64, "x");
    const archiver = startArchiver(wal, {
      store: new MapStore(),
      fs,
      slot,
      intervalMs: 2 ** 31 - 1,
      callTimeoutMs: 2 ** 31 - 1,
      // Fractions are fine where they only reach setTimeout/setInterval.
      retry: { initialMs: 0.5, maxMs: 2 ** 31 - 1, failingAfter: 1 },
      onStateChange: () => undefined,
    });
    archivers.push(archiver);
    await wal.commitTx([{ a: 1 }]);
    await archiver.flush();
    expect(archiver.status()).toEqual(expect.objectContaining({ state: "running", archivedLsn: wal.fsyncedLsn() }));
    expect((await readSlot("/w", slot, { fs })).confirmedLsn).toBeGreaterThanOrEqual(0);
    await archiver.stop();
    await wal.close();
  });

  it("a stop whose flush is not a boolean, with WAL_INVALID_OPTION: the archiver runs on, nothing shipped", async () => {
    const { wal, store, archiver } = await setup({ intervalMs: 3_600_000 });
    await archiver.flush();
    await wal.commitTx([{ a: 1 }]);
    const before = store.calls;
    // "false" (from a config file) would have flushed, 0 would have skipped the flush.
    for (const flush of ["false", 0, null, 1]) {
      await expect(archiver.stop({ flush } as never)).rejects.toEqual(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringContaining("flush") }),
      );
    }
    expect(archiver.status().state).toBe("running");
    expect(store.calls).toBe(before);
    await archiver.stop({ flush: true });
    expect(archiver.status()).toEqual(expect.objectContaining({ state: "stopped", archivedLsn: wal.fsyncedLsn() }));
    await wal.close();
  });
});

describe("shipping the active segment's durable prefix", () => {
  it("cuts pieces where the handle reports the fsynced size, reading each byte once, not scanning its records", async () => {
    const sim = new SimFS();
    const { fs, counts } = countingFileSystem(sim);
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: sim, segmentTargetBytes: 1 << 24 });
    const store = new MapStore();
    const archiver = startArchiver(wal, { store, fs, intervalMs: 60_000 });
    archivers.push(archiver);
    await archiver.flush();
    const active = `/w/${String(wal.activeSegmentId()).padStart(10, "0")}.wal`;
    const before = counts.bytesRead.get(active) ?? 0;
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 300 }, (_, i) => wal.commitTx([{ round, i, pad: "x".repeat(60) }])));
      await archiver.flush();
    }
    const shipped = (archivedBytes(store, wal.activeSegmentId()) as Uint8Array).byteLength;
    expect(shipped).toBe((await fileBytes(sim, active)).byteLength); // every durable byte is in the archive
    // Each piece is read once to upload it; a record scan to find its end would read it a second time.
    const read = (counts.bytesRead.get(active) ?? 0) - before;
    expect(read).toBeGreaterThan(shipped * 0.9);
    expect(read).toBeLessThan(shipped * 1.2);
    expect(archiver.status().archivedLsn).toBe(wal.fsyncedLsn());
    await archiver.stop();
    await wal.close();
  });
});

describe("an archiver started while the handle's rotation is creating the newest segment", () => {
  it("takes the headerless newest segment for the one being created: no failure, and ships it once created", async () => {
    const sim = new SimFS();
    const creating = segmentPath("/w", 2);
    let readsOfCreating = 0;
    let duringCreate: (() => Promise<void>) | undefined;
    const fs = interceptOpen(sim, async (path, mode, open) => {
      // No spare: the rotation creates segment 2 itself, the file without a header for a moment.
      if (isSpareSegmentName(basename(path))) throw new Error("no spares in this test");
      const file = await open(path, mode);
      if (mode === "read" && path === creating) readsOfCreating++;
      if (mode === "createExclusive" && path === creating && duringCreate !== undefined) {
        const run = duringCreate;
        duringCreate = undefined;
        await run();
      }
      return file;
    });
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    const store = new MapStore();
    const states: ArchiverStatus["state"][] = [];
    let archiver: Archiver | undefined;
    duringCreate = async () => {
      archiver = startArchiver(wal, {
        store,
        fs,
        intervalMs: 5,
        retry: { initialMs: 1, maxMs: 5, failingAfter: 3 },
        onStateChange: (s) => states.push(s.state),
      });
      archivers.push(archiver);
      // Its first pass reads segment 2 while it has no header: waited for by a bounded count of turns.
      for (let turn = 0; turn < 10_000 && readsOfCreating === 0; turn++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (let turn = 0; turn < 200; turn++) await new Promise((resolve) => setImmediate(resolve));
    };
    for (let i = 0; i < 50 && wal.activeSegmentId() === 1; i++) await wal.commitTx([{ pad: "p".repeat(40) }]);
    expect(wal.activeSegmentId()).toBe(2);
    expect(readsOfCreating).toBeGreaterThan(0);
    await wal.commitTx([{ after: "rotation" }]);
    const running = archiver as Archiver;
    await running.flush();
    expect(running.status().failures).toBe(0);
    expect(states).not.toContain("failing");
    // Segment 1 once: catch-up found it sealed, and the rotation's "sealed" event came after that pass.
    expect(running.status().uploadedSegments).toBe(1);
    const keys = [...store.objects.keys()].map((key) => parseArchiveKey(key));
    expect(keys.some((k) => k?.kind === "segment" && k.id === 1)).toBe(true);
    expect(keys.some((k) => k?.kind !== "segment" && k?.id === 2)).toBe(true);
    await running.stop();
    await wal.close();
  });
});
