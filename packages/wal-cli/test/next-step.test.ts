/**
 * Verdicts of damage `Wal.open` refuses (corruption, a bad header, malformed structure) say what to do next: a
 * `next` line under the verdict of `verify`, `inspect` and `stat`, and `verdict.next` in `--json` (`null` for the
 * others). They gave the damage and no next step; the words are the ones `Wal.open` adds to its own refusal.
 */

import { cp, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec, type WalRecord } from "@lora/wal-codec";
import { POINT_IN_TIME_REMEDY, RESTORE_REMEDY } from "@lora/wal-replay";
import { createNodeFileSystem, SegmentWriter } from "@lora/wal-segment";
import { describe, expect, it } from "vitest";
import { runCli, segmentFiles, useJsonWal } from "./helpers.js";

async function flipByte(path: string, offset: number): Promise<void> {
  const fh = await open(path, "r+");
  try {
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, offset);
    byte[0] = (byte[0] as number) ^ 0x10;
    await fh.write(byte, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

/** The `next` line of `command`'s text, and `verdict.next` of its JSON. */
async function nextOf(command: string, dir: string): Promise<{ text: string | undefined; json: string | null }> {
  const text = await runCli([command, dir, "--codec", "json"]);
  const json = await runCli([command, dir, "--codec", "json", "--json"]);
  expect(json.code, json.stderr).toBe(text.code);
  const line = text.stdout.split("\n").find((l) => l.startsWith("next "));
  return { text: line?.replace(/^next +/, ""), json: JSON.parse(json.stdout).verdict.next };
}

describe("the next step under a verdict", () => {
  let dir: string;
  let tmp: string;
  useJsonWal("lora-wal-next-step", { transactions: 5 }, (wal) => {
    dir = wal.dir;
    tmp = wal.tmp.path;
  });

  it("for corruption: a point-in-time open (keeping the .broken files) or a restore, in Wal.open's own words", async () => {
    const corrupt = join(tmp, "corrupt");
    await cp(dir, corrupt, { recursive: true });
    const [first] = await segmentFiles(corrupt);
    await flipByte(join(corrupt, first as string), 80);
    for (const command of ["verify", "inspect", "stat"]) {
      const next = await nextOf(command, corrupt);
      expect(next.text, command).toBe(next.json);
      expect(next.json, command).toContain(POINT_IN_TIME_REMEDY);
      expect(next.json, command).toContain("keep those files");
      expect(next.json, command).toContain(RESTORE_REMEDY);
    }
    // The library refuses the same log with the same advice.
    await expect(Wal.open(corrupt, { codec: jsonCodec })).rejects.toThrow(POINT_IN_TIME_REMEDY);
  });

  it("for a bad header: move the file out if it is no segment, else restore", async () => {
    const bad = join(tmp, "bad-header");
    await cp(dir, bad, { recursive: true });
    const [first] = await segmentFiles(bad);
    const fh = await open(join(bad, first as string), "r+");
    await fh.write(Buffer.from("XXXX"), 0, 4, 0);
    await fh.close();
    for (const command of ["verify", "inspect", "stat"]) {
      const next = await nextOf(command, bad);
      expect(next.text, command).toBe(next.json);
      expect(next.json, command).toBe(
        `Wal.open refuses it in every recovery mode: if ${first} is no segment of this log, move it out of the directory; if it is, ${RESTORE_REMEDY}`,
      );
    }
  });

  it("for malformed structure: restore; for a clean log: none", async () => {
    const malformed = join(tmp, "malformed");
    await mkdir(malformed);
    const w = await SegmentWriter.create(createNodeFileSystem(), join(malformed, "0000000001.wal"), 1);
    const records: WalRecord<JsonValue>[] = [
      { kind: "txBegin", lsn: 1 },
      { kind: "txCommit", lsn: 2, txBeginLsn: 7 },
    ];
    for (const r of records) w.append(r, jsonCodec);
    await w.flush();
    await w.close();
    const next = await nextOf("verify", malformed);
    expect(next.json).toBe(`Wal.open refuses it in every recovery mode: ${RESTORE_REMEDY}`);
    expect(next.text).toBe(next.json);
    for (const command of ["verify", "inspect", "stat"]) {
      expect(await nextOf(command, dir), command).toEqual({ text: undefined, json: null });
    }
  });
});
