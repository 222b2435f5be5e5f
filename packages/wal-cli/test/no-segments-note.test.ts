/**
 * `verify` and `inspect` of a directory without segment files: clean (Wal.open would start a new log there), but with
 * a note, as such a path is more often one level off (the application's data directory, its log in a subdirectory)
 * than a log nobody has written yet. The verdict, the exit status and the JSON report stay what they were.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { expect, it } from "vitest";
import { runCli, writeJsonWal } from "./helpers.js";

it("a directory whose log is in a subdirectory: clean, exit 0, and a note that names no segment files", async () => {
  const tmp = await makeTempDir("lora-wal-no-segments");
  try {
    const app = join(tmp.path, "app");
    await writeJsonWal(join(app, "wal"), 2);
    await writeFile(join(app, "snapshot.json"), "{}");
    for (const command of ["verify", "inspect"]) {
      const run = await runCli([command, app]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(
        /^note +no segment files \(\*\.wal\) here: .*check the path \(is it in a subdirectory\?\)$/m,
      );
      expect(run.stdout).toMatch(/clean/);
      const json = await runCli([command, app, "--json"]);
      expect(json.code).toBe(0);
      expect(json.stdout).not.toContain("no segment files");
    }
    // A log is no such case, and a segment file named on its own is not a directory.
    for (const target of [join(app, "wal"), join(app, "wal", "0000000001.wal")]) {
      const run = await runCli(["verify", target, "--codec", "json"]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).not.toContain("note");
    }
    const empty = join(tmp.path, "empty");
    await mkdir(empty);
    expect((await runCli(["inspect", empty])).stdout).toContain("no segment files");
  } finally {
    await tmp.cleanup();
  }
});
