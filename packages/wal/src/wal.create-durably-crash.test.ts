/**
 * Crash images of a log directory this open created, or an earlier killed open left behind unsynced: after
 * `Wal.open` and an acknowledged commit, every state a power loss can leave opens with that commit. SimFS loses a
 * directory whose entry in its parent was never fsynced, with every file under it.
 */

import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { Wal } from "./wal.js";

/** Open `dir` on `sim`, commit one transaction (perCommit: fsynced before it resolves), and return every image. */
async function imagesAfterAckedCommit(sim: SimFS, dir: string) {
  const { wal } = await Wal.open<JsonValue>(dir, { fs: sim, codec: jsonCodec });
  await wal.commitTx(["acked"]);
  const images = [...sim.crashImages({ maxImages: 64, seed: 30 })];
  await wal.close();
  return images;
}

/** The descriptions of the images that do not open with the acknowledged commit. */
async function losing(images: Iterable<{ description: string; fs: SimFS }>, dir: string): Promise<string[]> {
  const lost: string[] = [];
  for (const image of images) {
    const { wal, events } = await Wal.open<JsonValue>(dir, { fs: image.fs, codec: jsonCodec });
    if (JSON.stringify(events) !== JSON.stringify(["acked"])) lost.push(image.description);
    await wal.close();
  }
  return lost;
}

describe("a log directory created by Wal.open survives power loss with the commits acknowledged in it", () => {
  it("when the open created every level, /data/a/b/wal on a bare root", async () => {
    const sim = new SimFS();
    const images = await imagesAfterAckedCommit(sim, "/data/a/b/wal");
    expect(images.length).toBeGreaterThan(2);
    expect(await losing(images, "/data/a/b/wal")).toEqual([]);
  });

  it("when a killed open made every level with mkdirp and fsynced none of them", async () => {
    const sim = SimFS.withDir("/data");
    await sim.mkdirp("/data/a/b/wal"); // the killed process's mkdirp: in the page cache, not on disk
    const images = await imagesAfterAckedCommit(sim, "/data/a/b/wal");
    expect(await losing(images, "/data/a/b/wal")).toEqual([]);
  });

  it("when a killed open made only the upper level, and this open makes the log directory below it", async () => {
    const sim = SimFS.withDir("/data");
    await sim.mkdirp("/data/a");
    const images = await imagesAfterAckedCommit(sim, "/data/a/wal");
    expect(await losing(images, "/data/a/wal")).toEqual([]);
  });
});
