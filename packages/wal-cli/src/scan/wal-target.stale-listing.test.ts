/**
 * Beside a live writer that rotates and checkpoints, the oldest segments a listing names can be gone by the time
 * their sizes are read, and the segment holding the checkpoint marker that removed them can be newer than the
 * listing. The names left were no listing the directory ever had: `inspect` and `verify` used to judge the oldest
 * one left without that marker and report a healthy log as malformed (exit 2, `WAL_FENCE_TOO_LOW`: "no checkpoint
 * marker covers the records before it"), about once in 200 runs beside such a writer. The directory is now listed
 * again, so every command judges one listing.
 *
 * The writer's step runs at the exact moment through the read-only seam's base file system: the first stat of a
 * segment file (after the readdir) first lets the writer rotate and checkpoint.
 */

import { unlink } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { runCli, segmentFiles } from "../../test/helpers.js";
import { resetScanHooks, scanHooks } from "../../test/scan-seam.js";
import { dumpRecords } from "../commands/dump.js";
import { inspectDir } from "../commands/inspect.js";
import { statDir } from "../commands/stat.js";
import { verifyDir } from "../commands/verify.js";

/** Run once, before the first stat of a segment file after a readdir. */
const seam = vi.hoisted(() => ({
  beforeSegmentStat: undefined as undefined | ((path: string) => Promise<void>),
  listed: false,
}));

vi.mock("./read-only-fs.js", async (importOriginal) =>
  (await import("../../test/scan-seam.js")).withHookedBase(await importOriginal()),
);

let tmp: { path: string; cleanup(): Promise<void> };
let dir: string;
let wal: Wal<JsonValue>;
let k = 0;
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-cli-stale-listing");
  dir = join(tmp.path, "wal");
  // A live writer with small segments and no checkpoint yet: the log starts at LSN 1.
  ({ wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 512 }));
  while (wal.activeSegmentId() < 5) await wal.commitTx([{ k: k++, pad: "x".repeat(40) }]);
  seam.beforeSegmentStat = undefined;
  seam.listed = false;
  resetScanHooks();
  scanHooks.afterReaddir = () => {
    seam.listed = true;
  };
  scanHooks.beforeStat = async (path) => {
    const step = seam.beforeSegmentStat;
    if (step === undefined || !seam.listed || !path.endsWith(".wal")) return;
    seam.beforeSegmentStat = undefined;
    seam.listed = false;
    await step(path);
  };
});
afterEach(async () => {
  resetScanHooks();
  await wal.close();
  await tmp.cleanup();
});

/**
 * The writer's step between the CLI's readdir and its stats: commit into a new segment (the listing does not name
 * it), then checkpoint there, which removes every segment but the last two.
 */
function rotateAndCheckpointAfterReaddir(): { listed: string[] } {
  const seen = { listed: [] as string[] };
  seam.beforeSegmentStat = async () => {
    seen.listed = await segmentFiles(dir);
    const active = wal.activeSegmentId();
    while (wal.activeSegmentId() === active) await wal.commitTx([{ k: k++, pad: "x".repeat(40) }]);
    const info = await wal.checkpoint(wal.safeCheckpointLsn());
    expect(info.removedSegments).toBeGreaterThan(0);
  };
  return seen;
}

it("inspect, verify and stat judge a new listing when the writer truncated and rotated after the readdir", async () => {
  const commands = {
    inspect: () => inspectDir(dir, { codec: "json" }),
    verify: () => verifyDir(dir, { codec: "json" }),
    stat: () => statDir(dir, { codec: "json" }),
  };
  for (const [name, run] of Object.entries(commands)) {
    const seen = rotateAndCheckpointAfterReaddir();
    const report = await run();
    expect(seam.beforeSegmentStat, name).toBeUndefined();
    // The writer's new segment, holding the marker, was not in the first listing.
    const now = await segmentFiles(dir);
    expect(seen.listed, name).not.toContain(now.at(-1));
    expect(report.verdict, name).toMatchObject({ exitCode: 0 });
    // The report is the new listing's, exactly as a run on the directory as it is now gives it.
    expect(report, name).toEqual(await run());
  }
  for (const command of ["inspect", "verify", "stat", "dump"]) {
    rotateAndCheckpointAfterReaddir();
    const run = await runCli([command, dir, "--codec", "json"]);
    expect(run.code, `${command}: ${run.stdout}${run.stderr}`).toBe(0);
    expect(seam.beforeSegmentStat, command).toBeUndefined();
  }
});

it("dump reads the segments of the new listing", async () => {
  rotateAndCheckpointAfterReaddir();
  const rows: { segment: string; lsn: number }[] = [];
  for await (const item of dumpRecords(dir, { codec: "json" })) {
    if (item.type === "damage") throw new Error(`damage reported: ${JSON.stringify(item)}`);
    rows.push({ segment: item.segment, lsn: item.lsn });
  }
  // From the oldest segment left to the checkpoint marker, in the segment the first listing did not name.
  const now = await segmentFiles(dir);
  expect(rows[0]?.segment).toBe(now[0]);
  expect(rows.at(-1)).toEqual({ segment: now.at(-1), lsn: wal.durableLsn() });
});

it("a segment gone before its stat in 3 listings in a row is exit 4 (WAL_IO, ENOENT), as a read in 3 listings is", async () => {
  const removed: string[] = [];
  const removeAtStat = async (path: string) => {
    removed.push(path);
    await unlink(path);
    if (removed.length < 3) seam.beforeSegmentStat = removeAtStat;
  };
  seam.beforeSegmentStat = removeAtStat;
  const error = await verifyDir(dir, { codec: "json" }).catch((e: unknown) => e);
  expect(error).toMatchObject({
    code: "WAL_IO",
    details: { path: removed[2], errno: "ENOENT" },
    message: expect.stringContaining("a listed segment was gone in 3 listings in a row"),
  });
  // The oldest segment of each listing, one listing after another.
  expect(removed.map((p) => p.slice(dir.length + 1))).toEqual(["0000000001.wal", "0000000002.wal", "0000000003.wal"]);
});
