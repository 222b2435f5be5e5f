/**
 * `stat` reads records, not structure: over a log with segment ids missing in the middle it exits 0, as it did, and
 * names the hole in its text (its JSON has no place for notes), pointing to `verify`, which judges it (a truncation a
 * crash interrupted, below a checkpoint, or lost segments). `dump` judges it as verify does (dump-segment-hole.test.ts):
 * here, with no checkpoint, corruption on stderr and exit 2; its stdout, `--json` included, stays the rows.
 */

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, useJsonWal, writeJsonWal } from "./helpers.js";

const NOTE =
  "segment 3 is missing between 0000000002.wal and 0000000004.wal: the records they held are not in the log (run lora-wal verify: it tells a truncation a crash interrupted, below a checkpoint, from lost segments)";

describe("stat and dump of a log with a segment missing in the middle", () => {
  let dir: string;
  useJsonWal("lora-wal-missing-segment-note", {}, (wal) => {
    ({ dir } = wal);
  });

  it("stat names the hole and points to verify, exit status and JSON unchanged; dump says corruption", async () => {
    await writeJsonWal(dir, 40, 1024);
    await rm(join(dir, "0000000003.wal"));
    expect((await runCli(["verify", dir, "--codec", "json"])).code).toBe(2);

    const stat = await runCli(["stat", dir, "--codec", "json"]);
    expect(stat.code, stat.stderr).toBe(0);
    expect(stat.stdout).toContain(`\nnote          ${NOTE}\n`);
    const statJson = await runCli(["stat", dir, "--codec", "json", "--json"]);
    expect(statJson.stdout).not.toContain("is missing between");

    const dump = await runCli(["dump", dir, "--codec", "json"]);
    expect(dump.code, dump.stderr).toBe(2);
    expect(dump.stderr).toContain("corruption: WAL_CORRUPT: segment 3 is missing between");
    const dumpJson = await runCli(["dump", dir, "--codec", "json", "--json"]);
    expect(dumpJson.stderr).toBe(dump.stderr);
    for (const line of dumpJson.stdout.trimEnd().split("\n")) expect(JSON.parse(line)).toHaveProperty("lsn");
  });

  it("a whole log: no note", async () => {
    await writeJsonWal(dir, 40, 1024);
    expect((await runCli(["stat", dir, "--codec", "json"])).stdout).not.toContain("note");
    expect((await runCli(["dump", dir, "--codec", "json"])).stderr).toBe("");
  });
});
