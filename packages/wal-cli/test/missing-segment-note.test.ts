/**
 * `stat` and `dump` over a log with segment ids missing in the middle and no checkpoint marker that covers them:
 * both judge it as `verify` does, lost segments, in the same words and with exit 2 (stat used to exit 0 with a note
 * that only pointed to verify). stat says it where it says damage (stat-segment-hole.test.ts has the covered case);
 * dump on stderr, its stdout, `--json` included, staying the rows (dump-segment-hole.test.ts).
 */

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, useJsonWal, writeJsonWal } from "./helpers.js";

const LOST =
  "segment 3 is missing between 0000000002.wal and 0000000004.wal, and no checkpoint marker after the hole covers it: the records it held are lost (lora-wal verify reports the same corruption)";

describe("stat and dump of a log with a segment missing in the middle", () => {
  let dir: string;
  useJsonWal("lora-wal-missing-segment-note", {}, (wal) => {
    ({ dir } = wal);
  });

  it("stat and dump both say the segments are lost, in the same words, and exit 2 as verify does", async () => {
    await writeJsonWal(dir, 40, 1024);
    await rm(join(dir, "0000000003.wal"));
    expect((await runCli(["verify", dir, "--codec", "json"])).code).toBe(2);

    const stat = await runCli(["stat", dir, "--codec", "json"]);
    expect(stat.code, stat.stderr).toBe(2);
    expect(stat.stdout).toMatch(/\ndamage {8}CORRUPTION in 0000000002\.wal at offset \d+: segment 3 is missing/);
    expect(stat.stdout).toContain(`: ${LOST}\n`);
    const statJson = await runCli(["stat", dir, "--codec", "json", "--json"]);
    expect(statJson.code).toBe(2);
    expect(JSON.parse(statJson.stdout).verdict.message).toBe(LOST);

    const dump = await runCli(["dump", dir, "--codec", "json"]);
    expect(dump.code, dump.stderr).toBe(2);
    expect(dump.stderr).toBe(`lora-wal: corruption: WAL_CORRUPT: ${LOST}\n`);
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
