/**
 * A follower that syncs the log itself remembers, per segment, the size its fdatasync covered, and takes records it
 * reads later below that size as durable without another sync. A crashed writer's torn tail lies below that size
 * when the follower synced over it; the next writer session cuts it and writes new records in its place, which no
 * one has synced yet. The transaction the follower delivers there must be in what a power loss leaves (SimFS's
 * durable image), whether the follower learns of the new session before it reads those records (it reads again,
 * and the sizes measured before are no promise any more) or not at all (the dead writer published no mark, so
 * there was no session to see change; or the new one writes before its first mark).
 */

import { type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { DurableMarkWriter, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { tx } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";
import { readCommitted } from "./read-committed.js";

const DIR = "/wal";

/** The commit LSNs a power loss now leaves for certain. */
async function durableCommits(fs: SimFS): Promise<number[]> {
  const commits: number[] = [];
  for await (const t of readCommitted<JsonValue>(DIR, { codec: jsonCodec, fs: fs.durableImage() })) {
    commits.push(t.commitLsn);
  }
  return commits;
}

describe("followDir syncing itself across a writer restart that rewrote a tail it had synced", () => {
  for (const deadMark of [true, false]) {
    it(`delivers the new session's transaction only once it is durable (the dead writer's mark: ${deadMark})`, async () => {
      // The log directory is already there, durable (as Wal.open leaves it): what is at stake is the segment.
      const fs = SimFS.withDir(DIR);
      const path = segmentPath(DIR, 1);

      // Session 1 writes A (1..3) and begins B at 4, whose long mutation (5) is torn by a power loss: durable, torn.
      const first = await SegmentWriter.create(fs, path, 1);
      for (const r of tx(1, ["a"])) first.append(r, jsonCodec);
      first.append({ kind: "txBegin", lsn: 4 }, jsonCodec);
      await first.flush();
      const cutAt = first.size;
      const torn: WalRecord<JsonValue> = { kind: "mutation", lsn: 5, txBeginLsn: 4, event: "b".repeat(400) };
      first.append(torn, jsonCodec);
      await first.flush();
      const tornEnd = first.size - 10;
      await first.discardAndClose();
      const file = await fs.open(path, "readWrite");
      await file.truncate(tornEnd);
      await file.datasync();
      await file.close();
      // Its mark (session 1) never said A was durable: the follower syncs for itself, over the torn tail too (the
      // size it keeps for the segment lies past where session 2 cuts).
      const dead = deadMark ? await DurableMarkWriter.open(fs, DIR, 1) : undefined;
      dead?.publish(1);

      const follower = followDir<JsonValue>(DIR, { codec: jsonCodec, fs, pollIntervalMs: 20, selfSyncAfterMs: 0 });
      const a = await follower.next();
      expect(a.done === false && a.value.commitLsn).toBe(3);
      expect(await durableCommits(fs)).toEqual([3]);

      // Session 2: its recovery cuts the torn mutation (durably), publishes its mark, and writes C (5..7) where the
      // torn bytes were, not synced yet.
      const cut = await fs.open(path, "readWrite");
      await cut.truncate(cutAt);
      await cut.datasync();
      await cut.close();
      await dead?.close(4);
      const mark = await DurableMarkWriter.open(fs, DIR, 5);
      mark.publish(4);
      const second = await SegmentWriter.openForAppend(fs, path, cutAt);
      for (const r of tx(5, ["c"])) second.append(r, jsonCodec);
      await second.write();
      expect(second.size).toBeLessThan(tornEnd);
      expect(await durableCommits(fs)).toEqual([3]);

      const c = await follower.next();
      expect(c.done === false && [c.value.beginLsn, c.value.commitLsn, c.value.events]).toEqual([5, 7, ["c"]]);
      expect(await durableCommits(fs)).toEqual([3, 7]);
      await follower.return();
      await second.close();
      await mark.close(7);
    });
  }
});
