/**
 * One budget of listings for a command: a segment gone before its stat makes the directory be listed again, and so
 * does a segment gone before its read, and one runs inside the other. Each kept its own count of 3, so a writer
 * that truncated at the wrong moments every time made a command list the directory up to 9 times, where the docs
 * promise at most 3.
 *
 * The truncation runs at the exact moment through the read-only seam's base file system: after each listing, the
 * first stat (listings 1 and 2 of every 3) or the first open (every third listing) of a segment file removes it.
 */

import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem, type WalFileSystem } from "@lora/wal-segment";
import { interceptOpen, wrapFileSystem } from "@lora/wal-segment/testing";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { segmentFiles } from "../../test/helpers.js";
import { dumpRecords } from "../commands/dump.js";
import { inspectDir } from "../commands/inspect.js";
import { statDir } from "../commands/stat.js";

const seam = vi.hoisted(() => ({
  /** Listings of the log directory so far. */
  listings: 0,
  /** Whether to truncate at all. */
  truncating: false,
  /** Where the truncation after the last listing strikes: the next segment stat or the next segment open. */
  pending: undefined as undefined | "stat" | "open",
  removed: [] as string[],
}));

vi.mock("@lora/wal-segment", async (importOriginal) => {
  const original = await importOriginal<typeof import("@lora/wal-segment")>();
  return {
    ...original,
    listSegments: (...args: Parameters<typeof original.listSegments>) => {
      seam.listings++;
      if (seam.truncating) seam.pending = seam.listings % 3 === 0 ? "open" : "stat";
      return original.listSegments(...args);
    },
  };
});

vi.mock("./read-only-fs.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("./read-only-fs.js")>();
  const removeAt = async (at: "stat" | "open", path: string) => {
    if (seam.pending !== at || !path.endsWith(".wal")) return;
    seam.pending = undefined;
    seam.removed.push(path);
    await unlink(path);
  };
  const base = (): WalFileSystem => {
    const node = createNodeFileSystem();
    const opening = interceptOpen(node, async (path, mode, next) => {
      await removeAt("open", path);
      return next(path, mode);
    });
    return wrapFileSystem(opening, (file) => file, {
      async stat(path) {
        await removeAt("stat", path);
        return await node.stat(path);
      },
    });
  };
  return {
    ...original,
    createReadOnlyFileSystem: (...[onRead, fs, grants]: Parameters<typeof original.createReadOnlyFileSystem>) =>
      original.createReadOnlyFileSystem(onRead, fs ?? base(), grants),
  };
});

let tmp: { path: string; cleanup(): Promise<void> };
let dir: string;
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-cli-listing-budget");
  dir = join(tmp.path, "wal");
  // Small segments, then a checkpoint marker at the last commit: truncating any of the oldest segments is what a
  // checkpoint does, so the log is clean with or without them.
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 512 });
  try {
    for (let k = 0; k < 60; k++) await wal.commitTx([{ k, pad: "x".repeat(40) }, k]);
    await wal.checkpointMarker(180);
  } finally {
    await wal.close();
  }
  // More segments than 9 truncations remove.
  expect((await segmentFiles(dir)).length).toBeGreaterThan(10);
  seam.listings = 0;
  seam.truncating = false;
  seam.pending = undefined;
  seam.removed = [];
});
afterEach(async () => {
  await tmp.cleanup();
});

const commands = {
  inspect: () => inspectDir(dir, { codec: "json" }),
  stat: () => statDir(dir, { codec: "json" }),
  dump: async () => {
    for await (const _ of dumpRecords(dir, { codec: "json" })) {
      // Drained: the listings are what is counted.
    }
  },
};

it("a command lists the directory at most 3 times in all, whether segments go before their stat or their read", async () => {
  for (const [name, run] of Object.entries(commands)) {
    // Undisturbed, one listing.
    seam.listings = 0;
    await run();
    expect(seam.listings, name).toBe(1);
    seam.listings = 0;
    seam.removed = [];
    seam.truncating = true;
    const error = await run().catch((e: unknown) => e);
    seam.truncating = false;
    expect(error, name).toMatchObject({
      code: "WAL_IO",
      details: { errno: "ENOENT" },
      message: expect.stringContaining("a listed segment was gone in 3 listings in a row"),
    });
    expect(seam.listings, name).toBe(3);
    // Gone before its stat in the first two listings, before its read in the third.
    expect(seam.removed, name).toHaveLength(3);
  }
});
