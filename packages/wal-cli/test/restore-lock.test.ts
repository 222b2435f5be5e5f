/**
 * `lora-wal restore` takes the kernel directory lock a `Wal` (or LoraDB) takes, though it writes through its read-only
 * view of the file system: into a directory another process (or a `Wal` in this one) holds, it exits 4 naming
 * `WAL_LOCKED` and changes nothing; once the holder lets go it restores. (From a review: the view is not Node's file
 * system by name, so the lock restore took through it was a lock inside this process only, which no other process
 * sees.)
 */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir } from "@lora/test-utils";
import { fsArchive } from "@lora/wal-archive";
import { acquireDirLock, LOCK_FILE_NAME } from "@lora/wal-lock";
import { afterEach, beforeEach, expect, it } from "vitest";
import { archivedLog, openedTransactions } from "./archive-helpers.js";
import { fingerprint, runCli } from "./helpers.js";

const HOLDER = fileURLToPath(new URL("../../wal-lock/test/fixtures/flock-holder.mjs", import.meta.url));

let tmp: { path: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-restore-lock");
});
afterEach(async () => {
  await tmp.cleanup();
});

it("into a directory whose lock another process holds (as LoraDB takes it): exit 4, WAL_LOCKED, nothing changed", async () => {
  const archiveDir = join(tmp.path, "archive");
  const txs = await archivedLog(join(tmp.path, "wal"), fsArchive(archiveDir), 20);
  const dir = join(tmp.path, "restored");
  await mkdir(dir);
  const holder = spawn(process.execPath, [HOLDER, join(dir, LOCK_FILE_NAME)], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const [line] = (await once(holder.stdout, "data")) as [Buffer];
    expect(line.toString()).toContain("locked");
    const before = await fingerprint(dir);
    const run = await runCli(["restore", archiveDir, dir, "--quiet"]);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toContain("(WAL_LOCKED)");
    expect(await fingerprint(dir)).toBe(before);
  } finally {
    holder.kill("SIGKILL");
    await once(holder, "exit");
  }
  const run = await runCli(["restore", archiveDir, dir, "--quiet"]);
  expect(run.code, run.stderr).toBe(0);
  expect(await openedTransactions(dir)).toEqual(txs);
});

it("into a directory a lock in this process holds: exit 4, WAL_LOCKED, nothing changed", async () => {
  const archiveDir = join(tmp.path, "archive");
  await archivedLog(join(tmp.path, "wal"), fsArchive(archiveDir), 5);
  const dir = join(tmp.path, "restored");
  await mkdir(dir);
  const lock = await acquireDirLock(dir);
  try {
    const before = await fingerprint(dir);
    const run = await runCli(["restore", archiveDir, dir, "--quiet"]);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toContain("(WAL_LOCKED)");
    expect(await fingerprint(dir)).toBe(before);
  } finally {
    await lock.release();
  }
});
