/**
 * `lora-wal restore` when the restored log is in place and only the release of `<dir>`'s lock fails: `restore` resolves
 * with the failure as `lockReleaseFailure`, and the command shows it, in the summary and as `lockReleaseFailure` in
 * `--json` (`null` when the lock released), and exits 0: the log is restored, and running the restore again would be
 * refused as not empty. (From a review: the command printed the summary of a clean restore, and the failure reached
 * the user only as the process warning Node prints, if it printed it.) The release is made to fail in-process, by
 * wrapping `lockDirectory`; a release cannot be made to fail from outside a spawned process.
 */

import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { fsArchive } from "@lora/wal-archive";
import { WalError } from "@lora/wal-codec";
import type { HeldLock } from "@lora/wal-lock";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { archivedLog, openedTransactions } from "./archive-helpers.js";
import { runCli } from "./helpers.js";

/** Whether a lock taken now fails its release: only restore's (the archived log and the checks open `Wal`s). */
const release = vi.hoisted(() => ({ fails: false }));

vi.mock("@lora/wal-lock", async (importOriginal) => {
  const original = await importOriginal<typeof import("@lora/wal-lock")>();
  return {
    ...original,
    lockDirectory: async (...args: Parameters<typeof original.lockDirectory>): Promise<HeldLock> => {
      const held = await original.lockDirectory(...args);
      if (!release.fails) return held;
      return {
        createdFile: held.createdFile,
        check: () => held.check(),
        onLost: (listener) => held.onLost(listener),
        release: async () => {
          await held.release();
          throw new WalError("WAL_IO", "cannot close the WAL lock file: EIO: i/o error, close");
        },
      };
    },
  };
});

let tmp: { path: string; cleanup(): Promise<void> };
beforeEach(async () => {
  tmp = await makeTempDir("lora-wal-restore-release-fails");
  release.fails = false;
  // restore also emits the failure as a process warning: kept out of the test's output.
  vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await tmp.cleanup();
});

async function archived(): Promise<{ archiveDir: string; dir: string; txs: Awaited<ReturnType<typeof archivedLog>> }> {
  const archiveDir = join(tmp.path, "archive");
  const txs = await archivedLog(join(tmp.path, "wal"), fsArchive(archiveDir), 8);
  return { archiveDir, dir: join(tmp.path, "restored"), txs };
}

it("shows the release's failure in the summary and exits 0: the log is restored", async () => {
  const { archiveDir, dir, txs } = await archived();
  release.fails = true;
  const run = await runCli(["restore", archiveDir, dir, "--quiet"]);
  release.fails = false;
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^restored {3}/m);
  expect(run.stdout).toMatch(/^lock {7}the log in .* is restored .*do not restore again.*EIO: i\/o error, close/m);
  expect(run.stdout).toContain("do not restore again");
  expect(await openedTransactions(dir)).toEqual(txs);
});

it("--json carries it as lockReleaseFailure: { code, message }, and null when the lock released", async () => {
  const { archiveDir, dir, txs } = await archived();
  release.fails = true;
  const run = await runCli(["restore", archiveDir, dir, "--json"]);
  release.fails = false;
  expect(run.code, run.stderr).toBe(0);
  const summary = JSON.parse(run.stdout) as Record<string, unknown>;
  expect(summary.lockReleaseFailure).toEqual({
    code: "WAL_IO",
    message: expect.stringMatching(/is restored .*EIO: i\/o error, close/),
  });
  expect(await openedTransactions(dir)).toEqual(txs);

  const clean = await runCli(["restore", archiveDir, join(tmp.path, "again"), "--json"]);
  expect(clean.code, clean.stderr).toBe(0);
  expect(JSON.parse(clean.stdout)).toMatchObject({ lockReleaseFailure: null });
  expect(clean.stdout).not.toContain("releasing");
});
