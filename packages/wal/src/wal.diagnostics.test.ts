import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { replayDir } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { afterEach, describe, expect, it } from "vitest";
import { isWalError, type JsonValue, jsonCodec, SYNC_LATENCY_BUCKETS_MS, WAL_CHANNELS, Wal } from "./index.js";

// What the handle publishes on node:diagnostics_channel, and what ioStats() and failure() report: the figures a
// metrics exporter reads must agree with what the handle did.

type Seen = { channel: string; message: Record<string, unknown> };
const subscriptions: [string, (message: unknown) => void][] = [];
afterEach(() => {
  for (const [name, fn] of subscriptions.splice(0)) unsubscribe(name, fn);
});

function record(): Seen[] {
  const seen: Seen[] = [];
  for (const name of Object.values(WAL_CHANNELS)) {
    const fn = (message: unknown) => void seen.push({ channel: name, message: message as Record<string, unknown> });
    subscribe(name, fn);
    subscriptions.push([name, fn]);
  }
  return seen;
}

const on = (seen: Seen[], name: string) => seen.filter((s) => s.channel === name).map((s) => s.message);

describe("diagnostics channels and I/O stats", () => {
  it("publish recovery, every acknowledged commit, each sync round, rotation and truncation, as they happen", async () => {
    const fs = new SimFS();
    const first = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    await first.wal.commitTx([1]);
    await first.wal.close();
    const seen = record();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    expect(on(seen, WAL_CHANNELS.recover)).toEqual([
      expect.objectContaining({ dir: "/w", transactions: 1, nextLsn: 4, tornTail: false, healed: 0 }),
    ]);
    const infos = [];
    for (let i = 0; i < 20; i++) infos.push(await wal.commitTx([{ i }, { j: i }]));
    const commits = on(seen, WAL_CHANNELS.commit);
    expect(commits).toEqual(
      infos.map((x) => ({ dir: "/w", beginLsn: x?.beginLsn, commitLsn: x?.commitLsn, events: 2 })),
    );
    const rotations = on(seen, WAL_CHANNELS.rotate);
    expect(rotations.length).toBe(wal.activeSegmentId() - 1);
    expect(rotations[0]).toMatchObject({ dir: "/w", sealedSegmentId: 1, newSegmentId: 2 });
    const stats = wal.ioStats();
    const syncs = on(seen, WAL_CHANNELS.sync);
    expect(syncs.length).toBe(stats.syncs);
    expect(syncs.every((m) => typeof m.durationMs === "number" && (m.durationMs as number) >= 0)).toBe(true);
    expect(syncs.at(-1)?.lsn).toBe(infos.at(-1)?.commitLsn);
    const removed = await wal.truncateUpTo(infos[10]?.commitLsn as number);
    expect(removed).toBeGreaterThan(0);
    expect(on(seen, WAL_CHANNELS.truncate)).toEqual([
      {
        dir: "/w",
        fenceLsn: infos[10]?.commitLsn,
        removedSegmentIds: Array.from({ length: removed }, (_, i) => i + 1),
      },
    ]);
    await wal.close();
  });

  it("ioStats counts the pipeline's writes, bytes and fdatasyncs, with a cumulative latency histogram", async () => {
    const fs = new SimFS();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    for (let i = 0; i < 7; i++) await wal.commitTx([{ i }]);
    const stats = wal.ioStats();
    expect(stats.writes).toBe(7);
    expect(stats.syncs).toBe(7);
    // Every byte of the records after the 32-byte header (the zeros preallocated past them are not counted).
    const records = await replayDir<JsonValue>("/w", { codec: jsonCodec, fs }).outcome();
    expect(stats.bytesWritten).toBe(records.lastGoodOffset - 32);
    expect(stats.bufferedBytes).toBe(0);
    const h = stats.syncLatency;
    expect(h.count).toBe(7);
    expect(h.buckets.map((b) => b.le)).toEqual(SYNC_LATENCY_BUCKETS_MS);
    expect(h.buckets.at(-1)?.count).toBe(7);
    for (let i = 1; i < h.buckets.length; i++) {
      expect(h.buckets[i]?.count).toBeGreaterThanOrEqual(h.buckets[i - 1]?.count as number);
    }
    expect(h.maxMs).toBeGreaterThanOrEqual(0);
    expect(h.sumMs).toBeGreaterThanOrEqual(h.maxMs);
    // Appends waiting for a flush show as buffered bytes.
    const { wal: group } = await Wal.open<JsonValue>("/g", {
      codec: jsonCodec,
      fs,
      syncMode: { mode: "group", intervalMs: 60_000 },
    });
    const txId = await group.begin();
    await group.append(txId, { buffered: true });
    expect(group.ioStats().bufferedBytes).toBeGreaterThan(0);
    await group.close();
    await wal.close();
  });

  it("a poisoning failure is published, and failure() gives the error object itself", async () => {
    const fs = new SimFS();
    const seen = record();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs });
    expect(wal.failure()).toBeNull();
    fs.injectFault({ op: "datasync", errno: "EIO" });
    const thrown = await wal.commitTx([1]).catch((e: unknown) => e);
    const failure = wal.failure();
    expect(isWalError(failure, "WAL_IO")).toBe(true);
    expect(thrown).toBe(failure);
    expect(wal.bgFailure()).toBe((failure as Error).message);
    expect(on(seen, WAL_CHANNELS.poison)).toEqual([{ dir: "/w", error: failure }]);
    // The commit whose fsync failed was never acknowledged: it is not published as a commit.
    expect(on(seen, WAL_CHANNELS.commit)).toEqual([]);
    await wal.close().catch(() => undefined);
  });

  it("a new log's recovery reports no torn tail, and a truncation that removes nothing publishes nothing", async () => {
    const fs = new SimFS();
    const seen = record();
    const { wal } = await Wal.open<JsonValue>("/w", { codec: jsonCodec, fs, segmentTargetBytes: 300 });
    expect(on(seen, WAL_CHANNELS.recover)).toEqual([
      expect.objectContaining({ dir: "/w", transactions: 0, nextLsn: 1, tornTail: false, healed: 0 }),
    ]);
    const info = await wal.commitTx([1]);
    expect(await wal.truncateUpTo(info?.commitLsn as number)).toBe(0);
    expect(on(seen, WAL_CHANNELS.truncate)).toEqual([]);
    await wal.close();
  });

  it("keeps the channel names subscribers use", () => {
    expect(WAL_CHANNELS).toEqual({
      commit: "lora-wal:commit",
      sync: "lora-wal:sync",
      rotate: "lora-wal:rotate",
      truncate: "lora-wal:truncate",
      poison: "lora-wal:poison",
      recover: "lora-wal:recover",
    });
  });
});
