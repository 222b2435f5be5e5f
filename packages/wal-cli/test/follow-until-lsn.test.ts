/** `follow --until-lsn <lsn>` stops after the transaction whose commit LSN is `lsn` itself, not one later. */

import { describe, expect, it } from "vitest";
import { runCli, useJsonWal, writeJsonWal } from "./helpers.js";

describe("follow --until-lsn", () => {
  let dir: string;
  useJsonWal("lora-wal-follow-until", {}, (wal) => {
    dir = wal.dir;
  });

  it("stops at a commit LSN equal to it (the bound is inclusive)", async () => {
    // Transaction k commits at 3k + 3: 3, 6, 9, 12, 15, 18.
    await writeJsonWal(dir, 6);
    // --count only bounds the run should --until-lsn be passed over.
    const run = await runCli(["follow", dir, "--codec", "json", "--json", "--until-lsn", "9", "--count", "5"]);
    expect(run.code, run.stderr).toBe(0);
    const commits = run.stdout
      .trimEnd()
      .split("\n")
      .map((line) => (JSON.parse(line) as { commitLsn: number }).commitLsn);
    expect(commits).toEqual([3, 6, 9]);
  });
});
