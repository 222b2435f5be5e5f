/**
 * `judgeSegmentIdHoles`, the one judgement of segment ids missing mid-log that replay, `Wal.open` and `lora-wal`
 * share: covered through a fence a reader can use, lost, or behind the caller's fence; and a segment after the hole
 * removed since the listing is the I/O it is (`WAL_IO`, `ENOENT`), never a lost segment.
 */

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listSegments, segmentPath } from "@lora/wal-segment";
import { afterEach, beforeEach, expect, it } from "vitest";
import { fs, type Rec, tx, writeSegment } from "../test/build-log.js";
import { judgeSegmentIdHoles } from "./hole-cover.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "judge-holes-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Segments 1..4 of one transaction each (segment k from LSN 3k-2), a marker (snapshot `snapshot`) ending segment 4. */
async function log(snapshot: number): Promise<string[]> {
  for (let id = 1; id <= 4; id++) {
    const base = 3 * id - 2;
    const records: Rec[] = [
      ...tx(base, [id]),
      ...(id === 4 ? [{ kind: "checkpoint", lsn: 13, snapshotLsn: snapshot } as const] : []),
    ];
    await writeSegment(dir, id, base, records, { sealed: id < 4 });
  }
  return (await listSegments(fs, dir)).map((e) => e.path);
}

it("no hole: undefined", async () => {
  expect(await judgeSegmentIdHoles(fs, await log(12))).toBeUndefined();
});

it("a hole the marker covers: covered, named, with the fence a reader uses", async () => {
  await log(9);
  await rm(segmentPath(dir, 2));
  const paths = (await listSegments(fs, dir)).map((e) => e.path);
  expect(await judgeSegmentIdHoles(fs, paths)).toEqual({
    kind: "covered",
    holes: [{ before: { id: 1, path: segmentPath(dir, 1) }, after: { id: 3, path: segmentPath(dir, 3) } }],
    missing: "segment 2 is missing between 0000000001.wal and 0000000003.wal",
    before: { id: 1, path: segmentPath(dir, 1) },
    after: { id: 3, path: segmentPath(dir, 3) },
    baseLsn: 7,
    checkpointLsn: 9,
    // The lowest fence that opens the log from segment 3: the LSN before it, a transaction boundary.
    usableFence: 6,
  });
  // A fence that reaches the segment after the hole never reads across it: no marker is looked for.
  expect(await judgeSegmentIdHoles(fs, paths, 6)).toMatchObject({ kind: "behind-fence" });
  expect(await judgeSegmentIdHoles(fs, paths, 5)).toMatchObject({ kind: "covered" });
});

it("a snapshot at the LSN before the segment after the hole covers it; one below does not", async () => {
  await log(6);
  await rm(segmentPath(dir, 2));
  const paths = (await listSegments(fs, dir)).map((e) => e.path);
  expect(await judgeSegmentIdHoles(fs, paths)).toMatchObject({ kind: "covered", checkpointLsn: 6, usableFence: 6 });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  await log(5);
  await rm(segmentPath(dir, 2));
  expect(await judgeSegmentIdHoles(fs, paths)).toMatchObject({ kind: "lost" });
});

it("a marker whose snapshot lies below the hole: lost", async () => {
  await log(3);
  await rm(segmentPath(dir, 2));
  const judged = await judgeSegmentIdHoles(
    fs,
    (await listSegments(fs, dir)).map((e) => e.path),
  );
  expect(judged).toMatchObject({ kind: "lost", holes: [{ before: { id: 1 }, after: { id: 3 } }] });
});

it("a segment after the hole removed since the listing: WAL_IO (ENOENT) naming it, never lost", async () => {
  await log(12);
  await rm(segmentPath(dir, 2));
  const paths = (await listSegments(fs, dir)).map((e) => e.path);
  // The one whose header gives the hole's end, then one the look for the marker reads.
  for (const id of [3, 4]) {
    const listed = [...paths];
    await rm(segmentPath(dir, id));
    await expect(judgeSegmentIdHoles(fs, listed)).rejects.toMatchObject({
      code: "WAL_IO",
      details: { errno: "ENOENT", path: segmentPath(dir, id) },
    });
    await writeSegment(dir, id, 3 * id - 2, tx(3 * id - 2, [id]), { sealed: id < 4 });
  }
});
