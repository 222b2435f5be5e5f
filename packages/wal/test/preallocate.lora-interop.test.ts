/**
 * A durable handle zero-fills its active segment ahead of its records, and makes its next segment ahead of rotation
 * (the spare). What a killed writer leaves (the segment with its zero tail and the spare, as the page cache holds
 * them) must open in the real engine (`@loradb/lora-node`) with every commit, and what LoraDB then writes must open
 * here; both ways, round after round.
 */

import { cp, readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { createPropertyMap, type MutationEvent } from "@lora/wal-codec/lora";
import { replayDir } from "@lora/wal-replay";
import { createNodeFileSystem, isSpareSegmentName, type WalFileSystem } from "@lora/wal-segment";
import { boundProperty, interceptOpen } from "@lora/wal-segment/testing";
import { openWalDatabase } from "@loradb/lora-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Wal } from "../src/index.js";

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
beforeEach(async () => {
  tmp = await makeTempDir("wal-preallocate-interop");
});
afterEach(async () => {
  await tmp.cleanup();
});

/**
 * Node `i`. LoraDB gives a node it creates the id after the largest it replayed, so the nodes written after LoraDB
 * wrote one take ids from a million on, clear of it.
 */
function chainNode(i: number): MutationEvent {
  const properties = createPropertyMap();
  properties.i = BigInt(i);
  properties.pad = "p".repeat(150);
  return { type: "CreateNode", id: BigInt(i < 150 ? i : 1_000_000 + i), labels: ["Chain"], properties };
}

async function activeSegment(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
  return join(dir, names.at(-1) as string);
}

/** Bytes of the records of `path` (where replay stops) and the file's length. */
async function recordsAndLength(dir: string, path: string): Promise<{ records: number; length: number }> {
  const outcome = await replayDir(dir, { codec: (await import("@lora/wal-codec/lora")).loraCodec }).outcome();
  const summary = outcome.segments.find((s) => s.path === path);
  return { records: summary?.endOffset ?? -1, length: (await stat(path)).size };
}

/**
 * The Node seam, watching the handle's spares. A sync round that takes the active segment past half its target
 * starts making the next spare (created, zero-filled, fdatasynced) before it acknowledges its commits, and nothing
 * waits for it: whether the spare is in the directory yet when a commit returns depends on how fast the disk is.
 * `sparesMade()` resolves once every spare started so far is made (its fdatasync returned) or given up (closed).
 */
function watchingSpares(): { readonly fs: WalFileSystem; sparesMade(): Promise<void> } {
  const making: Promise<void>[] = [];
  const fs = interceptOpen(createNodeFileSystem(), async (path, mode, next) => {
    if (!isSpareSegmentName(basename(path))) return next(path, mode);
    // Counted when the open is asked for (in the sync round), not when it returns.
    let made = (): void => undefined;
    making.push(
      new Promise<void>((resolve) => {
        made = resolve;
      }),
    );
    const file = await next(path, mode).catch((error: unknown) => {
      made();
      throw error;
    });
    return new Proxy(file, {
      get(target, key) {
        if (key === "datasync") return () => target.datasync().finally(made);
        if (key === "close") return () => target.close().finally(made);
        return boundProperty(target, key);
      },
    });
  });
  return {
    fs,
    sparesMade: async () => {
      await Promise.all(making);
    },
  };
}

/** What a SIGKILL leaves: the files as the page cache holds them, the lock file unlocked. */
async function killedImage(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true });
}

async function loraChainIds(dir: string): Promise<number[]> {
  const db = await openWalDatabase({ walDir: dir });
  try {
    const rows = (await db.execute("MATCH (n:Chain) RETURN n.i AS i")).rows as { i: bigint | number }[];
    return rows.map((r) => Number(r.i)).sort((a, b) => a - b);
  } finally {
    db.dispose();
  }
}

describe("preallocated segments and LoraDB", () => {
  it("a killed writer's zero-filled segment opens in LoraDB with every commit, and LoraDB's writes open here", async () => {
    const live = join(tmp.path, "live");
    const { fs, sparesMade } = watchingSpares();
    const { wal } = await Wal.open(live, { fs, segmentTargetBytes: 16 * 1024 });
    let next = 0;
    for (; next < 150; next++) await wal.commitTx([chainNode(next)]);
    // The image is of a killed writer whose spare was made: not of one killed while making it.
    await sparesMade();
    const image = join(tmp.path, "image-1");
    await killedImage(live, image);
    await wal.close();

    // The image's active segment holds zeros past its records: the state this test is about.
    const active = await activeSegment(image);
    const before = await recordsAndLength(image, active);
    expect(before.length).toBeGreaterThan(before.records);
    expect((await readFile(active)).subarray(before.records).every((b) => b === 0)).toBe(true);
    expect((await readdir(image)).filter((n) => n.endsWith(".wal")).length).toBeGreaterThanOrEqual(3);
    // Segments 2 on were spares renamed into place, and the next spare was waiting.
    expect((await readdir(image)).filter(isSpareSegmentName)).toHaveLength(1);

    // Here: the zeros are the end, not damage.
    const here = await Wal.open(image, { recovery: "absolute" });
    expect(here.tornTail).toBeNull();
    expect(here.healed).toEqual([]);
    expect(here.events).toHaveLength(150);
    await here.wal.close();
    await killedImage(live, `${image}-again`);

    // LoraDB, on the image as the kill left it: every commit, and it takes one of its own.
    const lora = `${image}-again`;
    expect(await loraChainIds(lora)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    const db = await openWalDatabase({ walDir: lora });
    await db.execute("CREATE (:Chain {i: 1000})");
    db.dispose();

    // Here again on what LoraDB wrote, then more of ours (zero-filled again), then a kill, then LoraDB.
    const reopened = await Wal.open(lora, { fs, segmentTargetBytes: 16 * 1024 });
    expect(reopened.tornTail).toBeNull();
    expect(reopened.events).toHaveLength(151);
    for (; next < 200; next++) await reopened.wal.commitTx([chainNode(next)]);
    await sparesMade();
    const image2 = join(tmp.path, "image-2");
    await killedImage(lora, image2);
    await reopened.wal.close();
    const active2 = await activeSegment(image2);
    expect((await readdir(image2)).filter(isSpareSegmentName)).toHaveLength(1);
    const after = await recordsAndLength(image2, active2);
    expect(after.length).toBeGreaterThan(after.records);
    const expected = [...Array.from({ length: 200 }, (_, i) => i), 1000].sort((a, b) => a - b);
    expect(await loraChainIds(image2)).toEqual(expected);
    // LoraDB ignored the spare and left it; our next open replaces it.
    expect((await readdir(image2)).filter(isSpareSegmentName)).toHaveLength(1);
    // And the directory LoraDB cut opens here with the same history.
    const last = await Wal.open(image2);
    await last.wal.close();
    expect(last.events).toHaveLength(201);
  });

  it("a clean close leaves the active segment as long as its records, as LoraDB's are", async () => {
    const dir = join(tmp.path, "closed");
    const { wal } = await Wal.open(dir);
    for (let i = 0; i < 20; i++) await wal.commitTx([chainNode(i)]);
    await wal.close();
    const active = await activeSegment(dir);
    const { records, length } = await recordsAndLength(dir, active);
    expect(length).toBe(records);
    expect(await loraChainIds(dir)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
