/**
 * A restore into an existing empty directory whose own entry may not be on disk yet (an earlier restore killed between
 * its `mkdirp` and the parent's fsync, or a `mkdir` by hand, which does not fsync): once the restore has resolved,
 * every state a power loss can leave holds the whole restored log, never nothing.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

/** How many events a crash image's `/data/r/log` replays (0 when the directory is gone). */
async function eventsIn(fs: SimFS): Promise<number> {
  if ((await fs.stat("/data/r/log")) === null) return 0;
  let n = 0;
  for await (const tx of replayDir<JsonValue>("/data/r/log", { codec: jsonCodec, fs })) n += tx.events.length;
  return n;
}

it("every crash image after a restore into an empty directory made unsynced holds the whole log", async () => {
  const commits = 12;
  const source = new SimFS();
  const store = memoryArchive();
  await archivedLog(source, store, { commits });
  const sim = SimFS.withDir("/data");
  await sim.mkdirp("/data/r/log"); // the killed restore's mkdirp: in the page cache, not on disk
  await restore({ store, dir: "/data/r/log", fs: sim });
  const counts: number[] = [];
  for (const image of sim.crashImages({ maxImages: 64, seed: 30 })) counts.push(await eventsIn(image.fs));
  expect(counts.length).toBeGreaterThan(0);
  expect(counts.filter((n) => n !== commits)).toEqual([]);
});
