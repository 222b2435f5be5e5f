import { appendFile, mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { ByteWriter, encodeRecordInto, type JsonValue, jsonCodec } from "@lora/wal-codec";
import { DURABLE_MARK_FILE, encodeSegmentHeader } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { dumpRecords, inspectDir, statDir, verifyDir } from "../src/index.js";
import { runCli, segmentFiles, type TempDir, useJsonWal, writeJsonWal } from "./helpers.js";

async function flipByte(path: string, offset: number): Promise<void> {
  const file = await open(path, "r+");
  try {
    const b = Buffer.alloc(1);
    await file.read(b, 0, 1, offset);
    b[0] = (b[0] ?? 0) ^ 0xff;
    await file.write(b, 0, 1, offset);
  } finally {
    await file.close();
  }
}

describe("damaged logs", () => {
  let tmp: TempDir;
  let dir: string;
  useJsonWal("lora-wal-cli", {}, (wal) => {
    ({ tmp, dir } = wal);
  });

  it("a torn tail: verify exits 1 and names the segment and offset; the records before it still dump", async () => {
    await writeJsonWal(dir, 5);
    const [seg] = await segmentFiles(dir);
    const path = join(dir, seg as string);
    const size = (await readFile(path)).byteLength;
    await appendFile(path, Buffer.from([80, 0, 0, 0, 6, 16, 0]));
    const verify = await runCli(["verify", dir, "--codec", "json"]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`TORN TAIL in ${seg} at offset ${size}`);
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "torn-tail", segment: seg, offset: size });
    const inspect = await runCli(["inspect", dir, "--codec", "json"]);
    expect(inspect.code).toBe(1);
    expect(inspect.stdout).toContain(`torn tail at offset ${size} (7 bytes`);
    const dump = await runCli(["dump", dir, "--codec", "json", "--json"]);
    expect(dump.code).toBe(1);
    expect(dump.stdout.trim().split("\n")).toHaveLength(15);
    expect(dump.stderr).toContain(`torn-tail in ${seg} at offset ${size}`);
  });

  it("a killed writer's zero-filled active segment is clean: inspect says where the records end", async () => {
    const live = join(tmp.path, "live");
    const { wal } = await Wal.open<JsonValue>(live, { codec: jsonCodec });
    for (let i = 0; i < 5; i++) await wal.commitTx([{ i }]);
    // What a SIGKILL leaves: the files as they are while the handle is open, zeros past the records included.
    await mkdir(dir, { recursive: true });
    const [seg] = await segmentFiles(live);
    const bytes = await readFile(join(live, seg as string));
    await writeFile(join(dir, seg as string), bytes);
    await wal.close();
    const report = await inspectDir(dir, { codec: "json" });
    const end = report.segments[0]?.endOffset as number;
    expect(end).toBeLessThan(bytes.byteLength);
    expect(report.verdict.status).toBe("clean");
    const inspect = await runCli(["inspect", dir, "--codec", "json"]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain(`ok, zeros after ${end}`);
    expect((await runCli(["verify", dir, "--codec", "json"])).code).toBe(0);
  });

  it("appended garbage at the end of the newest segment is a torn tail", async () => {
    await writeJsonWal(dir, 5);
    const [seg] = await segmentFiles(dir);
    await appendFile(join(dir, seg as string), Buffer.from("this is not a record at all, just garbage bytes"));
    expect((await runCli(["verify", dir, "--codec", "json"])).code).toBe(1);
  });

  it("a flipped byte in an older segment is corruption: exit 2, first bad segment and offset; later segments still inspected", async () => {
    await writeJsonWal(dir, 40, 1024);
    const segments = await segmentFiles(dir);
    expect(segments.length).toBeGreaterThan(2);
    const first = segments[0] as string;
    // Offset 32 is the first record (a begin marker): damage its LSN byte.
    await flipByte(join(dir, first), 32 + 6);
    const verify = await runCli(["verify", dir, "--codec", "json"]);
    expect(verify.code).toBe(2);
    expect(verify.stdout).toContain(`CORRUPTION in ${first} at offset 32`);
    expect(verify.stdout).toContain("WAL_CRC_MISMATCH");
    const report = await inspectDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({
      status: "corruption",
      segment: first,
      offset: 32,
      code: "WAL_CRC_MISMATCH",
    });
    expect(report.segments[0]?.damage).toMatchObject({ kind: "corruption", offset: 32 });
    expect(report.segments.slice(1).every((s) => s.damage === null && s.records > 0)).toBe(true);
    const stat = await statDir(dir, { codec: "json" });
    expect(stat.verdict.exitCode).toBe(2);
  });

  it("damage before the unsynced window, followed by a valid record in the newest segment, is corruption", async () => {
    await writeJsonWal(dir, 5, 4 << 20);
    // More than the writer's 1 MiB unsynced window after the damage: those bytes had been fsynced.
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 4 << 20 });
    await wal.commitTx(["x".repeat(1_200_000)]);
    await wal.close();
    const [seg] = await segmentFiles(dir);
    await flipByte(join(dir, seg as string), 40);
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "corruption", exitCode: 2, offset: 32 });
  });

  it("the same damage within the unsynced window is a torn tail (a torn write may land its later sectors)", async () => {
    await writeJsonWal(dir, 5);
    // No durable mark says these bytes were fsynced (a writer that publishes none, as LoraDB's engine).
    await rm(join(dir, DURABLE_MARK_FILE));
    const [seg] = await segmentFiles(dir);
    await flipByte(join(dir, seg as string), 40);
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "torn-tail", exitCode: 1, offset: 32 });
  });

  it("within the window, damage below the record the durable mark binds to is corruption, as Wal.open finds it", async () => {
    await writeJsonWal(dir, 5);
    const [seg] = await segmentFiles(dir);
    await flipByte(join(dir, seg as string), 40);
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "corruption", exitCode: 2, offset: 32 });
    const inspected = await inspectDir(dir, { codec: "json" });
    expect(inspected.segments[0]?.damage).toMatchObject({ kind: "corruption", offset: 32 });
    await expect(Wal.open<JsonValue>(dir, { codec: jsonCodec })).rejects.toMatchObject({ code: "WAL_CORRUPT" });
  });

  it("a bad header in an older segment: exit 2, WAL_BAD_HEADER", async () => {
    await writeJsonWal(dir, 40, 1024);
    const segments = await segmentFiles(dir);
    await flipByte(join(dir, segments[1] as string), 0);
    const verify = await runCli(["verify", dir, "--codec", "json"]);
    expect(verify.code).toBe(2);
    expect(verify.stdout).toContain(`BAD HEADER in ${segments[1]} at offset 0`);
    const inspect = await runCli(["inspect", dir, "--codec", "json"]);
    expect(inspect.code).toBe(2);
    expect(inspect.stdout).toContain("BAD HEADER (WAL_BAD_HEADER)");
  });

  it("stat's verdict, from its own segment walk, names the record verify names, its LSN included", async () => {
    await writeJsonWal(dir, 3);
    const verified = await verifyDir(dir, { codec: "lora" });
    expect(verified.verdict).toMatchObject({ status: "codec-mismatch", lsn: 2 });
    expect((await statDir(dir, { codec: "lora" })).verdict).toEqual(verified.verdict);
  });

  it("malformed structure (a commit naming a missing begin): exit 2 with the record's offset", async () => {
    await mkdir(dir);
    const out = new ByteWriter();
    out.raw(encodeSegmentHeader({ baseLsn: 1, sealed: false }));
    encodeRecordInto({ kind: "txBegin", lsn: 1 }, jsonCodec, out);
    encodeRecordInto({ kind: "mutationBatch", lsn: 2, txBeginLsn: 1, events: ["a"] }, jsonCodec, out);
    const commitAt = out.length;
    encodeRecordInto({ kind: "txCommit", lsn: 3, txBeginLsn: 99 }, jsonCodec, out);
    await writeFile(join(dir, "0000000001.wal"), out.copy());
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "malformed", code: "WAL_MALFORMED", lsn: 3, offset: commitAt });
    const verify = await runCli(["verify", dir, "--codec", "json"]);
    expect(verify.code).toBe(2);
    expect(verify.stdout).toContain(`MALFORMED in 0000000001.wal at offset ${commitAt}`);
    // stat walks records, not structure: exit 0, and its clean line says that verify is the one that checks it
    const stat = await runCli(["stat", dir, "--codec", "json"]);
    expect(stat.code).toBe(0);
    expect(stat.stdout).toMatch(/damage +clean \(records only; verify also checks structure\)/);
  });

  it("the wrong codec is a codec mismatch (exit 5) with a hint, not corruption", async () => {
    await writeJsonWal(dir, 2);
    const verify = await runCli(["verify", dir, "--codec", "lora"]);
    expect(verify.code).toBe(5);
    expect(verify.stdout).toContain("CODEC MISMATCH in 0000000001.wal at offset 57");
    expect(verify.stdout).toContain('does not decode with codec "lora"');
    expect(verify.stdout).toContain("--codec json or --codec bytes");
  });

  it("a file that is not a segment: WAL_BAD_HEADER, exit 2", async () => {
    const garbage = join(tmp.path, "some-file.wal");
    await writeFile(garbage, Buffer.from("definitely not a lora wal segment header, just text"));
    for (const command of ["inspect", "verify", "dump", "stat"]) {
      const result = await runCli([command, garbage]);
      expect(result.code, command).toBe(2);
      expect(result.stdout + result.stderr, command).toMatch(/WAL_BAD_HEADER|BAD HEADER/);
    }
    const short = join(tmp.path, "short.wal");
    await writeFile(short, "x");
    const verify = await runCli(["verify", short]);
    expect(verify.code).toBe(2);
    expect(verify.stdout).toContain("not a WAL segment");
  });

  it("a missing directory: exit 4 with a clear message", async () => {
    for (const command of ["inspect", "verify", "dump", "stat"]) {
      const result = await runCli([command, join(tmp.path, "nope")]);
      expect(result.code, command).toBe(4);
      expect(result.stderr).toContain(`no such file or directory: ${join(tmp.path, "nope")}`);
    }
    await expect(verifyDir(join(tmp.path, "nope"))).rejects.toMatchObject({ code: "WAL_IO" });
  });

  it("an empty directory is a clean, empty log", async () => {
    await mkdir(dir);
    const result = await runCli(["inspect", dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("segments   0");
    const items = [];
    for await (const item of dumpRecords(dir)) items.push(item);
    expect(items).toEqual([]);
  });
});
