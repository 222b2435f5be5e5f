/**
 * A follower catching up through a log of many segments does work linear in their count. It used to list the
 * directory twice per segment to find each successor, and every listing names every segment: a catch-up over `n`
 * segments read 2·n² names (8 million for 2000 segments, ~10 s). Counted through the seam, not timed.
 */

import { jsonCodec } from "@lora/wal-codec";
import { SegmentWriter, segmentPath } from "@lora/wal-segment";
import { SimFS, wrapFileSystem } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { followDir } from "./follow-dir.js";

const DIR = "/w";

/** `n` segments of one committed transaction each, all sealed but the newest. */
async function manySegments(fs: SimFS, n: number): Promise<void> {
  fs.mkdirpSync(DIR);
  let lsn = 1;
  for (let id = 1; id <= n; id++) {
    const writer = await SegmentWriter.create(fs, segmentPath(DIR, id), lsn);
    const begin = lsn++;
    writer.append({ kind: "txBegin", lsn: begin }, jsonCodec);
    writer.append({ kind: "mutation", lsn: lsn++, txBeginLsn: begin, event: id }, jsonCodec);
    writer.append({ kind: "txCommit", lsn: lsn++, txBeginLsn: begin }, jsonCodec);
    await writer.flush();
    if (id < n) await writer.seal();
    await writer.close();
  }
}

/** Catch up through `n` segments; the names the directory listings returned in all. */
async function namesListedCatchingUp(n: number): Promise<number> {
  const sim = new SimFS();
  await manySegments(sim, n);
  let names = 0;
  const fs = wrapFileSystem(sim, (file) => file, {
    readdir: async (path: string) => {
      const listed = await sim.readdir(path);
      names += listed.length;
      return listed;
    },
  });
  const stop = new AbortController();
  const follower = followDir(DIR, {
    fs,
    codec: jsonCodec,
    after: 0,
    durability: "written",
    watch: false,
    pollIntervalMs: 1,
    signal: stop.signal,
  });
  const events: unknown[] = [];
  for await (const tx of follower) {
    events.push(...tx.events);
    if (events.length === n) break;
  }
  stop.abort();
  expect(events).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  return names;
}

describe("followDir catching up through many segments", () => {
  it("lists the directory a bounded number of times, not once per segment", async () => {
    for (const n of [100, 400]) {
      // A few listings of n names each: linear in n (before, 2·n² names).
      expect(await namesListedCatchingUp(n)).toBeLessThanOrEqual(4 * n);
    }
  });
});
