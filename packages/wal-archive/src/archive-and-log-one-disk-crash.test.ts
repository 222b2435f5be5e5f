/**
 * The log and its `fsArchive` on one disk, and a power loss that takes both at any step of the archiver's work
 * (shipping pieces, replacing them with a sealed object, deleting them, moving its slot) while the writer commits,
 * checkpoints and truncates. Tier R crashes the log beside an archive kept in memory, which never loses a put; no test
 * crashed the two together before. Every crash image must: open the log in the default mode with every acknowledged
 * commit above the fence; restore from its archive a gapless prefix of the history holding the archived line; and,
 * with a new archiver attached to the recovered log and the same archive, archive the recovered history so that a
 * restore gives exactly it.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { expect, it } from "vitest";
import { startArchiver } from "./archiver.js";
import { fsArchive } from "./fs-archive.js";
import { restore } from "./restore.js";

const LOG = "/disk/log";
const ARCHIVE = "/disk/archive";
/** Crash images of the disk per file operation of the archive (seeded). */
const IMAGES_PER_STEP = 2;
const COMMITS = 20;

/** The events of the log restored from the archive on `disk`. */
async function restoredEvents(disk: SimFS): Promise<JsonValue[]> {
  const target = new SimFS();
  await restore({ store: fsArchive(ARCHIVE, { fs: disk }), dir: "/r", fs: target });
  const { wal, events } = await Wal.open<JsonValue>("/r", { fs: target, codec: jsonCodec });
  await wal.close();
  return events;
}

interface Snapshot {
  readonly at: string;
  readonly disk: SimFS;
  /** The archived line the archiver had reported, the commits acknowledged (perCommit: durable), the fence. */
  readonly archivedLsn: number;
  readonly acked: number;
  readonly fence: number;
}

it("every crash image of a disk holding a log and its archive recovers both, and archiving resumes", async () => {
  const disk = SimFS.withDir("/disk");
  const segmentTargetBytes = 200;
  const { wal } = await Wal.open<JsonValue>(LOG, { fs: disk, codec: jsonCodec, segmentTargetBytes });
  const archiver = startArchiver(wal, { store: fsArchive(ARCHIVE, { fs: disk }), fs: disk, intervalMs: 2 });
  await archiver.flush();
  const commits: { event: string; commitLsn: number }[] = [];
  let fence = 0;
  const images: Snapshot[] = [];
  const off = disk.onOperation((e) => {
    if (!e.path.startsWith(`${ARCHIVE}/`) && !e.path.startsWith(`${LOG}/slots`)) return;
    const archivedLsn = archiver.status().archivedLsn;
    for (const image of disk.crashImages({ maxImages: IMAGES_PER_STEP, seed: e.seq })) {
      const at = `after #${e.seq} ${e.op} ${e.path}: ${image.description}`;
      images.push({ at, disk: image.fs, archivedLsn, acked: commits.length, fence });
    }
  });
  for (let i = 0; i < COMMITS; i++) {
    const event = `e${i}`;
    commits.push({ event, commitLsn: ((await wal.commitTx([event])) as { commitLsn: number }).commitLsn });
    if (i % 5 === 4) {
      await archiver.flush();
      // A snapshot taken at the fence is durable before the checkpoint starts: a reopen from now on is at it.
      fence = wal.safeCheckpointLsn();
      await wal.checkpoint(fence);
    }
  }
  await archiver.stop();
  off();
  await wal.close();
  expect(images.length).toBeGreaterThan(20);
  let checked = 0;

  for (const { at, disk: image, archivedLsn, acked, fence: imageFence } of images) {
    const archived = commits.filter((c) => c.commitLsn <= archivedLsn).length;
    const fromArchive = archived === 0 ? [] : await restoredEvents(image.clone());
    expect(fromArchive, at).toEqual(commits.slice(0, fromArchive.length).map((c) => c.event));
    expect(fromArchive.length, at).toBeGreaterThanOrEqual(archived);

    // The log: every acknowledged commit above the fence, and nothing that was not committed.
    const recovered = await Wal.open<JsonValue>(LOG, {
      fs: image,
      codec: jsonCodec,
      segmentTargetBytes,
      checkpointLsn: imageFence,
    });
    const above = commits.filter((c) => c.commitLsn > imageFence).map((c) => c.event);
    expect(recovered.events, at).toEqual(above.slice(0, recovered.events.length));
    expect(recovered.events.length, at).toBeGreaterThanOrEqual(
      commits.slice(0, acked).filter((c) => c.commitLsn > imageFence).length,
    );
    // Archiving resumes on the same archive: it ends up holding the recovered history, and the commit made now.
    const resumed = startArchiver(recovered.wal, {
      store: fsArchive(ARCHIVE, { fs: image }),
      fs: image,
      intervalMs: 2,
    });
    await recovered.wal.commitTx(["after"]);
    await resumed.stop();
    expect(resumed.status().lastError, at).toBeNull();
    await recovered.wal.close();
    const after = await restoredEvents(image);
    expect(after.at(-1), at).toBe("after");
    const history = after.slice(0, -1);
    expect(history, at).toEqual(commits.slice(0, history.length).map((c) => c.event));
    // Up to the newest commit the log recovered; with none above the fence, at least everything up to it.
    if (recovered.events.length > 0) expect(history.at(-1), at).toBe(recovered.events.at(-1));
    else expect(history.length, at).toBe(commits.filter((c) => c.commitLsn <= imageFence).length);
    checked++;
  }
  expect(checked).toBe(images.length);
});
