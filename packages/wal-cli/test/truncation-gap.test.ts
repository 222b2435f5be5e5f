/**
 * A hole in a directory's segment ids below its newest checkpoint marker is what a crash in the middle of a
 * checkpoint's truncation leaves when the deletions are not made durable one by one (LoraDB fsyncs the directory
 * once, at the end): `verify` and `inspect` read it with that checkpoint as the fence and call it clean, naming the
 * hole and the fence a reader needs, where they used to call it corruption (exit 2); `Wal.open` with a fence below
 * the hole refuses it with `WAL_FENCE_TOO_LOW` naming the same fence. A hole no marker covers is still corruption.
 */

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inspectDir } from "../src/commands/inspect.js";
import { verifyDir } from "../src/commands/verify.js";
import { fingerprint, runCli, segmentFiles } from "./helpers.js";

describe("verify and inspect of a log with segments missing in the middle", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let dir: string;
  /** The snapshot LSN of the log's checkpoint marker, written after 80 of its 120 transactions. */
  let snapshot: number;
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-gap");
    dir = join(tmp.path, "wal");
    const { wal } = await Wal.open(dir, { codec: jsonCodec, segmentTargetBytes: 1024 });
    for (let i = 0; i < 80; i++) await wal.commitTx([{ i }]);
    snapshot = wal.safeCheckpointLsn();
    // The marker alone: the truncation that follows it in a checkpoint is what the tests take apart by hand.
    await wal.checkpointMarker(snapshot);
    for (let i = 80; i < 120; i++) await wal.commitTx([{ i }]);
    await wal.close();
    expect((await segmentFiles(dir)).length).toBeGreaterThan(8);
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  /** Remove segments 2 and 3: segment 1 stays, as if its deletion had not reached the disk when the others did. */
  async function removeSecondAndThird(): Promise<void> {
    const names = await segmentFiles(dir);
    for (const name of names.slice(1, 3)) await rm(join(dir, name));
  }

  it("a hole below the checkpoint: clean, the hole and the lowest fence reported, and Wal.open with it agrees", async () => {
    await removeSecondAndThird();
    const refused = await Wal.open(dir, { codec: jsonCodec }).then(
      () => null,
      (error: { code: string; details: { usableFence?: number } }) => error,
    );
    // Opened without a fence, the log is refused as one truncated up to the hole (it was WAL_CORRUPT, whose remedy
    // moved the log after the hole aside), and the fence the refusal names is the lowest verify names.
    expect(refused?.code).toBe("WAL_FENCE_TOO_LOW");
    const report = await verifyDir(dir, { codec: "json" });
    expect(refused?.details.usableFence).toBe(report.replay?.lowestFence);
    expect(report.verdict.status).toBe("clean");
    const gap = report.replay?.truncationGap;
    expect(gap).toMatchObject({ missing: "segments 2..3", checkpointLsn: snapshot });
    const lowest = report.replay?.lowestFence as number;
    expect(lowest).toBeGreaterThanOrEqual((gap?.baseLsn as number) - 1);
    expect(lowest).toBeLessThanOrEqual(snapshot);
    // The application that checkpointed opens it with its fence; so does one with the lowest fence reported.
    for (const checkpointLsn of [snapshot, lowest]) {
      const { wal, replay } = await Wal.open(dir, { codec: jsonCodec, checkpointLsn });
      await wal.close();
      expect(replay?.maxLsn).toBe(report.replay?.maxLsn);
    }
    const inspected = await inspectDir(dir, { codec: "json" });
    expect(inspected.verdict.status).toBe("clean");
    expect(inspected.replay?.truncationGap).toEqual(gap);
  });

  it("several holes below the checkpoint: each is named, and the fence clears the last", async () => {
    const names = await segmentFiles(dir);
    for (const name of [names[1], names[3], names[4]]) await rm(join(dir, name as string));
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict.status).toBe("clean");
    expect(report.replay?.truncationGap).toMatchObject({ missing: "segments 2, 4..5", checkpointLsn: snapshot });
    const { wal } = await Wal.open(dir, { codec: jsonCodec, checkpointLsn: report.replay?.lowestFence as number });
    await wal.close();
  });

  it("the commands exit 0, print the history line, and change nothing", async () => {
    await removeSecondAndThird();
    const before = await fingerprint(dir);
    const report = await verifyDir(dir, { codec: "json" });
    for (const command of ["verify", "inspect"]) {
      const run = await runCli([command, dir]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        `segments 2..3 missing below the checkpoint at LSN ${snapshot} (a truncation a crash interrupted; the next truncation removes the rest): open it with a checkpointLsn of at least ${report.replay?.lowestFence}`,
      );
    }
    expect(await fingerprint(dir)).toBe(before);
  });

  it("a hole above the checkpoint is still corruption (exit 2)", async () => {
    const names = await segmentFiles(dir);
    // The second newest segment holds records above the snapshot (40 transactions were committed after it).
    await rm(join(dir, names.at(-2) as string));
    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "corruption", code: "WAL_CORRUPT" });
    expect(report.verdict.message).toMatch(/is missing between/);
    expect(report.replay?.truncationGap ?? null).toBeNull();
    expect((await runCli(["verify", dir])).code).toBe(2);
  });

  it("a hole above the snapshot of a marker written after it is still corruption", async () => {
    const late = join(tmp.path, "late");
    const { wal } = await Wal.open(late, { codec: jsonCodec, segmentTargetBytes: 1024 });
    for (let i = 0; i < 10; i++) await wal.commitTx([{ i }]);
    const early = wal.safeCheckpointLsn();
    for (let i = 10; i < 80; i++) await wal.commitTx([{ i }]);
    // A snapshot taken early, marked late: the marker sits after the hole but covers only what precedes segment 2.
    await wal.checkpointMarker(early);
    await wal.close();
    const names = await segmentFiles(late);
    expect(names.length).toBeGreaterThan(6);
    for (const name of names.slice(3, 5)) await rm(join(late, name));
    const report = await verifyDir(late, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "corruption", code: "WAL_CORRUPT" });
    expect(report.replay?.truncationGap ?? null).toBeNull();
  });

  it("a hole in a log with no checkpoint marker is still corruption", async () => {
    const plain = join(tmp.path, "plain");
    const { wal } = await Wal.open(plain, { codec: jsonCodec, segmentTargetBytes: 1024 });
    for (let i = 0; i < 60; i++) await wal.commitTx([{ i }]);
    await wal.close();
    const names = await segmentFiles(plain);
    await rm(join(plain, names[1] as string));
    const report = await verifyDir(plain, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "corruption", code: "WAL_CORRUPT" });
    expect(report.replay?.truncationGap ?? null).toBeNull();
  });
});
