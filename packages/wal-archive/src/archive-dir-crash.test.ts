/**
 * A power loss on the archive's own disk (an `fsArchive` directory) while an archiver ships a live log: its pieces of
 * the active segment, the sealed objects that replace them, the pieces' deletions. Tier R keeps its archive in
 * memory, and the `fsArchive` tests crash one put at a time, so no test had crashed the archive directory under the
 * archiver before. At every step of the archive's file system, every crash image of that directory must restore
 * (into a fresh directory, opened in the default mode) a gapless prefix of the committed history that holds every
 * commit at or below the archived line the archiver reported by then; an archive with no object yet restores
 * nothing and is refused for that alone.
 */

import { Wal } from "@lora/wal";
import { isWalError, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { fsArchive } from "./fs-archive.js";
import { restore } from "./restore.js";

const ARCHIVE = "/arc";
/** Crash images of the archive directory per file operation (seeded). */
const IMAGES_PER_STEP = 4;
const COMMITS = 24;

/** The events of the log restored from the archive in `image`, or the code a restore refused with. */
async function restored(image: SimFS): Promise<JsonValue[] | string> {
  const target = new SimFS();
  try {
    await restore({ store: fsArchive(ARCHIVE, { fs: image }), dir: "/r", fs: target });
  } catch (error) {
    return isWalError(error) ? error.code : String(error);
  }
  const { wal, events } = await Wal.open<JsonValue>("/r", { fs: target, codec: jsonCodec });
  await wal.close();
  return events;
}

it("every crash image of an fsArchive directory under a running archiver restores a prefix holding the archived line", async () => {
  const logFs = new SimFS();
  const archiveFs = SimFS.withDir(ARCHIVE);
  const { wal } = await Wal.open<JsonValue>("/a", { fs: logFs, codec: jsonCodec, segmentTargetBytes: 200 });
  const archiver = startArchiver(wal, { store: fsArchive(ARCHIVE, { fs: archiveFs }), fs: logFs, intervalMs: 2 });
  const images: { at: string; fs: SimFS; archivedLsn: number }[] = [];
  const off = archiveFs.onOperation((e) => {
    // The line reported before this operation: it must survive whatever this operation leaves.
    const archivedLsn = archiver.status().archivedLsn;
    for (const image of archiveFs.crashImages({ maxImages: IMAGES_PER_STEP, seed: e.seq })) {
      images.push({ at: `after #${e.seq} ${e.op} ${e.path}: ${image.description}`, fs: image.fs, archivedLsn });
    }
  });
  const commits: { event: string; commitLsn: number }[] = [];
  for (let i = 0; i < COMMITS; i++) {
    const event = `e${i}`;
    commits.push({ event, commitLsn: ((await wal.commitTx([event])) as { commitLsn: number }).commitLsn });
    if (i % 4 === 3) await archiver.flush();
  }
  await archiver.stop();
  off();
  await wal.close();
  expect(archiver.status().archivedLsn).toBe((commits.at(-1) as { commitLsn: number }).commitLsn);

  let empty = 0;
  for (const { at, fs, archivedLsn } of images) {
    const got = await restored(fs);
    const archivedCount = commits.filter((c) => c.commitLsn <= archivedLsn).length;
    if (typeof got === "string") {
      // Only an archive that holds nothing yet may be refused, and only as missing.
      expect({ got, archivedCount }, at).toEqual({ got: "WAL_ARCHIVE_MISSING", archivedCount: 0 });
      empty++;
      continue;
    }
    expect(got, at).toEqual(commits.slice(0, got.length).map((c) => c.event));
    expect(got.length, at).toBeGreaterThanOrEqual(archivedCount);
  }
  expect(images.length).toBeGreaterThan(50);
  expect(empty).toBeLessThan(images.length);
});
