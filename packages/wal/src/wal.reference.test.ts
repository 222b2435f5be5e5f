/**
 * The `mod tests` of LoraDB's `wal.rs` (0.5.0 and 0.8.3), adapted to this API. Where the reference waits for a
 * timer, these tests await a promise instead (no sleeps, no timing flakiness).
 */

import { appendFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { replayDir } from "@lora/wal-replay";
import { createNodeFileSystem, isSpareSegmentName, listSegments, segmentPath } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { ev, useTempDirs } from "../test/support.js";
import type { MutationEvent } from "./index.js";
import { withTestingHooks } from "./testing/index.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();
const nodeFs = createNodeFileSystem();

describe("LoraDB wal.rs tests", () => {
  it("fresh open creates the first segment (no CURRENT file, only segments, the lock and the durable mark)", async () => {
    const dir = await tempDir();
    const { wal, events } = await Wal.open(dir);
    expect(events).toEqual([]);
    expect(wal.nextLsn()).toBe(1);
    expect(wal.activeSegmentId()).toBe(1);
    expect(wal.oldestSegmentId()).toBe(1);
    const names = await readdir(dir);
    expect(names).toContain(".lora-wal.lock");
    // Ours, not LoraDB's: the durable LSN for followers in other processes (LoraDB ignores the file).
    expect(names).toContain(".lora-wal.durable");
    // Ours too, later: the next segment made ahead of rotation (under a name LoraDB's listing ignores) is started
    // once the active segment is half full, so a fresh open has none.
    const ours = [".lora-wal.lock", ".lora-wal.durable"];
    const others = names.filter((n) => !ours.includes(n));
    expect(others).toEqual(["0000000001.wal"]);
    await wal.close();
    expect((await readdir(dir)).filter(isSpareSegmentName)).toEqual([]);
  });

  it("opening the same directory twice fails until the first handle closes", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await expect(Wal.open(dir)).rejects.toMatchObject({ code: "WAL_LOCKED", details: { path: dir } });
    await wal.close();
    const again = await Wal.open(dir);
    await again.wal.close();
  });

  it("begin/append/commit round-trips through replay; nextLsn is past every record", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open(dir);
      let b = await wal.begin();
      await wal.append(b, ev(1));
      await wal.append(b, ev(2));
      await wal.commit(b);
      await wal.flush();
      b = await wal.begin();
      await wal.append(b, ev(3));
      await wal.commit(b);
      await wal.flush();
      // Dropped without close: the reference "crashes without running shutdown". Here we only release the lock.
      await wal.close();
    }
    const { wal, events } = await Wal.open(dir);
    expect(events).toEqual([ev(1), ev(2), ev(3)]);
    expect(wal.nextLsn()).toBe(8);
    await wal.close();
  });

  it("an aborted transaction is dropped on replay", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open(dir);
      const b1 = await wal.begin();
      await wal.append(b1, ev(1));
      await wal.commit(b1);
      await wal.flush();
      const b2 = await wal.begin();
      await wal.append(b2, ev(99));
      await wal.abort(b2);
      await wal.flush();
      await wal.close();
    }
    const { wal, events } = await Wal.open(dir);
    expect(events).toEqual([ev(1)]);
    await wal.close();
  });

  it("an uncommitted transaction at the end of the log is discarded", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open(dir);
      const b1 = await wal.begin();
      await wal.append(b1, ev(1));
      await wal.commit(b1);
      await wal.flush();
      const b2 = await wal.begin();
      await wal.append(b2, ev(99));
      await wal.flush();
      await wal.close();
    }
    const { wal, events, replay } = await Wal.open(dir);
    expect(events).toEqual([ev(1)]);
    expect(replay?.uncommittedTransactions).toBe(1);
    await wal.close();
  });

  it("rotates at a begin boundary (256-byte target)", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 256 });
    const b1 = await wal.begin();
    for (let i = 0; i < 5; i++) await wal.append(b1, ev(i));
    await wal.commit(b1);
    await wal.flush();
    expect(wal.activeSegmentId()).toBe(1);
    const b2 = await wal.begin();
    await wal.append(b2, ev(100));
    await wal.commit(b2);
    await wal.flush();
    expect(wal.activeSegmentId()).toBe(2);
    expect(await listSegments(nodeFs, dir)).toHaveLength(2);
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.events).toHaveLength(6);
    await again.wal.close();
  });

  it("the checkpoint fence skips already-checkpointed events", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const a = await wal.begin();
    await wal.append(a, ev(1));
    await wal.append(a, ev(2));
    const commitA = await wal.commit(a);
    await wal.flush();
    const b = await wal.begin();
    await wal.append(b, ev(3));
    await wal.commit(b);
    await wal.flush();
    await wal.close();
    const again = await Wal.open(dir, { checkpointLsn: commitA });
    expect(again.events).toEqual([ev(3)]);
    await again.wal.close();
  });

  for (const [name, write] of [
    ["commit", (wal: Wal) => wal.commit(99)],
    ["mutation", (wal: Wal) => wal.append(99, ev(1))],
  ] as const) {
    it(`the handle refuses a ${name} without begin (nothing written); replay rejects one another writer wrote`, async () => {
      const dir = await tempDir();
      const refusing = await Wal.open(dir);
      const next = refusing.wal.nextLsn();
      await expect(write(refusing.wal)).rejects.toMatchObject({ code: "WAL_TX_NOT_OPEN" });
      expect(refusing.wal.nextLsn()).toBe(next);
      await refusing.wal.close();
      const reopened = await Wal.open(dir);
      expect(reopened.events).toEqual([]);
      await reopened.wal.close();
      // A writer without the check (LoraDB's own handle accepts it) is stood in for by the planted bug.
      const { wal } = await Wal.open<MutationEvent>(dir, withTestingHooks({}, { plantedBugs: ["accept-unknown-tx"] }));
      await write(wal);
      await wal.flush();
      await wal.close();
      await expect(Wal.open(dir)).rejects.toMatchObject({
        code: "WAL_MALFORMED",
        message: expect.stringContaining("missing tx begin"),
      });
      // The failed open released the lock.
      await expect(Wal.open(dir)).rejects.toMatchObject({ code: "WAL_MALFORMED" });
    });
  }

  it("a torn tail is truncated on open, and later appends replay cleanly", async () => {
    const dir = await tempDir();
    {
      const { wal } = await Wal.open(dir);
      const b = await wal.begin();
      await wal.append(b, ev(1));
      await wal.commit(b);
      await wal.flush();
      await wal.close();
    }
    await appendFile(segmentPath(dir, 1), Buffer.alloc(32, 0xff));
    {
      const { wal, events, tornTail, healed } = await Wal.open(dir);
      expect(events).toEqual([ev(1)]);
      expect(tornTail?.droppedBytes).toBe(32);
      expect(healed[0]).toMatchObject({ kind: "tornTailTruncated", droppedBytes: 32 });
      const b = await wal.begin();
      await wal.append(b, ev(2));
      await wal.commit(b);
      await wal.flush();
      await wal.close();
    }
    const { wal, events, tornTail } = await Wal.open(dir);
    expect(events).toEqual([ev(1), ev(2)]);
    expect(tornTail).toBeNull();
    await wal.close();
  });

  it("a checkpoint marker is recorded and observed by replay", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const b = await wal.begin();
    await wal.append(b, ev(1));
    const commit = await wal.commit(b);
    await wal.flush();
    await wal.checkpointMarker(commit);
    await wal.flush();
    await wal.close();
    const outcome = await replayDir(dir, { codec: (await import("@lora/wal-codec/lora")).loraCodec }).outcome();
    expect(outcome.checkpointLsnObserved).toBe(commit);
  });

  it("group mode: durableLsn advances via the background flusher (0.5.0)", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { syncMode: { mode: "group", intervalMs: 25 } });
    const b = await wal.begin();
    await wal.append(b, ev(1));
    const commit = await wal.commit(b);
    await wal.flush();
    expect(wal.durableLsn()).toBe(0);
    await wal.whenDurable(commit); // resolved by the flusher's fsync
    expect(wal.durableLsn()).toBe(wal.nextLsn() - 1);
    await wal.close();
  });

  for (const name of [
    "group mode is cooperative until forceFsync (0.8.3)",
    "group flush does not advance durableLsn; forceFsync always does",
  ]) {
    it(name, async () => {
      const dir = await tempDir();
      const { wal } = await Wal.open(dir, { syncMode: { mode: "group", intervalMs: 60_000 } });
      const b = await wal.begin();
      await wal.append(b, ev(1));
      await wal.commit(b);
      await wal.flush();
      expect(wal.durableLsn()).toBe(0);
      await wal.forceFsync();
      expect(wal.durableLsn()).toBe(wal.nextLsn() - 1);
      await wal.close();
    });
  }

  it("none mode advances durableLsn on flush (without an fsync)", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { syncMode: "none" });
    const b = await wal.begin();
    await wal.append(b, ev(1));
    await wal.commit(b);
    await wal.flush();
    expect(wal.durableLsn()).toBe(wal.nextLsn() - 1);
    expect(wal.ioStats().syncs).toBe(0);
    await wal.close();
  });

  it("perCommit flush advances durableLsn with an fsync", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const b = await wal.begin();
    await wal.append(b, ev(1));
    await wal.commit(b);
    expect(wal.durableLsn()).toBe(0);
    await wal.flush();
    expect(wal.durableLsn()).toBe(3);
    expect(wal.ioStats().syncs).toBe(1);
    await wal.close();
  });

  it("truncateUpTo drops old sealed segments, keeping the active one and the one before it", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 64 });
    let lastCommit = 0;
    for (let i = 0; i < 5; i++) {
      const b = await wal.begin();
      await wal.append(b, ev(i));
      lastCommit = await wal.commit(b);
      await wal.flush();
    }
    expect(wal.activeSegmentId()).toBeGreaterThanOrEqual(4);
    const before = (await listSegments(nodeFs, dir)).length;
    await wal.truncateUpTo(lastCommit);
    const after = await listSegments(nodeFs, dir);
    expect(after.length).toBeLessThan(before);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.map((s) => s.id)).toContain(wal.activeSegmentId() - 1);
    expect(wal.oldestSegmentId()).toBe(after[0]?.id);
    await wal.truncateUpTo(lastCommit); // idempotent
    expect(await listSegments(nodeFs, dir)).toEqual(after);
    await wal.close();
    const again = await Wal.open(dir, { segmentTargetBytes: 64, checkpointLsn: lastCommit });
    expect(again.events).toEqual([]);
    await again.wal.close();
  });

  it("commitTx of no events writes nothing on a full segment either: no rotation, no new segment", async () => {
    // The segment has reached its target, so the next transaction rotates first; an empty one is no transaction, and
    // sealing and creating segments for it would be writes (and a segment) the caller never asked for.
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 64 });
    await wal.commitTx([ev(0)]);
    const segments = await listSegments(nodeFs, dir);
    const before = wal.ioStats();
    expect(await wal.commitTx([])).toBeNull();
    expect(await listSegments(nodeFs, dir)).toEqual(segments);
    expect(wal.activeSegmentId()).toBe(1);
    expect(wal.ioStats()).toMatchObject({
      writes: before.writes,
      syncs: before.syncs,
      bytesWritten: before.bytesWritten,
    });
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.events).toEqual([ev(0)]);
    expect(again.healed).toEqual([]);
    await again.wal.close();
  });

  it("commitTx of no events writes nothing (recorder: arm then commit with no mutations)", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    expect(await wal.commitTx([])).toBeNull();
    expect(wal.nextLsn()).toBe(1);
    expect(wal.ioStats()).toMatchObject({ writes: 0, syncs: 0, bytesWritten: 0, bufferedBytes: 0 });
    const info = await wal.commitTx([ev(0), ev(1)]);
    expect(info).toEqual({ beginLsn: 1, commitLsn: 3 });
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.events).toEqual([ev(0), ev(1)]);
    await again.wal.close();
  });

  it("an empty appendBatch is refused with WAL_ENCODE", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const b = await wal.begin();
    await expect(wal.appendBatch(b, [])).rejects.toMatchObject({
      code: "WAL_ENCODE",
      message: "mutation batch must contain at least one event",
    });
    await wal.close();
  });

  it("the segment for a closed handle stays unsealed and the lock file stays", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.commitTx([ev(1)]);
    await wal.close();
    expect(await readdir(dir)).toEqual(expect.arrayContaining([".lora-wal.lock", "0000000001.wal"]));
    expect(join(dir, "0000000001.wal")).toBe(segmentPath(dir, 1));
  });
});
