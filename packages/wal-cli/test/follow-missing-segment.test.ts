/**
 * `follow` over a log with segment ids missing in the middle (the oldest segment still there). Truncation removes
 * the oldest segments first, so the oldest segment's base LSN is no place to resume from: it holds the records
 * before the hole, and a follow from there meets the hole again. What `follow` names is the LSN the log goes on at,
 * after the hole, and the hole itself: whether a checkpoint marker covers it (a truncation a crash interrupted) or
 * not (segments lost).
 */

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { inspectDir } from "../src/commands/inspect.js";
import { runCli, segmentFiles, useJsonWal } from "./helpers.js";

describe("follow over a log with a segment missing in the middle", () => {
  let dir: string;
  useJsonWal("lora-wal-follow-hole", {}, (wal) => {
    ({ dir } = wal);
  });

  /** 60 transactions on 1 KiB segments, a checkpoint marker before transaction `markerAt` when given. */
  async function writeLog(markerAt?: number): Promise<void> {
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    for (let i = 0; i < 60; i++) {
      if (i === markerAt) await wal.checkpointMarker(wal.safeCheckpointLsn());
      await wal.commitTx([{ i, pad: "x".repeat(20) }]);
    }
    await wal.close();
  }

  /** Remove the segments of ids `ids`; the base LSN and last LSN of the log's segments, by id, before. */
  async function removeSegments(ids: number[]): Promise<{ base: Map<number, number>; last: number }> {
    const report = await inspectDir(dir, { codec: "json" });
    const base = new Map(report.segments.map((s) => [s.id as number, s.baseLsn as number]));
    for (const name of await segmentFiles(dir)) if (ids.includes(Number.parseInt(name, 10))) await rm(join(dir, name));
    return { base, last: report.replay?.maxLsn as number };
  }

  /** Follow from the start up to the last commit (a follow that read across the hole would stop there). */
  async function followAll(last: number): Promise<{ code: number; stdout: string; stderr: string }> {
    return await runCli(["follow", dir, "--codec", "json", "--json", "--written", "--until-lsn", String(last)]);
  }

  it("a lost segment: exit 6 naming the hole, resume from a snapshot reaching the segment after it", async () => {
    await writeLog();
    const { base, last } = await removeSegments([3]);
    expect(base.size).toBeGreaterThan(4);
    const run = await followAll(last);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain("segment 3 is missing between 0000000002.wal and 0000000004.wal");
    const after = (base.get(4) as number) - 1;
    expect(run.stderr).toContain(`--after <LSN of a snapshot taken at LSN ${after} or later>`);
    expect(run.stderr).not.toContain("starts at lsn 1 ");
    // What segments 1 and 2 hold is printed first: every transaction, up to the last commit before the hole.
    expect(printedCommits(run.stdout)).toEqual(commitsBelow(base.get(3) as number));
  });

  it("a hole below a checkpoint marker (a truncation a crash interrupted): the same, for the segment after it", async () => {
    await writeLog(40);
    const { base, last } = await removeSegments([2, 3]);
    const verify = await runCli(["verify", dir, "--codec", "json", "--json"]);
    expect(JSON.parse(verify.stdout).replay.truncationGap).toMatchObject({ missing: "segments 2..3" });
    const run = await followAll(last);
    expect(run.code).toBe(6);
    expect(run.stderr).toContain("segments 2..3 are missing between 0000000001.wal and 0000000004.wal");
    const after = (base.get(4) as number) - 1;
    expect(run.stderr).toContain(`--after <LSN of a snapshot taken at LSN ${after} or later>`);
    expect(printedCommits(run.stdout)).toEqual(commitsBelow(base.get(2) as number));
  });
});

/** The commit LSNs `follow --json` printed, before the failure it ends with (its last line: exit 6's error). */
function printedCommits(stdout: string): number[] {
  const lines = stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as { commitLsn: number } | { error: { code: string; exitCode: number } });
  expect(lines.at(-1)).toMatchObject({ error: { code: "WAL_TRUNCATED", exitCode: 6 } });
  return lines.slice(0, -1).map((line) => (line as { commitLsn: number }).commitLsn);
}

/** The commit LSNs below `lsn` of the log `writeLog` writes without a marker in them: one per 3 LSNs, from 3. */
function commitsBelow(lsn: number): number[] {
  const commits: number[] = [];
  for (let commit = 3; commit < lsn; commit += 3) commits.push(commit);
  return commits;
}
