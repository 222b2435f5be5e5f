/**
 * Planning a restore or a verify costs what the archive's listing holds, never the segment ids a key names. It used
 * to plan one entry per id between the oldest and the newest key: an archive of a few objects, one of them keyed
 * (damaged, or hostile) with an id far above the others, made `restore` and `verifyArchive` build an error per
 * missing id (a million ids: ~12 s and ~800 MiB; an id near 2^53 never finishes). A run of missing ids is now one
 * error, one problem, one progress step. Counted (plan entries, problems, progress calls), not timed.
 */

import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { archiveKey, parseArchiveKey } from "./archive-keys.js";
import { memoryArchive } from "./memory-archive.js";
import { restore } from "./restore.js";
import { archivedLog } from "./test-support/archived-log.js";
import { listArchive, planSegments, verifyArchive } from "./verify-archive.js";

const GAP = 200_000;

/** An archive of a log of a few segments, its newest sealed segment keyed `GAP` ids above its own. */
async function archiveWithFarId() {
  const fs = new SimFS();
  const store = memoryArchive();
  await archivedLog(fs, store);
  const sealed = (await store.list("segments/")).map((o) => ({ key: o.key, k: parseArchiveKey(o.key) }));
  const newest = sealed.at(-1);
  if (newest?.k?.kind !== "segment") throw new Error("no sealed segment");
  const bytes = store.peek(newest.key) as Uint8Array;
  for (const { key } of await store.list("partial/")) store.remove(key);
  store.remove(newest.key);
  const farId = newest.k.id + GAP;
  await store.put(archiveKey({ ...newest.k, id: farId }), bytes, { crc32: newest.k.crc32 });
  return { fs, store, missingFrom: newest.k.id, missingTo: farId - 1, objects: sealed.length };
}

it("a run of missing segment ids is one plan entry, one problem and one progress step, whatever ids it spans", async () => {
  const { fs, store, missingFrom, missingTo, objects } = await archiveWithFarId();
  const listing = await listArchive(store);
  expect(listing).toHaveLength(objects);
  // One entry per listed segment and one for the run (before: one per id, GAP of them).
  expect(planSegments(listing, 0, listing.length - 1)).toHaveLength(objects + 1);

  const steps: { segmentsDone: number; segmentsTotal: number }[] = [];
  const report = await verifyArchive(store, { onProgress: (p) => steps.push(p) });
  expect(report.problems).toEqual([
    {
      key: `segments/${String(missingFrom).padStart(10, "0")}-*`,
      code: "WAL_ARCHIVE_MISSING",
      message: expect.stringContaining(`segments ${missingFrom}..${missingTo} are missing from the archive`),
    },
  ]);
  expect(steps).toHaveLength(objects + 1);
  // Progress still counts segment ids, the run's all at once.
  const total = missingTo + 1 - (listing[0]?.id ?? 0) + 1;
  expect(steps.at(-1)).toMatchObject({ segmentsDone: total, segmentsTotal: total });

  await expect(restore({ store, dir: "/r", fs })).rejects.toMatchObject({
    code: "WAL_ARCHIVE_MISSING",
    details: { object: `segments/${String(missingFrom).padStart(10, "0")}-*` },
  });
  expect(await fs.stat("/r")).toBeNull(); // refused before anything was written
});
