/**
 * The in-process registry (a file system that is neither Node's nor self-locking) excludes two handles of one
 * directory however the directory is spelled: `d`, `d/`, `d//`, `./d`, `x/../d` and its absolute path are one
 * directory to any file system over Node's. Keyed by the string as given, each spelling got its own lock, and two
 * `Wal` handles wrote into one directory from one process.
 */

import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createNodeFileSystem, type WalFileSystem } from "@lora/wal-segment";
import { afterEach, beforeEach, expect, it } from "vitest";
import { lockDirectory, probeDirectoryLock } from "./handle-lock.js";

let base: string;
let dir: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "lora-wal-registry-spellings-"));
  dir = join(base, "d");
  await mkdir(join(base, "x"), { recursive: true });
  await mkdir(dir);
});
afterEach(() => rm(base, { recursive: true, force: true }));

/** Node's file system under another name: it has no lock of its own, so it takes the registry's. */
function plainFs(): WalFileSystem {
  return { ...createNodeFileSystem(), name: "plain" };
}

it("refuses every other spelling of a directory the registry holds, and frees them all at release", async () => {
  const fs = plainFs();
  const spellings = [
    `${dir}/`,
    `${dir}//`,
    join(base, ".", "d"),
    `${base}/x/../d`,
    relative(process.cwd(), dir),
    `./${relative(process.cwd(), dir)}`,
  ];
  const held = await lockDirectory(fs, dir);
  for (const spelling of spellings) {
    await expect(lockDirectory(fs, spelling), spelling).rejects.toMatchObject({ code: "WAL_LOCKED" });
    expect(await probeDirectoryLock(fs, spelling), spelling).toMatchObject({ code: "WAL_LOCKED" });
  }
  await held.release();
  for (const spelling of spellings) {
    expect(await probeDirectoryLock(fs, spelling), spelling).toBeNull();
    const again = await lockDirectory(fs, spelling);
    await expect(lockDirectory(fs, dir), spelling).rejects.toMatchObject({ code: "WAL_LOCKED" });
    await again.release();
  }
  // Another directory, and the same directory through another file system object, are other locks.
  const other = await lockDirectory(fs, join(base, "x"));
  const elsewhere = await lockDirectory(plainFs(), dir);
  await other.release();
  await elsewhere.release();
});
