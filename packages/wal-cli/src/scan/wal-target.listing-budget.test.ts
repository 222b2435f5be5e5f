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
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { segmentFiles } from "../../test/helpers.js";
import { checkpointedLog, resetScanHooks, scanHooks } from "../../test/scan-seam.js";
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

vi.mock("./read-only-fs.js", async (importOriginal) =>
  (await import("../../test/scan-seam.js")).withHookedBase(await importOriginal()),
);

let tmp: { path: string; cleanup(): Promise<void> };
let dir: string;
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-cli-listing-budget");
  dir = join(tmp.path, "wal");
  await checkpointedLog(dir, 60);
  // More segments than 9 truncations remove.
  expect((await segmentFiles(dir)).length).toBeGreaterThan(10);
  seam.listings = 0;
  seam.truncating = false;
  seam.pending = undefined;
  seam.removed = [];
  resetScanHooks();
  // After each listing, the first stat or the first open of a segment file (as the listing set it) removes it.
  const removeAt = async (at: "stat" | "open", path: string) => {
    if (seam.pending !== at || !path.endsWith(".wal")) return;
    seam.pending = undefined;
    seam.removed.push(path);
    await unlink(path);
  };
  scanHooks.beforeStat = (path) => removeAt("stat", path);
  scanHooks.beforeOpen = (path) => removeAt("open", path);
});
afterEach(async () => {
  resetScanHooks();
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
