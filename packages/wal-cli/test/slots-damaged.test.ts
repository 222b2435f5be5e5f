/**
 * `lora-wal slots <dir>` beside a damaged slot file: the healthy slots are still listed, the damaged one is flagged
 * with the file and what is wrong with it, and the exit status is 2 (damage found), as `inspect` and `verify` report
 * damage: the whole report on stdout, its verdict in the exit status. Nothing is written.
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import type { SlotReport } from "../src/index.js";
import { fingerprint, runCli, type TempDir, useJsonWal } from "./helpers.js";

describe("lora-wal slots with a damaged slot file", () => {
  let tmp: TempDir;
  let dir: string;
  useJsonWal("lora-wal-slots-damaged", { transactions: 3 }, (wal) => {
    ({ tmp, dir } = wal);
  });
  beforeEach(async () => {
    for (const name of ["a", "b", "c"]) expect((await runCli(["slots", dir, "create", name])).code).toBe(0);
    await writeFile(join(dir, "slots", "b.slot"), Buffer.alloc(10, 7)); // shorter than a slot file
  });

  it("lists the healthy slots, flags the damaged one and exits 2, writing nothing", async () => {
    const before = await fingerprint(tmp.path);
    const path = join(dir, "slots", "b.slot");

    const text = await runCli(["slots", dir]);
    expect(text.code, text.stderr).toBe(2);
    expect(text.stderr).toBe("");
    const lines = text.stdout.split("\n");
    expect(lines[2]).toBe("slots      3 (1 damaged)");
    expect(lines[4]).toMatch(/^NAME +CONFIRMED LSN +RESTART LSN +CREATED +STATUS +HOLDS BACK$/);
    expect(lines[5]).toMatch(/^a +0 +1 +\d{4}-.*Z +valid +.* segment\)$/);
    expect(lines[6]).toMatch(/^b +- +- +- +DAMAGED +-$/);
    expect(lines[7]).toMatch(/^c +0 +1 +\d{4}-.*Z +valid +.* segment\)$/);
    expect(lines[8]).toBe(
      `  b: damaged: replication slot file ${path} is corrupt: fewer than 28 bytes (WAL_CORRUPT); drop it (lora-wal slots ${dir} drop b) and create it again at its consumer's position (--at)`,
    );

    const json = await runCli(["slots", dir, "--json"]);
    expect(json.code, json.stderr).toBe(2);
    const report = JSON.parse(json.stdout) as SlotReport;
    expect(report.slots.map((s) => [s.name, s.status])).toEqual([
      ["a", "valid"],
      ["c", "valid"],
    ]);
    expect(report.damaged).toEqual([
      {
        name: "b",
        path,
        code: "WAL_CORRUPT",
        message: `replication slot file ${path} is corrupt: fewer than 28 bytes`,
      },
    ]);
    expect(await fingerprint(tmp.path)).toBe(before);
  });

  it("a listing with no damage reports none and exits 0", async () => {
    await runCli(["slots", dir, "drop", "b"]);
    const json = await runCli(["slots", dir, "--json"]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as SlotReport;
    expect(report.slots.map((s) => s.name)).toEqual(["a", "c"]);
    expect(report.damaged).toEqual([]);
  });
});
