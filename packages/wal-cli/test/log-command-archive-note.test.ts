/**
 * An archive directory named where a log was meant: `inspect`, `verify` and `stat` find no segment in it and answer
 * as for an empty log directory (clean, exit 0: opening it would start a new log), so an operator who checked the
 * wrong path read "clean". They say, in text, that the directory holds an archive and what reads one, as
 * `archive ls` and `archive verify` say it of a log directory. The answer (exit status, JSON) stays the same.
 */

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fsArchive } from "@lora/wal-archive";
import { describe, expect, it } from "vitest";
import { archivedLog } from "./archive-helpers.js";
import { fingerprint, runCli, type TempDir, useJsonWal } from "./helpers.js";

describe("inspect, verify and stat of an archive directory", () => {
  let tmp: TempDir;
  let dir: string;
  useJsonWal("lora-wal-backup-dir", {}, (wal) => {
    ({ tmp, dir } = wal);
  });

  it("say that it holds an archive, and what reads one; exit status and JSON unchanged", async () => {
    const archive = join(tmp.path, "backup");
    await archivedLog(dir, fsArchive(archive), 4);
    const before = await fingerprint(archive);
    for (const command of ["inspect", "verify", "stat"]) {
      const text = await runCli([command, archive, "--codec", "json"]);
      expect(text.code, `${command}: ${text.stderr}`).toBe(0);
      expect(text.stdout, command).toContain(
        `note       ${archive} holds the archive of a log, not a log (read it with lora-wal archive ls or archive verify; lora-wal restore rebuilds a log from it)`,
      );
      // One note: not also the one for a directory with no segment files (check the path), which it is not.
      expect(text.stdout.match(/^note/gm), command).toHaveLength(1);
      const json = await runCli([command, archive, "--codec", "json", "--json"]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).verdict.status).toBe("clean");
    }
    expect(await fingerprint(archive)).toBe(before);
  });

  it("an empty directory, or one with other files, gets no archive note", async () => {
    const empty = join(tmp.path, "empty");
    await mkdir(join(empty, "segments"), { recursive: true });
    for (const command of ["inspect", "verify", "stat"]) {
      const text = await runCli([command, empty]);
      expect(text.code).toBe(0);
      // (inspect and verify note that it holds no segment files: that is not this note)
      expect(text.stdout).not.toContain("holds the archive");
    }
  });
});
