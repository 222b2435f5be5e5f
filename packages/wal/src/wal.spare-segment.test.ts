/**
 * The handle makes its next segment ahead of rotation (a spare): rotation renames it instead of creating a file,
 * a spare that cannot be made leaves rotation to create the segment as before, a failure while rotating through it
 * poisons like any rotation failure and loses no acknowledged commit, and a clean close leaves no spare behind.
 * `Wal.open` waits for a spare only when one is due (the active segment holds half its target): a small segment's
 * open does not pay for a zero fill that rotation needs only much later.
 */

import { bytesCodec } from "@lora/wal-codec";
import { isSpareSegmentName, type OpenMode, SPARE_SEGMENT_PREFIX, segmentPath, type WalFile } from "@lora/wal-segment";
import { SimFS, type SimOperationEvent } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { asyncMethodsOf, PassThroughFs } from "../test/pass-through-fs.js";
import { Wal } from "./wal.js";

const DIR = "/w";
/** Every spare's path matches this (each spare has a new name). */
const ANY_SPARE = /\/\.lora-wal\.next-segment\./;
const payload = (i: number) => new Uint8Array(100).fill(i & 0xff);

function spares(fs: SimFS): string[] {
  return fs.listSync(DIR).filter(isSpareSegmentName);
}

const newFs = (): SimFS => SimFS.withDir(DIR);

function open(fs: SimFS, preallocateBytes?: number) {
  return Wal.open(DIR, {
    fs,
    codec: bytesCodec,
    segmentTargetBytes: 1024,
    ...(preallocateBytes === undefined ? {} : { preallocateBytes }),
  });
}

/** Commit `count` transactions (ids from `first`), each awaited. */
async function commit(wal: Wal<Uint8Array>, first: number, count: number): Promise<void> {
  for (let i = first; i < first + count; i++) await wal.commitTx([payload(i)]);
}

/** The first byte of each event a fresh open of `fs` replays. */
async function replayed(fs: SimFS): Promise<number[]> {
  const { wal, events } = await Wal.open(DIR, { fs, codec: bytesCodec });
  await wal.close();
  return events.map((e) => e[0] as number);
}

const ids = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);

/** Where segment `id`'s data ends (past its last non-zero byte; the rest is the writer's zero fill). */
const dataEnd = (fs: SimFS, id: number) => fs.readFileSync(segmentPath(DIR, id)).findLastIndex((b) => b !== 0) + 1;

/**
 * A handle on a log whose active segment (1) already holds at least half of its 1024-byte target: `Wal.open` made
 * its spare before resolving. Transactions 1..n are committed.
 */
async function openPastHalf(fs: SimFS): Promise<{ wal: Wal<Uint8Array>; committed: number }> {
  const { wal: first } = await open(fs);
  let n = 0;
  while (dataEnd(fs, 1) < 512) await first.commitTx([payload(++n)]);
  expect(first.activeSegmentId()).toBe(1);
  await first.close();
  const synced: string[] = [];
  const stop = fs.onOperation((e) => {
    if (e.op === "datasync" && ANY_SPARE.test(e.path) && !e.failed) synced.push(e.path);
  });
  const { wal } = await open(fs);
  stop();
  // Made and waited for: its zero fill was fdatasynced before open resolved.
  expect(spares(fs)).toHaveLength(1);
  expect(synced.map((p) => p.slice(DIR.length + 1))).toEqual(spares(fs));
  return { wal, committed: n };
}

describe("the spare segment", () => {
  it("open waits for a spare only when one is due: not for a small active segment, yes for one past half its target", async () => {
    const fs = newFs();
    const { wal: fresh } = await open(fs);
    expect(spares(fs)).toEqual([]);
    await fresh.close();
    const { wal, committed } = await openPastHalf(fs);
    await wal.close();
    expect(spares(fs)).toEqual([]);
    // Without preallocation a spare is an empty file made right after each rotation: due at any open.
    const { wal: unfilled } = await open(fs, 0);
    expect(spares(fs)).toHaveLength(1);
    await unfilled.close();
    expect(await replayed(fs.durableImage())).toEqual(ids(1, committed));
  });

  it("is made once the active segment is half synced, and each rotation renames it into place", async () => {
    const fs = newFs();
    const { wal } = await open(fs);
    const ops: SimOperationEvent[] = [];
    const stop = fs.onOperation((e) => ops.push(e));
    await commit(wal, 1, 20);
    stop();
    expect(wal.activeSegmentId()).toBeGreaterThanOrEqual(3);
    const renames = ops.filter((e) => e.op === "rename");
    expect(renames.every((e) => ANY_SPARE.test(e.path))).toBe(true);
    expect(renames.map((e) => e.to)).toEqual(ids(2, wal.activeSegmentId() - 1).map((id) => segmentPath(DIR, id)));
    // No segment file was created by rotation itself: each was a spare first.
    const segmentOpens = ops.filter((e) => e.op === "open" && e.path.endsWith(".wal") && !e.failed);
    expect(segmentOpens.every((e) => renames.some((r) => r.to === e.path))).toBe(true);
    await wal.close();
    expect(spares(fs)).toEqual([]);
    expect(await replayed(fs.durableImage())).toEqual(ids(1, 20));
  });

  it("replaces a spare a crash left behind, so its bytes never reach a segment", async () => {
    const fs = newFs();
    const { wal: first } = await open(fs);
    await commit(first, 1, 3);
    await first.close();
    // Spares as a crash may leave them: stamped with a header, and bytes that look like records.
    fs.writeFileSync(`${DIR}/${SPARE_SEGMENT_PREFIX}0a0b0c0d0e0f`, fs.readFileSync(segmentPath(DIR, 1)));
    fs.writeFileSync(`${DIR}/${SPARE_SEGMENT_PREFIX}left`, new Uint8Array(10).fill(1));
    const { wal } = await open(fs);
    expect(spares(fs)).toHaveLength(1);
    expect(spares(fs)[0]).not.toMatch(/0a0b0c0d0e0f|left/);
    await commit(wal, 4, 20);
    await wal.close();
    expect(await replayed(fs.durableImage())).toEqual(ids(1, 23));
  });

  it("when no spare can be made, rotation creates each segment itself and nothing else changes", async () => {
    const fs = newFs();
    const fault = fs.injectFault({ op: "open", path: ANY_SPARE, errno: "EACCES", persistent: true });
    const { wal } = await open(fs);
    await commit(wal, 1, 20);
    // Tried once per segment (at half its size), never again within one.
    expect(fault.hits).toBeGreaterThanOrEqual(1);
    expect(fault.hits).toBeLessThanOrEqual(wal.activeSegmentId());
    expect(wal.bgFailure()).toBeNull();
    await wal.close();
    expect(spares(fs)).toEqual([]);
    expect(await replayed(fs.durableImage())).toEqual(ids(1, 20));
  });

  it("a spare whose zero fill fails is not used; rotation creates the segment", async () => {
    const fs = newFs();
    fs.injectFault({ op: "datasync", path: ANY_SPARE, errno: "EIO" });
    const { wal } = await open(fs, 4096);
    expect(spares(fs)).toEqual([]);
    await commit(wal, 1, 20);
    expect(wal.bgFailure()).toBeNull();
    await wal.close();
    expect(await replayed(fs.durableImage())).toEqual(ids(1, 20));
  });

  it("a failed stamp poisons the handle, keeps every acknowledged commit, and the next open rotates again", async () => {
    const fs = newFs();
    const { wal, committed } = await openPastHalf(fs);
    // The spare's header fdatasync at the first rotation fails.
    fs.injectFault({ op: "datasync", path: ANY_SPARE, errno: "EIO" });
    const acknowledged = ids(1, committed);
    let failure: unknown;
    for (let i = committed + 1; i <= committed + 20 && failure === undefined; i++) {
      try {
        await wal.commitTx([payload(i)]);
        acknowledged.push(i);
      } catch (error) {
        failure = error;
      }
    }
    expect(failure).toMatchObject({ code: "WAL_IO" });
    expect(wal.bgFailure()).not.toBeNull();
    expect(wal.activeSegmentId()).toBe(1);
    // The rotation that failed removed the spare it could not use.
    expect(spares(fs)).toEqual([]);
    await wal.close();
    const image = fs.durableImage();
    expect(await replayed(image)).toEqual(acknowledged);
    const { wal: again } = await open(image);
    await commit(again, 100, 20);
    expect(again.activeSegmentId()).toBeGreaterThan(1);
    await again.close();
    expect(await replayed(image.durableImage())).toEqual([...acknowledged, ...ids(100, 20)]);
  });

  it("a poisoned handle closes its spare without removing the name (it may have lost the directory)", async () => {
    const fs = newFs();
    const { wal, committed } = await openPastHalf(fs);
    fs.injectFault({ op: "datasync", path: segmentPath(DIR, 1), errno: "EIO" });
    await expect(wal.commitTx([payload(committed + 1)])).rejects.toMatchObject({ code: "WAL_IO" });
    await wal.close();
    expect(spares(fs)).toHaveLength(1);
    expect(fs.stats.opens).toBe(fs.stats.closes);
    expect(await replayed(fs.durableImage())).toEqual(ids(1, committed));
  });

  it("a zero-filled spare is started once the active segment is half synced, an empty one right after rotation", async () => {
    for (const syncMode of ["perCommit", "none"] as const) {
      const fs = newFs();
      const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, syncMode, segmentTargetBytes: 4096 });
      let i = 0;
      while (wal.activeSegmentId() === 1) await wal.commitTx([payload(++i)]);
      // In perCommit mode the spare is zero-filled (preallocation): none yet, its fdatasync would run beside commits.
      expect(spares(fs), syncMode).toHaveLength(syncMode === "none" ? 1 : 0);
      const segment = segmentPath(DIR, 2);
      while (fs.readFileSync(segment).findLastIndex((b) => b !== 0) < 2048) await wal.commitTx([payload(++i)]);
      if (syncMode === "none") await wal.sync();
      await wal.commitTx([payload(++i)]);
      expect(spares(fs), syncMode).toHaveLength(1);
      await wal.close();
    }
  });

  it("rotation does not wait for a spare still being made: it creates the segment, and the spare serves the next", async () => {
    const sim = newFs();
    const fs = new HeldSpareSyncs(sim);
    const { wal: first, committed } = await openPastHalf(sim);
    await first.close();
    const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 1024 });
    fs.hold = true;
    const ops: SimOperationEvent[] = [];
    const stop = sim.onOperation((e) => ops.push(e));
    // The first rotation uses the spare made at open; the next one's zero fill is held, so its rotation creates.
    await commit(wal, committed + 1, 20 - committed);
    expect(wal.activeSegmentId()).toBeGreaterThanOrEqual(3);
    expect(fs.held.length).toBe(1);
    const renamedTo = ops.filter((e) => e.op === "rename").map((e) => e.to);
    expect(renamedTo).toEqual([segmentPath(DIR, 2)]);
    // Let the fill land: the spare it finishes serves the next rotation.
    fs.release();
    await commit(wal, 21, 10);
    stop();
    expect(ops.filter((e) => e.op === "rename").map((e) => e.to)).toContain(segmentPath(DIR, wal.activeSegmentId()));
    await wal.close();
    expect(spares(sim)).toEqual([]);
    expect(await replayed(sim.durableImage())).toEqual(ids(1, 30));
  });

  it("a spare that cannot be made is not tried again before the next rotation", async () => {
    const fs = newFs();
    const { wal } = await Wal.open(DIR, { fs, codec: bytesCodec, segmentTargetBytes: 64 * 1024 });
    // From now on no spare can be created (a fresh open made none).
    const fault = fs.injectFault({ op: "open", path: ANY_SPARE, errno: "ENOSPC", persistent: true });
    let i = 0;
    while (wal.activeSegmentId() < 4) await wal.commitTx([payload(++i)]);
    expect(wal.bgFailure()).toBeNull();
    // Each segment tries once at half its size, never again within one.
    expect(fault.hits).toBeGreaterThanOrEqual(1);
    expect(fault.hits).toBeLessThanOrEqual(wal.activeSegmentId());
    expect(i).toBeGreaterThan(600);
    await wal.close();
    expect(await replayed(fs.durableImage())).toEqual(ids(1, i).map((id) => id & 0xff));
  });

  it("close does not start a spare (its final flush reports the segment past half)", async () => {
    const fs = newFs();
    const { wal } = await Wal.open(DIR, {
      fs,
      codec: bytesCodec,
      segmentTargetBytes: 64 * 1024,
      syncMode: { mode: "group", intervalMs: 60_000 },
    });
    let i = 0;
    while (wal.activeSegmentId() < 2) await wal.commitTx([payload(++i)]);
    for (let k = 0; k < 250; k++) await wal.commitTx([payload(++i)]);
    const ops: SimOperationEvent[] = [];
    const stop = fs.onOperation((e) => ops.push(e));
    await wal.close();
    stop();
    expect(ops.filter((e) => ANY_SPARE.test(e.path) && e.op !== "unlink")).toEqual([]);
    expect(spares(fs)).toEqual([]);
  });
});

/** Holds the fdatasyncs (the zero fill) of the spares made while `hold` is set, until `release()`. */
class HeldSpareSyncs extends PassThroughFs {
  hold = false;
  readonly held: (() => void)[] = [];
  override async open(path: string, mode: OpenMode): Promise<WalFile> {
    const file = await this.inner.open(path, mode);
    if (!this.hold || !isSpareSegmentName(path.slice(DIR.length + 1))) return file;
    return {
      ...asyncMethodsOf(file),
      datasync: async () => {
        if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
        await file.datasync();
      },
    };
  }
  release(): void {
    this.hold = false;
    for (const resolve of this.held.splice(0)) resolve();
  }
}
