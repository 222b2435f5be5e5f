/**
 * `dump` judges segment ids missing in the middle of a directory as `verify` and `Wal.open` do. Below a checkpoint
 * marker after them that covers them (a truncation a crash interrupted), verify calls the log clean: dump exits 0
 * and its note names the checkpoint and the fence a reader needs, where it used to say only "run lora-wal verify".
 * With no marker that covers them, verify exits 2 for corruption: so does dump now (it exited 0), after printing
 * the rows it read, with the corruption on stderr. Either way stdout stays the rows.
 */

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { verifyDir } from "../src/commands/verify.js";
import { runCli, segmentFiles, useJsonWal, writeCheckpointedLog, writeJsonWal } from "./helpers.js";

describe("dump of a log with segment ids missing in the middle", () => {
  let dir: string;
  useJsonWal("lora-wal-dump-hole", {}, (wal) => {
    ({ dir } = wal);
  });

  it("below a checkpoint that covers them: exit 0, a note naming the checkpoint, as verify calls it clean", async () => {
    const snapshot = await writeCheckpointedLog(dir);
    const names = await segmentFiles(dir);
    expect(names.length).toBeGreaterThan(8);
    // Segments 2 and 3 gone, segment 1 left: a deletion that had not reached the disk when the others did.
    for (const name of names.slice(1, 3)) await rm(join(dir, name));
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    const baseLsn = report.replay?.truncationGap?.baseLsn as number;

    const note = `lora-wal: note: segments 2..3 missing below the checkpoint at LSN ${snapshot} (a truncation a crash interrupted; the next truncation removes the rest): the rows before 0000000004.wal lie below that checkpoint, and a reader opens the log with a checkpointLsn of at least ${baseLsn - 1} (lora-wal verify names the lowest that works)\n`;
    for (const json of [false, true]) {
      const dump = await runCli(["dump", dir, "--codec", "json", ...(json ? ["--json"] : [])]);
      expect(dump.code, dump.stderr).toBe(0);
      expect(dump.stderr).toBe(note);
      if (json) for (const line of dump.stdout.trimEnd().split("\n")) expect(JSON.parse(line)).toHaveProperty("lsn");
    }
    // Framing only reads the markers just as well.
    const framing = await runCli(["dump", dir, "--codec", "framing"]);
    expect(framing.code).toBe(0);
    expect(framing.stderr).toBe(note);
  });

  it("with no checkpoint that covers them: exit 2 with the corruption on stderr, as verify; the rows still printed", async () => {
    await writeJsonWal(dir, 40, 1024);
    await rm(join(dir, "0000000003.wal"));
    expect((await runCli(["verify", dir, "--codec", "json"])).code).toBe(2);

    const dump = await runCli(["dump", dir, "--codec", "json", "--json"]);
    expect(dump.code).toBe(2);
    expect(dump.stderr).toBe(
      "lora-wal: corruption: WAL_CORRUPT: segment 3 is missing between 0000000002.wal and 0000000004.wal, and no checkpoint marker after the hole covers it: the records it held are lost (lora-wal verify reports the same corruption)\n",
    );
    const rows = dump.stdout.trimEnd().split("\n");
    // Every record of the segments that are there: 40 transactions of 3 records, less the ones segment 3 held.
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(120);
    for (const line of rows) expect(JSON.parse(line)).toHaveProperty("lsn");
  });

  it("a marker after the hole whose snapshot lies below it covers nothing: exit 2", async () => {
    const { wal } = await Wal.open(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    for (let i = 0; i < 10; i++) await wal.commitTx([{ i }]);
    const early = wal.safeCheckpointLsn();
    for (let i = 10; i < 80; i++) await wal.commitTx([{ i }]);
    // A snapshot taken early, marked late: the marker sits after the hole but covers only what precedes segment 2.
    await wal.checkpointMarker(early);
    await wal.close();
    const names = await segmentFiles(dir);
    for (const name of names.slice(3, 5)) await rm(join(dir, name));
    expect((await runCli(["verify", dir, "--codec", "json"])).code).toBe(2);
    const dump = await runCli(["dump", dir, "--codec", "json"]);
    expect(dump.code).toBe(2);
    expect(dump.stderr).toMatch(/^lora-wal: corruption: WAL_CORRUPT: segments 4\.\.5 are missing between /);
  });
});
