/**
 * A `followDir` follower that synced what it read itself, when the log is rewritten under it: corruption in bytes it
 * had read and synced, opened with `recovery: "point-in-time"`, cuts them (with every later segment) and the new
 * session writes new records at the same LSNs and offsets, unsynced. The follower must deliver the new history, and
 * only once it is durable: its own earlier sync covered the bytes that were there then, not the ones there now.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { followDir, readCommitted } from "@lora/wal-replay";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { offsetOf } from "./test-support/record-offset.js";
import { Wal } from "./wal.js";

const DIR = "/w";

/** The commit LSNs a power loss now leaves for certain. */
async function durableCommits(fs: SimFS): Promise<number[]> {
  const commits: number[] = [];
  for await (const t of readCommitted<JsonValue>(DIR, { codec: jsonCodec, fs: fs.durableImage() })) {
    commits.push(t.commitLsn);
  }
  return commits;
}

/** Flip one byte of `path`, durably (a bit that rotted on the disk). */
function flip(fs: SimFS, path: string, offset: number): void {
  const bytes = fs.readFileSync(path);
  bytes[offset] = (bytes[offset] as number) ^ 0x01;
  fs.writeFileSync(path, bytes);
}

describe("followDir when the history it synced itself is rewritten under it", () => {
  it("a transaction of the new history committed at an LSN the follower had synced is delivered only once durable", async () => {
    const fs = SimFS.withDir(DIR);
    const { wal } = await Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec, syncMode: "none" });
    await wal.commitTx(["a"]); // 1..3
    await wal.commitTx(["b"]); // 4..6
    // C, begun at 7, still open: its records 7..9 are in the file, read and synced by the follower, never delivered.
    const c = await wal.begin();
    await wal.append(c, "c1");
    await wal.append(c, "c2");
    await wal.flush();
    expect(wal.nextLsn()).toBe(10);

    // The writer publishes nothing for what `none` mode wrote: the follower syncs it itself, reading up to 9.
    const follower = followDir<JsonValue>(DIR, { fs, codec: jsonCodec, pollIntervalMs: 5, selfSyncAfterMs: 0 });
    const a = await follower.next();
    const b = await follower.next();
    expect([a.value?.commitLsn, b.value?.commitLsn]).toEqual([3, 6]);
    expect(await durableCommits(fs)).toEqual([3, 6]);
    await wal.close();

    // A bit rots in C's begin, a record an fsync covered (the closed mark names C's last record): the default open
    // refuses it, point-in-time cuts from there, and the new session writes D at 7..9, where C's records were.
    const segment = segmentPath(DIR, 1);
    const cAt = await offsetOf(fs, segment, 7);
    flip(fs, segment, cAt + 20);
    await expect(Wal.open<JsonValue>(DIR, { fs, codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_CORRUPT" });
    const reopened = await Wal.open<JsonValue>(DIR, {
      fs,
      codec: jsonCodec,
      syncMode: "none",
      recovery: "point-in-time",
    });
    expect(reopened.healed).toMatchObject([{ kind: "corruptionCut", segment, offset: cAt }]);
    const d = await reopened.wal.commitTx(["d"]);
    expect(d).toMatchObject({ beginLsn: 7, commitLsn: 9 });
    expect(await durableCommits(fs)).toEqual([3, 6]);

    // The follower reads D after it learns of the new session; what it synced at 7..9 was C's bytes, not D's.
    const next = await follower.next();
    expect(next.done === false && [next.value.beginLsn, next.value.commitLsn, next.value.events]).toEqual([
      7,
      9,
      ["d"],
    ]);
    expect(await durableCommits(fs)).toEqual([3, 6, 9]);
    await follower.return();
    await reopened.wal.close();
  });

  it("a segment the follower synced ahead of it, moved aside and created again, is not taken as synced", async () => {
    const fs = SimFS.withDir(DIR);
    // Every transaction takes the same bytes; a segment rotates after a little more than a follower reads in one go
    // (1024 transactions), so the follower stops inside segment 1 with segment 2 sealed and 3 after it.
    const event = (i: number): string => `e${String(i).padStart(6, "0")}`;
    const scratch = SimFS.withDir(DIR);
    const probe = await Wal.open<JsonValue>(DIR, { fs: scratch, codec: jsonCodec, syncMode: "none" });
    await probe.wal.commitTx([event(0)]);
    await probe.wal.close();
    const txBytes = scratch.readFileSync(segmentPath(DIR, 1)).byteLength - 32;
    const options = { fs, codec: jsonCodec, syncMode: "none", segmentTargetBytes: 32 + 1100 * txBytes } as const;

    // A writer that publishes no durability (as LoraDB's engine): the follower syncs what it reads itself.
    const { wal } = await Wal.open<JsonValue>(DIR, { ...options, publishDurableLsn: false });
    const perSegment = new Map<number, number>();
    for (let i = 0; wal.activeSegmentId() < 3 || (perSegment.get(3) ?? 0) < 2; i++) {
      await wal.commitTx([event(i)]);
      perSegment.set(wal.activeSegmentId(), (perSegment.get(wal.activeSegmentId()) ?? 0) + 1);
    }
    await wal.close();
    expect(perSegment.get(1)).toBeGreaterThan(1024);
    expect(perSegment.get(1)).toBeLessThan(2048);
    expect(perSegment.get(2)).toBeGreaterThan(1024);

    // The first 1024 transactions (commit LSNs 3..3072), read from segment 1 and synced, with the sizes of segments 1
    // and 2 (2 had a successor) taken as synced for what it reads there later.
    const follower = followDir<JsonValue>(DIR, { fs, codec: jsonCodec, pollIntervalMs: 5, selfSyncAfterMs: 0 });
    for (let i = 0; i < 1024; i++) {
      const t = await follower.next();
      expect(t.done === false && t.value.events).toEqual([event(i)]);
    }
    expect(follower.position).toBe(3072);

    // A bit rots in transaction 4's begin (LSN 13), in sealed segment 1: point-in-time cuts segment 1 there, moves
    // segments 2 and 3 aside and creates segment 2 again at LSN 13. The new session writes 1021 transactions into
    // it, unsynced: the last one (3073..3075) lies below where the old segment 2's synced size ended.
    const first = segmentPath(DIR, 1);
    const second = segmentPath(DIR, 2);
    flip(fs, first, (await offsetOf(fs, first, 13)) + 20);
    const reopened = await Wal.open<JsonValue>(DIR, { ...options, recovery: "point-in-time" });
    expect(reopened.healed).toMatchObject([
      {
        kind: "corruptionCut",
        segment: first,
        laterSegmentsMoved: [`${second}.broken`, `${segmentPath(DIR, 3)}.broken`],
      },
      { kind: "sealedSegmentSucceeded", sealed: first, created: second },
    ]);
    for (let k = 0; k < 1021; k++) await reopened.wal.commitTx([`new ${k}`]);
    expect(reopened.wal.activeSegmentId()).toBe(2);
    expect(reopened.wal.nextLsn()).toBe(3076);
    expect(fs.readFileSync(second).byteLength).toBeLessThan(32 + (perSegment.get(2) as number) * txBytes);
    expect(await durableCommits(fs)).not.toContain(3075);

    // The follower finds segment 1 cut below where it read (the first writer had no session to see change) and reads
    // again from 3073, now in the new segment 2. Past what it delivered, the new history's first transaction:
    // delivered once durable, never on the strength of the old segment 2's synced size.
    const next = await follower.next();
    expect(next.done === false && [next.value.beginLsn, next.value.commitLsn, next.value.events]).toEqual([
      3073,
      3075,
      ["new 1020"],
    ]);
    expect(await durableCommits(fs)).toContain(3075);
    await follower.return();
    await reopened.wal.close();
  });
});
