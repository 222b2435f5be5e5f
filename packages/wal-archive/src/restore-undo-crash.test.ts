/**
 * A restore that fails after its segments are in place removes them again. A crash while it does must not leave a
 * shorter log that opens as if it were whole: at every point the directory holds the whole log, nothing, or segments
 * without the oldest (which fails to open with `WAL_FENCE_TOO_LOW`), as a crash while they are put in place does.
 * And once the restore has rejected, what it removed stays removed.
 */

import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { replayDir } from "@lora/wal-replay";
import { SimFS, type SimFS as SimFSType } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";

/** What a crash image of the restore's directory opens as. */
async function outcome(fs: SimFSType, commits: number): Promise<string> {
  const names = (await fs.stat("/r")) === null ? [] : fs.listSync("/r");
  if (!names.some((n) => n.endsWith(".wal"))) return "nothing";
  const events: JsonValue[] = [];
  try {
    for await (const tx of replayDir<JsonValue>("/r", { codec: jsonCodec, fs })) events.push(...tx.events);
  } catch (error) {
    // Refused: a log missing its oldest segment, or one between two others, does not open as a shorter one.
    return isWalError(error) ? `refused (${error.code})` : `failed: ${String(error)}`;
  }
  return events.length === commits ? "whole" : `shorter: ${events.length} of ${commits} events`;
}

it("every crash image while a failed restore removes its segments is whole, empty or refused, never shorter", async () => {
  const commits = 30;
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits });
  // The restore fails once every segment is in place: its last progress call throws.
  let undoing = false;
  const images: SimFSType[] = [];
  sim.onOperation(() => {
    if (undoing) for (const image of sim.crashImages({ maxImages: 64 })) images.push(image.fs);
  });
  const failure = await restore({
    store,
    dir: "/r",
    fs: sim,
    onProgress: (p) => {
      if (!p.done) return;
      undoing = true;
      throw new Error("the caller gives up");
    },
  }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toMatchObject({ message: "the caller gives up" });
  expect(await sim.stat("/r")).toBeNull();
  expect(images.length).toBeGreaterThan(0);
  const outcomes = new Set<string>();
  for (const fs of images) outcomes.add(await outcome(fs, commits));
  expect([...outcomes].filter((o) => o !== "whole" && o !== "nothing" && !o.startsWith("refused"))).toEqual([]);
  expect(outcomes.has("refused (WAL_FENCE_TOO_LOW)")).toBe(true);
});

it("what a restore into an existing empty directory wrote and removed stays removed once it has rejected", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  // The oldest segment is fetched last: the newer ones are written (as temporary files) by then.
  const oldest = (await store.list("segments/")).map((o) => o.key).sort()[0] as string;
  store.corrupt(oldest);
  await sim.mkdirp("/r");
  await sim.syncDir("/");
  const failure = await restore({ store, dir: "/r", fs: sim }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toMatchObject({ code: "WAL_ARCHIVE_CORRUPT", details: { object: oldest } });
  expect(sim.listSync("/r")).toEqual([]);
  const leftovers = new Set<string>();
  for (const image of sim.crashImages({ maxImages: 64 }))
    for (const name of image.fs.listSync("/r")) leftovers.add(name);
  expect([...leftovers]).toEqual([]);
});

it("a successor that could not be created does not stop the removal of the segments before it", async () => {
  const sim = new SimFS();
  const store = memoryArchive();
  await archivedLog(sim, store, { commits: 30 });
  // Only sealed objects: the newest restored segment is sealed, so the restore creates its empty successor.
  for (const key of store.keys()) if (key.startsWith("partial/")) store.remove(key);
  const clean = await restore({ store, dir: "/ok", fs: sim });
  const successorName = (clean.successor as string).split("/").at(-1) as string;
  expect(clean.segments).toBeGreaterThan(1);

  const fault = sim.injectFault({ op: "open", errno: "EMFILE", path: new RegExp(`^/r/${successorName}$`) });
  const failure = await restore({ store, dir: "/r", fs: sim }).then(
    () => null,
    (error: unknown) => error,
  );
  expect(fault.hits).toBe(1);
  expect(failure).toMatchObject({ code: "WAL_IO", details: { errno: "EMFILE" } });
  expect(await sim.stat("/r")).toBeNull(); // created by the restore, removed again with everything in it
  const retried = await restore({ store, dir: "/r", fs: sim });
  expect(retried.segments).toBe(clean.segments);
});
