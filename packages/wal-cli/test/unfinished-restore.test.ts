/**
 * A log directory holding only the `*.restoring` files of a restore that stopped before renaming any segment into
 * place: `verify`, `inspect`, `stat` and `dump` exit 2 saying the restore did not finish (they reported a clean,
 * empty log before) and change nothing; `lora-wal restore` into it finishes it.
 */

import { readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { fsArchive } from "@lora/wal-archive";
import { afterEach, beforeEach, expect, it } from "vitest";
import { archivedLog, openedTransactions } from "./archive-helpers.js";
import { fingerprint, runCli } from "./helpers.js";

let tmp: { path: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-unfinished-restore");
});
afterEach(async () => {
  await tmp.cleanup();
});

it("the log commands refuse it with exit 2 and change nothing; restoring again finishes it", async () => {
  const archiveDir = join(tmp.path, "archive");
  const txs = await archivedLog(join(tmp.path, "wal"), fsArchive(archiveDir), 30);
  const dir = join(tmp.path, "restored");
  expect((await runCli(["restore", archiveDir, dir, "--quiet"])).code).toBe(0);
  // The segments (the lock file restore leaves beside them is no segment and stays as it is).
  const names = (await readdir(dir)).filter((name) => name.endsWith(".wal"));
  expect(names.length).toBeGreaterThan(2);
  for (const name of names) await rename(join(dir, name), join(dir, `${name}.restoring`));
  const before = await fingerprint(dir);

  for (const command of ["verify", "inspect", "stat", "dump"]) {
    const run = await runCli([command, dir]);
    expect(run.code, command).toBe(2);
    expect(run.stderr, command).toContain("a restore into this directory did not finish");
    expect(run.stderr, command).toContain("run the restore again into this directory to finish it");
    expect(run.stderr, command).toContain("(WAL_MALFORMED)");
    expect(await fingerprint(dir), command).toBe(before);
  }

  expect((await runCli(["restore", archiveDir, dir, "--quiet"])).code).toBe(0);
  expect((await readdir(dir)).sort()).toEqual([...names, ".lora-wal.lock"].sort());
  expect(await openedTransactions(dir)).toEqual(txs);
  expect((await runCli(["verify", dir])).code).toBe(0);
});
