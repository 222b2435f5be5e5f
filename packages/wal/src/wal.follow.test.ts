import { fc, test } from "@fast-check/vitest";
import { readDurableMark } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createSlot, followDir, type JsonValue, jsonCodec, readCommitted, readSlot, Wal } from "./index.js";
import type { LifecycleEvent } from "./segment-lifecycle.js";

// The in-process change feed (wal.follow), the lifecycle events, and retention under replication slots, all on
// SimFS so that crash images can check that nothing delivered is ever taken back by recovery.

type Tx = { beginLsn: number; commitLsn: number; events: JsonValue[] };
const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

async function simWal(fs: SimFS, options: Parameters<typeof Wal.open<JsonValue>>[1] = {}) {
  const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 256, ...options });
  return wal;
}

/** Drain a follower in the background into `out`. */
function consume(it: AsyncIterable<Tx>, out: Tx[]): Promise<void> {
  return (async () => {
    for await (const tx of it) out.push(tx);
  })();
}

/** Wait (by yielding, bounded by count) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error(`never: ${what}`);
}

describe("wal.follow", () => {
  it("delivers every commit in order across rotations, and ends after close", async () => {
    const fs = new SimFS();
    const wal = await simWal(fs);
    const got: Tx[] = [];
    const done = consume(wal.follow(), got);
    const infos = [];
    for (let i = 0; i < 40; i++) infos.push(await wal.commitTx([{ i }]));
    await until(() => got.length === 40, "40 deliveries");
    expect(wal.activeSegmentId()).toBeGreaterThan(5);
    expect(got.map((t) => t.commitLsn)).toEqual(infos.map((x) => x?.commitLsn));
    expect(got.map((t) => t.events)).toEqual(infos.map((_, i) => [{ i }]));
    await wal.close();
    await done; // the iteration ends by itself once the handle is closed
  });

  test.prop([fc.constantFrom("perCommit", "group", "none"), fc.array(fc.nat(4), { minLength: 5, maxLength: 30 })], {
    numRuns: 30,
  })("never delivers what a crash can take back: every delivery survives in every crash image", async (mode, plan) => {
    const fs = new SimFS();
    const wal = await simWal(fs, { syncMode: mode === "group" ? { mode: "group", intervalMs: 1 } : mode });
    const got: Tx[] = [];
    const stop = new AbortController();
    stops.push(stop);
    void consume(wal.follow({ signal: stop.signal }), got);
    let i = 0;
    for (const step of plan) {
      const commits = Array.from({ length: step + 1 }, () => wal.commitTx([{ i: i++ }]));
      if (mode === "none" && step === 3) await wal.sync();
      await Promise.all(commits);
      // Let the follower catch up with whatever it may deliver, then crash here.
      for (let k = 0; k < 50; k++) await new Promise((r) => setImmediate(r));
      const delivered = got.map((t) => t.commitLsn);
      const images = [...fs.crashImages({ maxImages: 4, seed: i })];
      for (const { fs: image, description } of images) {
        const { wal: after, events } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs: image });
        await after.close();
        const survived = new Set(events.map((e) => (e as { i: number }).i));
        for (const t of got) {
          for (const e of t.events) expect(survived.has((e as { i: number }).i), `${mode} ${description}`).toBe(true);
        }
      }
      expect(delivered.every((lsn, k) => k === 0 || lsn > (delivered[k - 1] as number))).toBe(true);
    }
    stop.abort();
    await wal.close();
  });

  it("in none mode, delivers a commit once a sync covers it, without waiting for a later one", async () => {
    // Only setTimeout is faked: the follower's one-second fallback wake-up never fires, so a delivery can only come
    // from the wake-up the sync itself gives (the handle's turns and `until` use setImmediate, not faked).
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const fs = new SimFS();
      const wal = await simWal(fs, { syncMode: "none" });
      const got: Tx[] = [];
      const stop = new AbortController();
      stops.push(stop);
      void consume(wal.follow({ signal: stop.signal }), got);
      for (let i = 1; i <= 3; i++) {
        const info = await wal.commitTx([{ i }]);
        await wal.forceFsync();
        await until(() => got.length === i, `delivery of commit ${i} after its sync`);
        expect(got.at(-1)?.commitLsn).toBe(info?.commitLsn);
      }
      await wal.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("resuming from any delivered token gives exactly the rest, as readCommitted does", async () => {
    const fs = new SimFS();
    const wal = await simWal(fs);
    const all: Tx[] = [];
    for (let i = 0; i < 30; i++) {
      const info = await wal.commitTx([{ i }]);
      if (info !== null) all.push({ beginLsn: info.beginLsn, commitLsn: info.commitLsn, events: [{ i }] });
    }
    for (const k of [0, 7, 29]) {
      const after = k === 0 ? 0 : (all[k - 1] as Tx).commitLsn;
      const got: Tx[] = [];
      const stop = new AbortController();
      const done = consume(wal.follow({ after, signal: stop.signal }), got);
      await until(() => got.length === 30 - k, `resume after ${after}`);
      stop.abort();
      await done;
      expect(got.map((t) => t.commitLsn)).toEqual(all.slice(k).map((t) => t.commitLsn));
      const bounded: Tx[] = [];
      for await (const t of readCommitted<JsonValue>("/w", { codec: jsonCodec, fs, after })) bounded.push(t);
      expect(bounded.map((t) => t.commitLsn)).toEqual(all.slice(k).map((t) => t.commitLsn));
    }
    await wal.close();
  });

  it("a follower behind truncation fails with WAL_TRUNCATED (never a silent gap)", async () => {
    const fs = new SimFS();
    const wal = await simWal(fs);
    for (let i = 0; i < 30; i++) await wal.commitTx([{ i }]);
    expect(await wal.checkpoint(wal.safeCheckpointLsn())).toMatchObject({});
    expect(wal.oldestSegmentId()).toBeGreaterThan(1);
    const it = wal.follow({ after: 0 });
    await expect(it.next()).rejects.toMatchObject({ code: "WAL_TRUNCATED" });
    await wal.close();
  });

  it("refuses bad options at once", async () => {
    const wal = await simWal(new SimFS());
    expect(() => wal.follow({ after: -1 })).toThrow(expect.objectContaining({ code: "WAL_INVALID_OPTION" }));
    expect(() => wal.follow({ durability: "soon" as "durable" })).toThrow(
      expect.objectContaining({ code: "WAL_INVALID_OPTION" }),
    );
    await wal.close();
  });
});

describe("lifecycle events and replication slots", () => {
  it("reports sealed, created, durable and removed in the order they happened", async () => {
    const fs = new SimFS();
    const wal = await simWal(fs);
    const seen: LifecycleEvent[] = [];
    const off = wal.onLifecycle((e) => seen.push(e));
    for (let i = 0; i < 12; i++) await wal.commitTx([{ i }]);
    const sealed = seen.filter((e) => e.type === "sealed");
    expect(sealed.length).toBeGreaterThan(0);
    const firstSealed = seen.findIndex((e) => e.type === "sealed");
    expect(seen[firstSealed + 1]?.type).toBe("created");
    const durable = seen.flatMap((e) => (e.type === "durable" ? [e.lsn] : []));
    expect(durable.at(-1)).toBe(wal.durableLsn());
    await wal.checkpoint(wal.safeCheckpointLsn());
    expect(seen.some((e) => e.type === "removed" && e.segments.length > 0)).toBe(true);
    off();
    const before = seen.length;
    await wal.commitTx([{ i: 99 }]);
    expect(seen.length).toBe(before);
    await wal.close();
  });

  it("a listener taken while close() runs hears closed; once it has, listeners and holds are refused (WAL_CLOSED)", async () => {
    const wal = await simWal(new SimFS());
    await wal.commitTx([{ a: 1 }]);
    const closing = wal.close();
    const heard: string[] = [];
    wal.onLifecycle((e) => heard.push(e.type));
    const release = wal.retain("during-close", () => 0);
    await closing;
    release();
    expect(heard).toContain("closed");
    expect(() => wal.onLifecycle(() => undefined)).toThrow(expect.objectContaining({ code: "WAL_CLOSED" }));
    expect(() => wal.retain("after", () => 0)).toThrow(expect.objectContaining({ code: "WAL_CLOSED" }));
  });

  it("truncation keeps what a slot needs; once the slot advances it goes; past the limit the slot is invalidated", async () => {
    const fs = new SimFS();
    let wal = await simWal(fs);
    await createSlot("/w", "r", { fs });
    for (let i = 0; i < 30; i++) await wal.commitTx([{ i }]);
    // The slot is at 0: nothing may go, whatever the fence.
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBe(0);
    expect(wal.oldestSegmentId()).toBe(1);
    // A follower through the slot confirms up to transaction 10; segments wholly at or below that may go.
    const follower = followDir<JsonValue>("/w", { codec: jsonCodec, slot: "r", fs, pollIntervalMs: 1 });
    let tenth = 0;
    for (let n = 0; n < 10; n++) {
      const r = await follower.next();
      tenth = (r.value as Tx).commitLsn;
      await follower.confirm(tenth);
    }
    await follower.return();
    expect((await readSlot("/w", "r", { fs })).confirmedLsn).toBe(tenth);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
    const { oldestRetainedLsn } = await import("@lora/wal-replay");
    expect(await oldestRetainedLsn("/w", { fs })).toBeLessThanOrEqual(tenth + 1);
    await wal.close();

    // A writer that allows a slot to hold back at most 300 bytes invalidates it instead of keeping the log.
    wal = await simWal(fs, { maxSlotRetainedBytes: 300, allowTruncatedHistory: true });
    const events: LifecycleEvent[] = [];
    wal.onLifecycle((e) => events.push(e));
    for (let i = 30; i < 60; i++) await wal.commitTx([{ i }]);
    expect(await wal.truncateUpTo(wal.safeCheckpointLsn())).toBeGreaterThan(0);
    expect(events.some((e) => e.type === "slotInvalidated" && e.slot === "r")).toBe(true);
    expect((await readSlot("/w", "r", { fs })).invalidated).not.toBeNull();
    const late = followDir<JsonValue>("/w", { codec: jsonCodec, slot: "r", fs });
    await expect(late.next()).rejects.toMatchObject({ code: "WAL_SLOT_INVALIDATED", details: { slot: "r" } });
    await wal.close();
  });

  it("a reopened writer publishes its new session in the mark at once, with what recovery made durable", async () => {
    const fs = new SimFS();
    // One segment with room: the reopen appends to it, no rotation (whose fsync would publish anyway).
    const first = await simWal(fs, { segmentTargetBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) await first.commitTx([i]);
    // Killed (never closed: a copy of the files as they are, page cache included); the next open recovers, and its
    // mark says so before it writes anything.
    const crashed = fs.clone();
    const before = await readDurableMark(crashed, "/w");
    const second = await simWal(crashed, { segmentTargetBytes: 1 << 20 });
    const after = await readDurableMark(crashed, "/w");
    expect(after?.session).not.toBe(before?.session);
    expect(after).toMatchObject({ durableLsn: 15, sessionStartLsn: 16, closed: false });
    expect(second.durableLsn()).toBe(15);
    await second.close();
    await first.close();
  });

  it("refuses a bad maxSlotRetainedBytes or publishDurableLsn", async () => {
    await expect(simWal(new SimFS(), { maxSlotRetainedBytes: -1 })).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
    await expect(simWal(new SimFS(), { publishDurableLsn: "yes" as unknown as boolean })).rejects.toMatchObject({
      code: "WAL_INVALID_OPTION",
    });
  });
});
