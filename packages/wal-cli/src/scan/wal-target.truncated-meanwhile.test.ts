/**
 * Beside a live writer that checkpoints and truncates, a segment the scan listed can be gone by the time it is
 * read. `inspect`, `verify`, `stat` (and `dump`, while it has printed nothing) then start again from a new
 * listing, at most 3 listings, so their report describes one listing; they used to fail with `WAL_IO` (exit 4)
 * in about half the runs beside such a writer. A name that stays listed but cannot be opened (a dangling symlink)
 * is still exit 4, never taken for truncation.
 *
 * The deletion is made at the exact moment through the read-only seam's base file system (`interceptOpen`): the
 * first open of a segment file removes it for real before the open runs, as a truncation landing between the
 * listing and the read would.
 */

import { cp, rename, rm, symlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { runCli, segmentFiles } from "../../test/helpers.js";
import { checkpointedLog, resetScanHooks, scanHooks } from "../../test/scan-seam.js";
import { inspectDir } from "../commands/inspect.js";
import { statDir } from "../commands/stat.js";
import { verifyDir } from "../commands/verify.js";
import type { CodecUse } from "../read-options.js";

/** What the next opens of segment files do: remove the file first (`remove` of them), or run a hook. */
const seam = vi.hoisted(() => ({
  remove: 0,
  removed: [] as string[],
  onSegmentOpen: undefined as undefined | ((path: string) => Promise<void>),
}));

vi.mock("./read-only-fs.js", async (importOriginal) =>
  (await import("../../test/scan-seam.js")).withHookedBase(await importOriginal()),
);

let tmp: { path: string; cleanup(): Promise<void> };
let dir: string;
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-cli-truncated-meanwhile");
  dir = join(tmp.path, "wal");
  await checkpointedLog(dir, 24); // the last commit, and the marker, at LSN 72
  expect((await segmentFiles(dir)).length).toBeGreaterThanOrEqual(5);
  seam.remove = 0;
  seam.removed = [];
  seam.onSegmentOpen = undefined;
  resetScanHooks();
  scanHooks.beforeOpen = async (path) => {
    if (!path.endsWith(".wal")) return;
    await seam.onSegmentOpen?.(path);
    if (seam.remove > 0) {
      seam.remove--;
      seam.removed.push(path);
      await unlink(path);
    }
  };
});
afterEach(async () => {
  resetScanHooks();
  await tmp.cleanup();
});

const commands = {
  inspect: (options: object) => inspectDir(dir, { codec: "json", ...options }),
  verify: (options: object) => verifyDir(dir, { codec: "json", ...options }),
  stat: (options: object) => statDir(dir, { codec: "json", ...options }),
};

it("inspect, verify and stat start again from a new listing when the oldest segment is truncated meanwhile", async () => {
  for (const [name, run] of Object.entries(commands)) {
    const oldest = (await segmentFiles(dir))[0] as string;
    const totals: number[] = [];
    const codecs: CodecUse[] = [];
    seam.remove = 1;
    const report = await run({ onTotal: (n: number) => totals.push(n), onCodec: (u: CodecUse) => codecs.push(u) });
    expect(
      seam.removed.map((p) => p.slice(dir.length + 1)),
      name,
    ).toEqual([oldest]);
    // The report is the new listing's, exactly as a run on the directory as it is now gives it.
    expect(report, name).toEqual(await run({}));
    expect(report.verdict.exitCode, name).toBe(0);
    expect(JSON.stringify(report), name).not.toContain(oldest);
    // The progress started again with the new listing; the codec was told once.
    expect(totals, name).toHaveLength(2);
    expect((totals[1] as number) < (totals[0] as number), name).toBe(true);
    expect(codecs, name).toHaveLength(1);
    seam.removed = [];
  }
  for (const command of ["inspect", "verify", "stat"]) {
    seam.remove = 1;
    const run = await runCli([command, dir, "--codec", "json"]);
    expect(run.code, `${command}: ${run.stderr}`).toBe(0);
    expect(seam.removed, command).toHaveLength(1);
    seam.removed = [];
  }
});

it("dump starts again while it has printed nothing, and never prints a row twice", async () => {
  const oldest = (await segmentFiles(dir))[0] as string;
  seam.remove = 1;
  const run = await runCli(["dump", dir, "--codec", "json", "--json"]);
  expect(run.code, run.stderr).toBe(0);
  expect(seam.removed.map((p) => p.slice(dir.length + 1))).toEqual([oldest]);
  expect(run.stdout).toBe((await runCli(["dump", dir, "--codec", "json", "--json"])).stdout);
  expect(run.stdout).not.toContain(oldest);
});

it("dump does not start again once it has printed rows: exit 4, each row printed once, and the hint", async () => {
  const third = join(dir, (await segmentFiles(dir))[2] as string);
  let opens = 0;
  seam.onSegmentOpen = async (path) => {
    if (path === third && opens++ === 0) await unlink(third);
  };
  const run = await runCli(["dump", dir, "--codec", "json", "--json"]);
  expect(run.code).toBe(4);
  expect(run.stderr).toContain("was removed after it was listed");
  expect(run.stderr).toContain("cannot take them back");
  const lsns = run.stdout
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { lsn: number }).lsn);
  expect(lsns.length).toBeGreaterThan(0);
  expect(new Set(lsns).size).toBe(lsns.length);
  expect(opens).toBe(1);
});

it("three listings in a row with a segment gone are exit 4 (WAL_IO, ENOENT), as before", async () => {
  const copy = join(tmp.path, "copy");
  await cp(dir, copy, { recursive: true });
  const first = (await segmentFiles(dir)).slice(0, 3);
  seam.remove = 3;
  await expect(inspectDir(dir, { codec: "json" })).rejects.toMatchObject({
    code: "WAL_IO",
    details: { errno: "ENOENT" },
    message: expect.stringContaining("was removed after it was listed"),
  });
  // One segment removed per listing: three listings, then it gave up.
  expect(seam.removed.map((p) => p.slice(dir.length + 1))).toEqual(first);
  for (const command of ["verify", "stat", "dump"]) {
    await rm(dir, { recursive: true });
    await cp(copy, dir, { recursive: true });
    seam.remove = 3;
    seam.removed = [];
    const run = await runCli([command, dir, "--codec", "json"]);
    expect(run.code, command).toBe(4);
    expect(run.stderr, command).toContain("3 listings in a row");
    expect(seam.removed, command).toHaveLength(3);
  }
});

it("a listed segment that turns into a dangling symlink before it is read is exit 4, never read again", async () => {
  // The oldest segment is a link to a file elsewhere, which goes away after the listing.
  const name = (await segmentFiles(dir))[0] as string;
  const moved = join(tmp.path, name);
  await rename(join(dir, name), moved);
  await symlink(moved, join(dir, name));
  for (const command of ["inspect", "verify", "stat", "dump"]) {
    let opens = 0;
    seam.onSegmentOpen = async (path) => {
      if (path !== join(dir, name)) return;
      if (opens++ === 0) await rename(moved, `${moved}.away`);
    };
    const run = await runCli([command, dir, "--codec", "json"]);
    expect(run.code, command).toBe(4);
    expect(run.stderr, command).toContain(`${join(dir, name)} is listed but cannot be reached`);
    expect(opens, command).toBe(1);
    await rename(`${moved}.away`, moved);
  }
});
