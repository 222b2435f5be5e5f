/**
 * With `--json`, a command that fails rather than reporting (a bad command line, a path it cannot read, a lock held,
 * a slot missing, an archive incomplete) prints exactly one JSON document on stdout, `{ error: { code, message,
 * exitCode } }`, beside the same message on stderr and the same exit status as without `--json`. Before, stdout
 * was empty and a script parsing it had nothing to parse.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fsArchive } from "@lora/wal-archive";
import { acquireDirLock } from "@lora/wal-lock";
import { describe, expect, it } from "vitest";
import { archivedLog } from "./archive-helpers.js";
import { type CliRun, runCli, useJsonWal } from "./helpers.js";

/** The one document on stdout, checked against the run's exit code and stderr. */
function failure(run: CliRun, what: string): { code: string | null; message: string; exitCode: number } {
  const lines = run.stdout.split("\n").filter((l) => l !== "");
  expect(lines, `${what}: stdout ${JSON.stringify(run.stdout)}`).toHaveLength(1);
  const doc = JSON.parse(lines[0] as string) as { error: { code: string | null; message: string; exitCode: number } };
  expect(Object.keys(doc), what).toEqual(["error"]);
  expect(Object.keys(doc.error).sort(), what).toEqual(["code", "exitCode", "message"]);
  expect(doc.error.exitCode, what).toBe(run.code);
  // stderr keeps the human message.
  expect(run.stderr, what).toContain(doc.error.message);
  return doc.error;
}

describe("--json failures", () => {
  let dir: string;
  let tmp: string;
  useJsonWal("lora-wal-json-failures", { transactions: 3 }, (wal) => {
    dir = wal.dir;
    tmp = wal.tmp.path;
  });

  it("print one error document for every command's usage errors and unreadable paths", async () => {
    const missing = join(tmp, "missing");
    const file = join(tmp, "file");
    await writeFile(file, "not a log");
    const cases: [argv: string[], exit: number, code: string][] = [
      [["nosuch", "--json"], 3, "WAL_INVALID_ARGUMENT"],
      [["inspect", missing, "--json"], 4, "WAL_IO"],
      [["inspect", dir, "--json", "--bogus"], 3, "WAL_INVALID_ARGUMENT"],
      [["verify", missing, "--json"], 4, "WAL_IO"],
      [["verify", dir, "--json", "--codec", "xml"], 3, "WAL_INVALID_ARGUMENT"],
      [["verify", dir, "--json", "--codec-module", join(tmp, "none.mjs")], 3, "WAL_INVALID_ARGUMENT"],
      [["stat", missing, "--json"], 4, "WAL_IO"],
      [["stat", "--json"], 3, "WAL_INVALID_ARGUMENT"],
      [["dump", missing, "--json"], 4, "WAL_IO"],
      [["dump", dir, "--json", "--limit", "0"], 3, "WAL_INVALID_ARGUMENT"],
      [["dump", dir, "--json", "--codec", "json", "--tx", "2"], 3, "WAL_INVALID_ARGUMENT"],
      [["follow", missing, "--json"], 4, "WAL_IO"],
      [["follow", file, "--json"], 4, "WAL_IO"],
      [["follow", dir, "--json", "--codec", "json", "--slot", "nope"], 7, "WAL_SLOT_NOT_FOUND"],
      [["slots", missing, "--json"], 4, "WAL_IO"],
      [["slots", file, "--json"], 4, "WAL_IO"],
      [["slots", dir, "drop", "nope", "--json"], 7, "WAL_SLOT_NOT_FOUND"],
      [["archive", "ls", missing, "--json"], 4, "WAL_IO"],
      [["archive", "verify", missing, "--json"], 4, "WAL_IO"],
      [["archive", "nosuch", missing, "--json"], 3, "WAL_INVALID_ARGUMENT"],
      [["restore", missing, join(tmp, "restored"), "--json"], 4, "WAL_IO"],
      [["restore", "--json"], 3, "WAL_INVALID_ARGUMENT"],
    ];
    for (const [argv, exit, code] of cases) {
      const what = argv.join(" ");
      const run = await runCli(argv);
      expect(run.code, `${what}: ${run.stderr}`).toBe(exit);
      expect(failure(run, what).code, what).toBe(code);
      // Without --json, stdout stays empty: the document is --json's only.
      const plain = await runCli(argv.filter((a) => a !== "--json"));
      expect(plain.code, what).toBe(exit);
      expect(plain.stdout, what).toBe("");
    }
  });

  it("print one error document for a restore into a locked directory and from an incomplete archive", async () => {
    const archiveDir = join(tmp, "archive");
    await archivedLog(join(tmp, "archived"), fsArchive(archiveDir), 3);
    const locked = join(tmp, "locked");
    await mkdir(locked);
    const lock = await acquireDirLock(locked);
    try {
      const run = await runCli(["restore", archiveDir, locked, "--json", "--quiet"]);
      expect(run.code, run.stderr).toBe(4);
      expect(failure(run, "restore into a locked directory").code).toBe("WAL_LOCKED");
    } finally {
      await lock.release();
    }
    const empty = join(tmp, "empty-archive");
    await mkdir(empty);
    const run = await runCli(["restore", empty, join(tmp, "restored"), "--json"]);
    expect(run.code, run.stderr).toBe(8);
    expect(failure(run, "restore from an empty archive").code).toBe("WAL_ARCHIVE_MISSING");
  });

  it("leaves `--json` after `--` to the positionals: a path named --json is no request for JSON", async () => {
    const run = await runCli(["verify", "--", "--json"]);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe("");
  });
});
