/**
 * Beside a live writer, the segments after a hole in the segment ids can be truncated away while `dump` or `stat`
 * reads them for the marker that covers the hole. That is no lost segment: `stat` starts again from a new listing
 * (the hole gone with the truncation) and `dump`, whose rows are out, reports the I/O it met (exit 4). Both used to
 * swallow the read's failure, take the hole for lost segments and exit 2 with `WAL_CORRUPT`.
 *
 * The truncation lands at the exact moment through the read-only seam's base file system: the first open of the
 * segment after the hole once the walk has opened the newest segment (the look for the marker comes after the walk)
 * removes the oldest segments up to it, as a checkpoint's truncation does.
 */

import { rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { runCli, segmentFiles } from "./helpers.js";
import { checkpointedLog, resetScanHooks, scanHooks } from "./scan-seam.js";

vi.mock("../src/scan/read-only-fs.js", async (importOriginal) =>
  (await import("./scan-seam.js")).withHookedBase(await importOriginal()),
);

let tmp: { path: string; cleanup(): Promise<void> };
let dir: string;
/** The segments removed by the truncation the hook made, by name. */
let truncated: string[];

beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-cli-hole-look-truncated");
  dir = join(tmp.path, "wal");
  await checkpointedLog(dir, 24); // the marker at the last commit covers every segment but the newest
  const names = await segmentFiles(dir);
  expect(names.length).toBeGreaterThanOrEqual(5);
  // The hole: segment 2 gone, segment 1 left (a truncation a crash interrupted).
  await rm(join(dir, names[1] as string));
  const afterHole = join(dir, names[2] as string);
  const newest = join(dir, names.at(-1) as string);
  truncated = [];
  let walkedToNewest = false;
  resetScanHooks();
  scanHooks.beforeOpen = async (path) => {
    if (path === newest) walkedToNewest = true;
    if (path !== afterHole || !walkedToNewest || truncated.length > 0) return;
    // A live writer's checkpoint truncates the oldest segments, up to the one after the hole.
    for (const name of [names[0], names[2]] as string[]) {
      await unlink(join(dir, name));
      truncated.push(name);
    }
  };
});
afterEach(async () => {
  resetScanHooks();
  await tmp.cleanup();
});

it("stat starts again from a new listing: clean, no hole, never corruption", async () => {
  const run = await runCli(["stat", dir, "--codec", "json", "--json"]);
  expect(truncated).toHaveLength(2);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const report = JSON.parse(run.stdout) as { verdict: { status: string }; segments: { count: number } };
  expect(report.verdict.status).toBe("clean");
});

it("dump, its rows out, reports the segment removed meanwhile as I/O (exit 4), never corruption", async () => {
  const run = await runCli(["dump", dir, "--codec", "json", "--json"]);
  expect(truncated).toHaveLength(2);
  expect(run.code).toBe(4);
  expect(run.stderr).toContain("was removed after it was listed");
  expect(run.stderr).not.toContain("WAL_CORRUPT");
});
