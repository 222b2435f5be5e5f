/**
 * `stat` judges segment ids missing in the middle of a directory as `dump` and `verify` do, and reports the judgement
 * the way it reports the damage it meets reading records. A hole a checkpoint marker after it covers (a truncation a
 * crash interrupted) is no damage: exit 0, and a note naming the checkpoint and the fence a reader needs, in dump's
 * words. A hole nothing covers is lost segments: corruption on the `damage` line and in `verdict` (`WAL_CORRUPT`),
 * exit 2, as a CRC mismatch mid-log gives. It used to exit 0 either way, with a note that only pointed to `verify`.
 */

import { open, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyDir } from "../src/commands/verify.js";
import { runCli, segmentFiles, useJsonWal, writeCheckpointedLog, writeJsonWal } from "./helpers.js";
import { expectOneKeySet, shape } from "./json-keys.js";

/** The `damage` or `note` line of stat's text, label padded as stat pads it. */
function line(label: string, text: string): string {
  return `\n${label.padEnd(14)}${text}\n`;
}

describe("stat of a log with segment ids missing in the middle", () => {
  let dir: string;
  useJsonWal("lora-wal-stat-hole", {}, (wal) => {
    ({ dir } = wal);
  });

  it("below a checkpoint that covers them: exit 0 and dump's note naming the checkpoint and the fence", async () => {
    const snapshot = await writeCheckpointedLog(dir);
    const names = await segmentFiles(dir);
    for (const name of names.slice(1, 3)) await rm(join(dir, name));
    const baseLsn = (await verifyDir(dir, { codec: "json" })).replay?.truncationGap?.baseLsn as number;

    const stat = await runCli(["stat", dir, "--codec", "json"]);
    expect(stat.code, stat.stderr).toBe(0);
    expect(stat.stdout).toContain(line("damage", "clean (records only; verify also checks structure)"));
    const note = `segments 2..3 missing below the checkpoint at LSN ${snapshot} (a truncation a crash interrupted; the next truncation removes the rest): the records counted before 0000000004.wal lie below that checkpoint, and a reader opens the log with a checkpointLsn of at least ${baseLsn - 1} (lora-wal verify names the lowest that works)`;
    expect(stat.stdout).toContain(line("note", note));
    expect(stat.stdout).not.toContain("run lora-wal verify: it tells");
    // dump says the same of the same hole, its rows in place of the counts.
    const dump = await runCli(["dump", dir, "--codec", "json"]);
    expect(dump.stderr).toBe(`lora-wal: note: ${note.replace("the records counted before", "the rows before")}\n`);

    // The log is clean, and the JSON report names the hole as the note does.
    const json = await runCli(["stat", dir, "--codec", "json", "--json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.verdict).toMatchObject({ status: "clean", exitCode: 0, code: null });
    expect(report.segmentIdHoles).toEqual({
      status: "covered",
      missing: "segments 2..3",
      checkpointLsn: snapshot,
      message: note,
    });
  });

  it("with no checkpoint that covers them: corruption (WAL_CORRUPT), exit 2, as a CRC mismatch mid-log", async () => {
    await writeJsonWal(dir, 40, 1024);
    const clean = await runCli(["stat", dir, "--codec", "json", "--json"]);
    await rm(join(dir, "0000000003.wal"));
    const verify = JSON.parse((await runCli(["verify", dir, "--codec", "json", "--json"])).stdout).verdict;
    expect(verify).toMatchObject({ status: "corruption", exitCode: 2, code: "WAL_CORRUPT" });
    const dump = await runCli(["dump", dir, "--codec", "json"]);
    const lost = dump.stderr.replace(/^lora-wal: corruption: WAL_CORRUPT: /, "").trimEnd();
    expect(lost).toMatch(/^segment 3 is missing between 0000000002\.wal and 0000000004\.wal, and no checkpoint/);

    const stat = await runCli(["stat", dir, "--codec", "json"]);
    expect(stat.code, stat.stderr).toBe(2);
    // dump's words, where stat puts the damage it meets; the next step is the one any corruption gets.
    expect(stat.stdout).toContain(
      line("damage", `CORRUPTION in ${verify.segment} at offset ${verify.offset}: ${lost}`),
    );
    expect(stat.stdout).toMatch(/\nnext {10}Wal\.open refuses it in its default recovery modes: /);
    expect(stat.stdout).not.toContain("note");

    const json = await runCli(["stat", dir, "--codec", "json", "--json"]);
    expect(json.code).toBe(2);
    const report = JSON.parse(json.stdout);
    expect(report.verdict).toMatchObject({
      status: "corruption",
      exitCode: 2,
      segment: verify.segment,
      offset: verify.offset,
      code: "WAL_CORRUPT",
      message: lost,
      next: verify.next,
    });
    expect(report.verdict.segmentPath).toBe(join(dir, verify.segment));
    expect(report.segmentIdHoles).toEqual({ status: "lost", missing: "segment 3", checkpointLsn: null, message: lost });
    expect(JSON.parse(clean.stdout).segmentIdHoles).toBeNull();
    expectOneKeySet("stat", [
      ["clean", shape(JSON.parse(clean.stdout))],
      ["lost segments", shape(report)],
    ]);
  });

  it("lost segments outrank a torn tail after them, as in dump", async () => {
    await writeJsonWal(dir, 40, 1024);
    await rm(join(dir, "0000000003.wal"));
    const names = await segmentFiles(dir);
    const newest = join(dir, names.at(-1) as string);
    await truncate(newest, 200);
    expect((await runCli(["dump", dir, "--codec", "json"])).code).toBe(2);
    const stat = await runCli(["stat", dir, "--codec", "json", "--json"]);
    expect(stat.code).toBe(2);
    expect(JSON.parse(stat.stdout).verdict).toMatchObject({ status: "corruption", code: "WAL_CORRUPT" });
  });

  it("damage that exits 2 outranks them, as in dump: the verdict, with the lost segments still said in a note", async () => {
    await writeJsonWal(dir, 40, 1024);
    await rm(join(dir, "0000000003.wal"));
    const fh = await open(join(dir, "0000000004.wal"), "r+");
    await fh.write(Buffer.from("XXXX"), 0, 4, 0);
    await fh.close();
    const stat = await runCli(["stat", dir, "--codec", "json"]);
    expect(stat.code).toBe(2);
    expect(stat.stdout).toContain(`${"damage".padEnd(14)}BAD HEADER in 0000000004.wal at offset 0: `);
    expect(stat.stdout).toContain(
      line(
        "note",
        "segment 3 is missing between 0000000002.wal and 0000000004.wal, and no checkpoint marker after the hole covers it: the records it held are lost (lora-wal verify reports the same corruption)",
      ),
    );
    const json = JSON.parse((await runCli(["stat", dir, "--codec", "json", "--json"])).stdout);
    expect(json.verdict).toMatchObject({ status: "bad-header", code: "WAL_BAD_HEADER" });
    // The damage that outranks them does not hide them from the JSON report: it says them as the text's note does.
    expect(json.segmentIdHoles).toMatchObject({ status: "lost", missing: "segment 3", checkpointLsn: null });
    expect(stat.stdout).toContain(line("note", json.segmentIdHoles.message));
  });
});
