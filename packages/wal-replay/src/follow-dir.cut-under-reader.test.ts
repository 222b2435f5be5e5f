/**
 * A follower that read a transaction ahead of durability, when the writer's next session cuts it away (the bytes
 * were never durable) and writes a different transaction at the same LSNs before it publishes a mark of its own: the
 * follower must deliver the transaction now in the log, never the one cut. The follower holds the first one back
 * because the writer's mark (stale, the dead writer's) does not cover it, and then syncs what it reads itself.
 */

import { mkdtemp, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem, DurableMarkWriter, SegmentWriter, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tx } from "../test/build-log.js";
import { followDir } from "./follow-dir.js";

const fs = createNodeFileSystem();
let dir: string;
let stop: AbortController;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-follow-cut-"));
  stop = new AbortController();
});
afterEach(async () => {
  stop.abort();
  await rm(dir, { recursive: true, force: true });
});

describe("followDir when a restarted writer cuts what it read ahead", () => {
  for (const preallocateBytes of [0, 8192]) {
    it(`delivers what was written after the cut, not what was cut (preallocateBytes ${preallocateBytes})`, async () => {
      const path = segmentPath(dir, 1);
      const first = await SegmentWriter.create(fs, path, 1, { preallocateBytes });
      for (const r of tx(1, ["a"])) first.append(r, jsonCodec);
      await first.flush();
      const durableEnd = first.size;
      for (const r of tx(4, ["cut: never durable, and longer than what replaces it"])) first.append(r, jsonCodec);
      await first.flush();
      const mark = await DurableMarkWriter.open(fs, dir, 1);
      mark.publish(3);
      const follower = followDir<JsonValue>(dir, {
        codec: jsonCodec,
        signal: stop.signal,
        pollIntervalMs: 20,
        selfSyncAfterMs: 0,
      });
      // Delivered 1..3; 4..6 read ahead (the same read), held back: the mark says 3.
      const one = await follower.next();
      expect(one.done === false && [one.value.commitLsn, one.value.events]).toEqual([3, ["a"]]);

      // The machine dies; 4..6 never reached the disk. The next writer session starts from 3 and writes 4..6 anew.
      await first.discardAndClose();
      await truncate(path, durableEnd);
      const second = await SegmentWriter.openForAppend(fs, path, durableEnd, { preallocateBytes });
      for (const r of tx(4, ["n"])) second.append(r, jsonCodec);
      await second.flush();

      const next = await follower.next();
      expect(next.done === false && [next.value.beginLsn, next.value.commitLsn, next.value.events]).toEqual([
        4,
        6,
        ["n"],
      ]);
      await follower.return();
      await second.discardAndClose();
      await mark.close(6);
    });
  }
});
