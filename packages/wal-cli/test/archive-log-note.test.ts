/**
 * The note `archive ls` / `archive verify` add for a log directory named where its archive was meant is advice: the
 * probe behind it must never change what the commands (or `restore`, which opens its archive the same way) answer.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { fsArchive } from "@lora/wal-archive";
import { expect, it } from "vitest";
import { archivedLog } from "./archive-helpers.js";
import { runCli } from "./helpers.js";

it("a stray file with a segment-like name out of the safe-integer range at an archive's top changes no answer", async () => {
  const tmp = await makeTempDir("lora-wal-stray");
  try {
    const logDir = join(tmp.path, "wal");
    const archiveDir = join(tmp.path, "archive");
    await archivedLog(logDir, fsArchive(archiveDir), 6);
    // Not a key the archive reads (it lists segments/ and partial/), and not a segment a log would open either.
    const stray = "18446744073709551615.wal"; // u64 max: a segment id, but above 2^53
    await writeFile(join(archiveDir, stray), "not a segment");
    const ls = await runCli(["archive", "ls", archiveDir]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).not.toContain("write-ahead log");
    const verify = await runCli(["archive", "verify", archiveDir]);
    expect(verify.code, verify.stderr).toBe(0);
    const restored = await runCli(["restore", archiveDir, join(tmp.path, "restored")]);
    expect(restored.code, restored.stderr).toBe(0);

    // The same file in an empty directory: the empty answer, without the note (it holds no log) and no refusal.
    const empty = join(tmp.path, "empty");
    await mkdir(empty);
    await writeFile(join(empty, stray), "not a segment");
    expect(await runCli(["archive", "ls", empty])).toEqual({
      code: 0,
      stdout: `archive    fs:${empty}\nsegments   none (nothing archived here yet)\n`,
      stderr: "",
    });
  } finally {
    await tmp.cleanup();
  }
});
