/**
 * `lora-wal archive ls|verify` and `lora-wal restore` as real processes, on archives the real archiver built from
 * real logs: a log written with `Wal.open` on 1 KiB segments, `startArchiver` with a flush after every commit (so
 * sealed segments are uploaded whole and the active one as several pieces). Restores are opened with `Wal.open` and
 * compared with the original's transactions; damage is made by hand in the archive directory.
 */

import { mkdir, readdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { fsArchive } from "@lora/wal-archive";
import { SEGMENT_HEADER_BYTES } from "@lora/wal-segment";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { formatBytes } from "../src/format/text-table.js";
import type { ArchiveCheckReport, ArchiveListing, RestoreSummary } from "../src/index.js";
import { archivedLog, openedTransactions, segmentFacts, type Tx } from "./archive-helpers.js";
import { bundleCli, runCliProcess } from "./cli-process.js";
import { fingerprint, runCli, segmentFiles } from "./helpers.js";

let bin: string;
beforeAll(async () => {
  bin = await bundleCli();
});

describe("lora-wal archive and restore", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let logDir: string;
  let archiveDir: string;
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-archive");
    logDir = join(tmp.path, "wal");
    archiveDir = join(tmp.path, "archive");
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  async function listing(): Promise<ArchiveListing> {
    const ls = await runCliProcess(bin, ["archive", "ls", archiveDir, "--json"]);
    expect(ls.code, ls.stderr).toBe(0);
    return JSON.parse(ls.stdout) as ArchiveListing;
  }

  it("archive ls lists every segment from the keys: sealed objects, the newest's pieces, byte ranges, LSNs", async () => {
    const txs = await archivedLog(logDir, fsArchive(archiveDir), 40);
    const original = await segmentFacts(logDir);
    expect(original.length).toBeGreaterThan(3);

    const report = await listing();
    expect(report.archive).toBe(`fs:${archiveDir}`);
    expect(report.segments.map((s) => [s.name, s.baseLsn])).toEqual(original.map((s) => [s.name, s.baseLsn]));
    const newest = report.segments.at(-1) as ArchiveListing["segments"][number];
    const older = report.segments.slice(0, -1);
    for (const [i, segment] of older.entries()) {
      const facts = original[i] as (typeof original)[number];
      expect(segment).toMatchObject({
        source: "sealed",
        byteRange: { from: 0, to: facts.size },
        bytes: facts.size,
        lsnRange: { from: facts.baseLsn, to: (original[i + 1] as (typeof original)[number]).baseLsn - 1 },
        pieces: [],
      });
      expect(segment.sealed).toHaveLength(1);
      expect(segment.sealed[0]?.key).toMatch(new RegExp(`^segments/${segment.name.slice(0, 10)}-`));
    }
    // The newest was active: its pieces chain from the header to the end of the last commit.
    expect(newest.source).toBe("pieces");
    expect(newest.sealed).toEqual([]);
    expect(newest.pieces.length).toBeGreaterThan(1);
    expect(newest.pieces[0]?.from).toBe(0);
    for (let i = 1; i < newest.pieces.length; i++) expect(newest.pieces[i]?.from).toBe(newest.pieces[i - 1]?.to);
    expect(newest.byteRange).toEqual({ from: 0, to: (original.at(-1) as (typeof original)[number]).size });
    expect(newest.lsnRange).toEqual({ from: (original.at(-1) as (typeof original)[number]).baseLsn, to: null });
    expect(report.totals).toEqual({
      segments: original.length,
      objects: original.length - 1 + newest.pieces.length,
      sealed: original.length - 1,
      pieces: newest.pieces.length,
      bytes: original.reduce((n, s) => n + s.size, 0),
      absent: [],
      absentCount: 0,
    });
    expect((txs.at(-1) as Tx).commitLsn).toBeGreaterThan(newest.baseLsn);

    const text = await runCliProcess(bin, ["archive", "ls", archiveDir]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe("");
    const lines = text.stdout.split("\n");
    expect(lines[0]).toBe(`archive    fs:${archiveDir}`);
    expect(lines[1]).toBe(
      `segments   ${original.length} (ids 1..${original.length}), ${report.totals.objects} objects (${original.length - 1} sealed, ${newest.pieces.length} pieces), ${formatBytes(report.totals.bytes)} (${report.totals.bytes} bytes)`,
    );
    expect(lines[2]).toBe("LSNs       from 1 (the oldest segment's base LSN)");
    expect(lines[4]).toMatch(/^SEGMENT +BASE LSN +OBJECTS +BYTES +SIZE +LSN RANGE$/);
    const [first, second] = original as [(typeof original)[number], (typeof original)[number]];
    expect(lines[5]).toMatch(
      new RegExp(`^${first.name} +1 +sealed +0\\.\\.${first.size} +${first.size} +1\\.\\.${second.baseLsn - 1}$`),
    );
    expect(lines.at(-2)).toMatch(
      new RegExp(
        `^${newest.name} +${newest.baseLsn} +${newest.pieces.length} pieces +0\\.\\.${newest.byteRange.to} +${newest.byteRange.to} +${newest.baseLsn}\\.\\.$`,
      ),
    );
  });

  it("archive verify: clean, then a flipped byte is exit 9 naming the object, a deleted segment exit 8", async () => {
    const txs = await archivedLog(logDir, fsArchive(archiveDir), 40);
    const segments = (await listing()).segments;
    const clean = await runCliProcess(bin, ["archive", "verify", archiveDir, "--json"]);
    expect(clean.code, clean.stderr).toBe(0);
    const report = JSON.parse(clean.stdout) as ArchiveCheckReport;
    expect(report).toEqual({
      archive: `fs:${archiveDir}`,
      status: "clean",
      exitCode: 0,
      segments: segments.length,
      pieces: segments.at(-1)?.pieces.length,
      bytes: segments.reduce((n, s) => n + s.byteRange.to, 0),
      firstLsn: 1,
      lastLsn: (txs.at(-1) as Tx).commitLsn,
      problems: [],
    });
    const text = await runCliProcess(bin, ["archive", "verify", archiveDir]);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe("");
    expect(text.stdout).toContain(`\nrecords    LSN 1..${(txs.at(-1) as Tx).commitLsn}\n`);
    expect(text.stdout).toMatch(/\nresult {5}clean: a restore to the newest LSN succeeds\n$/);

    // One byte of a middle segment's sealed object, inside its records.
    const damaged = ((segments[2] as (typeof segments)[number]).sealed[0] as { key: string }).key;
    const path = join(archiveDir, damaged);
    const bytes = await readFile(path);
    bytes[SEGMENT_HEADER_BYTES + 20] = (bytes[SEGMENT_HEADER_BYTES + 20] as number) ^ 0x40;
    await writeFile(path, bytes);
    const corrupt = await runCliProcess(bin, ["archive", "verify", archiveDir, "--json"]);
    expect(corrupt.code, corrupt.stderr).toBe(9);
    const corruptReport = JSON.parse(corrupt.stdout) as ArchiveCheckReport;
    expect(corruptReport).toMatchObject({ status: "corrupt", exitCode: 9, segments: segments.length - 1 });
    expect(corruptReport.problems.map((p) => [p.key, p.code])).toEqual([[damaged, "WAL_ARCHIVE_CORRUPT"]]);
    expect(corruptReport.problems[0]?.message).toContain("fails its CRC-32");
    const corruptText = await runCliProcess(bin, ["archive", "verify", archiveDir]);
    expect(corruptText.code).toBe(9);
    expect(corruptText.stdout).toContain(
      `\nproblems   1\n  ${damaged}\n    WAL_ARCHIVE_CORRUPT: ${damaged} fails its CRC-32`,
    );
    expect(corruptText.stdout).toMatch(/\nresult {5}CORRUPT: 1 object corrupt; a restore refuses this archive\n$/);

    // Restore refuses it too (with the same code), and removes the directory it made: the file system is as it was.
    const restoredDir = join(tmp.path, "restored");
    const refused = await runCliProcess(bin, ["restore", archiveDir, restoredDir]);
    expect(refused.code).toBe(9);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(`${damaged} fails its CRC-32`);
    expect(refused.stderr).toContain("(WAL_ARCHIVE_CORRUPT)");
    expect(await readdir(restoredDir).catch((e: { code?: string }) => e.code)).toBe("ENOENT");

    // Undo the flip, then remove another middle segment's object: a hole in the log.
    bytes[SEGMENT_HEADER_BYTES + 20] = (bytes[SEGMENT_HEADER_BYTES + 20] as number) ^ 0x40;
    await writeFile(path, bytes);
    expect((await runCliProcess(bin, ["archive", "verify", archiveDir])).code).toBe(0);
    const gone = segments[1] as (typeof segments)[number];
    await unlink(join(archiveDir, (gone.sealed[0] as { key: string }).key));
    const missing = await runCliProcess(bin, ["archive", "verify", archiveDir, "--json"]);
    expect(missing.code, missing.stderr).toBe(8);
    const missingReport = JSON.parse(missing.stdout) as ArchiveCheckReport;
    expect(missingReport).toMatchObject({ status: "missing", exitCode: 8, segments: segments.length - 1 });
    expect(missingReport.problems.map((p) => [p.key, p.code])).toEqual([
      [`segments/${gone.name.slice(0, 10)}-*`, "WAL_ARCHIVE_MISSING"],
    ]);
    const missingText = await runCliProcess(bin, ["archive", "verify", archiveDir]);
    expect(missingText.code).toBe(8);
    expect(missingText.stdout).toMatch(/\nresult {5}MISSING: 1 missing; a restore refuses this archive\n$/);
    // ls shows the hole without judging it.
    const ls = await runCliProcess(bin, ["archive", "ls", archiveDir]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain(`\nabsent     id ${gone.id}: no object at all (lora-wal archive verify)\n`);
    expect((await listing()).totals).toMatchObject({ absent: [{ from: gone.id, to: gone.id }], absentCount: 1 });

    const hole = await runCliProcess(bin, ["restore", archiveDir, join(tmp.path, "restored-2")]);
    expect(hole.code).toBe(8);
    expect(hole.stderr).toContain(`segment ${gone.id} is missing from the archive`);
    expect(await stat(join(tmp.path, "restored-2")).catch(() => null)).toBeNull();
  });

  it("restore rebuilds the log: to the newest LSN, and --to-lsn gives exactly the transactions committed at or below it", async () => {
    const txs = await archivedLog(logDir, fsArchive(archiveDir), 40);
    const last = (txs.at(-1) as Tx).commitLsn;
    const archiveBefore = await fingerprint(archiveDir);

    const whole = join(tmp.path, "whole");
    const run = await runCliProcess(bin, ["restore", archiveDir, whole]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    const original = await segmentFacts(logDir);
    const objects = (await listing()).totals.objects;
    const bytes = original.reduce((n, s) => n + s.size, 0);
    expect(run.stdout).toBe(
      [
        `restored   ${whole} from fs:${archiveDir}`,
        `segments   ${original.length}, ${formatBytes(bytes)} (${bytes} bytes), from ${objects} objects`,
        `records    LSN 1..${last}`,
        "",
      ].join("\n"),
    );
    expect(await segmentFacts(whole)).toEqual(original);
    expect(await openedTransactions(whole)).toEqual(txs);

    // Cuts inside a transaction (begin, batch, commit) and on a commit, in different segments.
    for (const toLsn of [4, 32, 48, last - 1]) {
      const dir = join(tmp.path, `to-${toLsn}`);
      const cut = await runCliProcess(bin, ["restore", archiveDir, dir, "--to-lsn", String(toLsn), "--json"]);
      expect(cut.code, cut.stderr).toBe(0);
      expect(cut.stderr).toBe("");
      const summary = JSON.parse(cut.stdout) as RestoreSummary;
      const kept = txs.filter((t) => t.commitLsn <= toLsn);
      expect(summary).toMatchObject({ archive: `fs:${archiveDir}`, dir, toLsn, fromLsn: null, firstLsn: 1 });
      expect(summary.lastLsn).toBe(toLsn);
      expect(summary.successor).toBeNull();
      expect(await openedTransactions(dir), `--to-lsn ${toLsn}`).toEqual(kept);
    }

    // From a snapshot's fence (a commit LSN): the transactions after it, opened with checkpointLsn.
    const fence = (txs[20] as Tx).commitLsn;
    const fenced = join(tmp.path, "fenced");
    const from = await runCliProcess(bin, ["restore", archiveDir, fenced, "--from-lsn", String(fence)]);
    expect(from.code, from.stderr).toBe(0);
    expect(from.stdout).toContain(
      `\nfence      ${fence}: load the snapshot taken there, then open the log with checkpointLsn ${fence} (lora-wal verify <dir> --checkpoint-lsn ${fence} checks it)\n`,
    );
    // What the restore says to run says clean (without the fence, the late start is malformed).
    const verified = await runCliProcess(bin, ["verify", fenced, "--checkpoint-lsn", String(fence)]);
    expect(verified.code, verified.stdout).toBe(0);
    expect((await segmentFiles(fenced))[0]).not.toBe("0000000001.wal");
    expect(await openedTransactions(fenced, fence)).toEqual(txs.filter((t) => t.commitLsn > fence));

    // The archive was only read.
    expect(await fingerprint(archiveDir)).toBe(archiveBefore);
  });

  it("restore writes nothing but the new directory, and refuses a directory that is not empty", async () => {
    await archivedLog(logDir, fsArchive(archiveDir), 12);
    const target = join(tmp.path, "target");
    const outside = async () =>
      (await fingerprint(tmp.path))
        .split("\n")
        .filter((line) => !line.startsWith("./target") && !line.startsWith("./ mtime="))
        .join("\n");
    const before = await outside();
    const ok = await runCliProcess(bin, ["restore", archiveDir, target, "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await outside()).toBe(before);
    // The segments, and the lock file of the lock restore held (left, as Wal.open leaves it).
    const names = await readdir(target);
    expect(names.filter((name) => name !== ".lora-wal.lock").every((name) => /^\d{10}\.wal$/.test(name))).toBe(true);
    expect(names).toContain(".lora-wal.lock");

    // Not empty (the log just restored), or a file: refused before anything is read or written, as usage errors.
    const file = join(tmp.path, "a-file");
    await writeFile(file, "x");
    const full = await fingerprint(tmp.path);
    const again = await runCliProcess(bin, ["restore", archiveDir, target]);
    expect(again.code).toBe(3);
    expect(again.stdout).toBe("");
    expect(again.stderr).toContain(`${target} is not empty`);
    expect(again.stderr).toContain("Run 'lora-wal restore --help' for usage.");
    const onFile = await runCliProcess(bin, ["restore", archiveDir, file]);
    expect(onFile.code).toBe(3);
    expect(onFile.stderr).toContain(`${file} exists and is not a directory`);
    expect(await fingerprint(tmp.path)).toBe(full);
  });

  it("ls and verify write nothing; errors: no archive (4), an empty one, a bad command line (3)", async () => {
    await archivedLog(logDir, fsArchive(archiveDir), 12);
    const before = await fingerprint(tmp.path);
    for (const argv of [
      ["archive", "ls", archiveDir],
      ["archive", "ls", archiveDir, "--json"],
      ["archive", "verify", archiveDir],
      ["archive", "verify", archiveDir, "--json"],
    ]) {
      const result = await runCli(argv);
      expect(result.code, argv.join(" ")).toBe(0);
      // Not a terminal: no progress bar, nothing on stderr.
      expect(result.stderr).toBe("");
      expect(await fingerprint(tmp.path)).toBe(before);
    }

    const empty = join(tmp.path, "empty");
    await mkdir(empty);
    expect(await runCli(["archive", "ls", empty])).toEqual({
      code: 0,
      stdout: `archive    fs:${empty}\nsegments   none (nothing archived here yet)\n`,
      stderr: "",
    });
    const emptyVerify = await runCli(["archive", "verify", empty]);
    expect(emptyVerify.code).toBe(8);
    expect(emptyVerify.stdout).toContain("holds no log segments");
    expect((await runCli(["restore", empty, join(tmp.path, "r")])).code).toBe(8);
    // The log named where its archive was meant: the same answers, and a note that says so (not for the empty dir).
    const note = `note       ${logDir} holds a write-ahead log, not its archive (read a log with lora-wal inspect or verify)\n`;
    expect(await runCli(["archive", "ls", logDir])).toEqual({
      code: 0,
      stdout: `archive    fs:${logDir}\nsegments   none (nothing archived here yet)\n${note}`,
      stderr: "",
    });
    const logVerify = await runCli(["archive", "verify", logDir]);
    expect(logVerify.code).toBe(8);
    expect(logVerify.stdout).toContain("holds no log segments");
    expect(logVerify.stdout.endsWith(note)).toBe(true);
    expect(emptyVerify.stdout).not.toContain("note");
    expect(JSON.parse((await runCli(["archive", "ls", logDir, "--json"])).stdout).segments).toEqual([]);

    const nowhere = join(tmp.path, "nowhere");
    const cases: [string[], number, string][] = [
      [["archive", "ls", nowhere], 4, `no such archive directory: ${nowhere}`],
      [["archive", "verify", join(logDir, "0000000001.wal")], 4, "not a directory"],
      [["restore", nowhere, join(tmp.path, "r2")], 4, `no such archive directory: ${nowhere}`],
      [["restore", archiveDir, join(nowhere, "deeper")], 4, `its parent directory ${nowhere} does not exist`],
      [
        ["restore", archiveDir, join(logDir, "0000000001.wal", "r")],
        4,
        `cannot create ${join(logDir, "0000000001.wal", "r")}: ${join(logDir, "0000000001.wal")} is not a directory`,
      ],
      [["archive"], 3, "missing action: ls or verify"],
      [["archive", "cat", archiveDir], 3, 'unknown archive action "cat" (expected ls or verify)'],
      [["archive", "ls"], 3, "missing <target>"],
      [["archive", "ls", archiveDir, "x"], 3, "unexpected argument: x"],
      [["archive", "ls", "gs://bucket/x"], 3, 'unsupported archive target "gs://bucket/x"'],
      [["archive", "ls", "s3://"], 3, 'no bucket in "s3://"'],
      [["archive", "ls", archiveDir, "--endpoint", "http://x"], 3, "--endpoint and --path-style go with an s3://"],
      [["archive", "ls", archiveDir, "--path-style"], 3, "--endpoint and --path-style go with an s3://"],
      [
        ["archive", "ls", "s3://b/p", "--endpoint", "localhost:9000"],
        3,
        "--endpoint must be an http:// or https:// URL",
      ],
      [["archive", "verify", "s3://b//p", "--endpoint", "http://127.0.0.1:9"], 3, 'invalid archive target "s3://b//p"'],
      [["restore"], 3, "missing <target>"],
      [["restore", archiveDir], 3, "missing <dir>"],
      [["restore", archiveDir, "a", "b"], 3, "unexpected argument: b"],
      [["restore", archiveDir, "a", "--to-lsn", "x"], 3, "--to-lsn must be a non-negative integer"],
      [["restore", archiveDir, "a", "--to-lsn", "3", "--from-lsn", "9"], 3, "--to-lsn 3 is below --from-lsn 9"],
    ];
    for (const [argv, code, message] of cases) {
      const result = await runCli(argv, { env: {} });
      expect(result.code, argv.join(" ")).toBe(code);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe("");
    }
    const badEnv = await runCli(["archive", "ls", "s3://b"], { env: { AWS_ENDPOINT_URL: "nope" } });
    expect(badEnv.code).toBe(3);
    expect(badEnv.stderr).toContain('AWS_ENDPOINT_URL must be an http:// or https:// URL, got "nope"');
    // --to-lsn beyond the archive: nothing written.
    const beyond = await runCli(["restore", archiveDir, join(tmp.path, "r3"), "--to-lsn", "100000"]);
    expect(beyond.code).toBe(8);
    expect(beyond.stderr).toContain("cannot restore to lsn 100000");
    expect(await readdir(join(tmp.path, "r3")).catch((e: { code?: string }) => e.code)).toBe("ENOENT");
  });
});
