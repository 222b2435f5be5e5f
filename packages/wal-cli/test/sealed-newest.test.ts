/**
 * A newest segment sealed with no successor (a crash between sealing it and creating the next) is no damage, and
 * the verdict stays clean, but LoraDB refuses such a directory until `Wal.open` creates the successor: `verify` and
 * `inspect` say so, where they used to say nothing.
 */

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Wal } from "@lora/wal";
import { jsonCodec } from "@lora/wal-codec";
import { describe, expect, it } from "vitest";
import { inspectDir } from "../src/commands/inspect.js";
import { verifyDir } from "../src/commands/verify.js";
import { sealHeader } from "./agreement.js";
import { runCli, segmentFiles, useJsonWal } from "./helpers.js";

describe("verify and inspect of a sealed newest segment", () => {
  let dir: string;
  useJsonWal("lora-wal-sealed-newest", { transactions: 20, segmentTargetBytes: 1024 }, (wal) => {
    dir = wal.dir;
  });

  it("name it and say what opening does, with a clean verdict; nothing once Wal.open made the successor", async () => {
    const newest = (await segmentFiles(dir)).at(-1) as string;
    expect((await verifyDir(dir, { codec: "json" })).replay?.sealedNewest).toBeNull(); // a closed log is not sealed
    await sealHeader(join(dir, newest));

    const verify = await verifyDir(dir, { codec: "json" });
    expect(verify.verdict.status).toBe("clean");
    expect(verify.replay?.sealedNewest).toBe(newest);
    expect((await inspectDir(dir, { codec: "json" })).replay?.sealedNewest).toBe(newest);
    for (const command of ["verify", "inspect"]) {
      const run = await runCli([command, dir, "--codec", "json"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${newest} is sealed and has no successor`);
    }

    const { wal, healed } = await Wal.open(dir, { codec: jsonCodec });
    await wal.close();
    expect(healed.map((h) => h.kind)).toEqual(["sealedSegmentSucceeded"]);
    expect((await verifyDir(dir, { codec: "json" })).replay?.sealedNewest).toBeNull();
    expect((await inspectDir(dir, { codec: "json" })).replay?.sealedNewest).toBeNull();
    expect((await runCli(["verify", dir, "--codec", "json"])).stdout).not.toContain("has no successor");
  });

  it("say nothing when the walk stops at damage before the newest segment (Wal.open refuses that log)", async () => {
    const names = await segmentFiles(dir);
    expect(names.length).toBe(3);
    await rm(join(dir, names[1] as string)); // a segment missing in the middle: the walk stops after names[0]
    const verify = await verifyDir(dir, { codec: "json" });
    expect(verify.verdict.exitCode).toBe(2);
    expect(verify.replay?.sealedNewest).toBeNull();
    expect((await inspectDir(dir, { codec: "json" })).replay?.sealedNewest).toBeNull();
    expect((await runCli(["verify", dir, "--codec", "json"])).stdout).not.toContain("has no successor");
  });

  it("say nothing of a single sealed segment file (an archived segment is sealed)", async () => {
    const first = join(dir, (await segmentFiles(dir))[0] as string);
    const report = await verifyDir(first, { codec: "json" });
    expect(report.kind).toBe("file");
    expect(report.replay?.sealedNewest).toBeNull();
  });
});
