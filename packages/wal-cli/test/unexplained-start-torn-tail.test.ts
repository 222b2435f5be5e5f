/**
 * A log that lost its first segment (no checkpoint marker explains it) and also has a torn tail: opening it fails
 * (`WAL_FENCE_TOO_LOW`), so the verdict is malformed, exit 2, not the torn tail's exit 1 that promises an open which
 * repairs the only damage.
 */

import { appendFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyDir } from "../src/commands/verify.js";
import { fingerprint, runCli, segmentFiles, writeJsonWal } from "./helpers.js";

describe("an unexplained start with a torn tail", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-start-torn");
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("is malformed (WAL_FENCE_TOO_LOW, exit 2) for verify and inspect, as Wal.open refuses it", async () => {
    const dir = join(tmp.path, "wal");
    await writeJsonWal(dir, 30, 1024);
    const segments = await segmentFiles(dir);
    expect(segments.length).toBeGreaterThan(2);
    await rm(join(dir, segments[0] as string));
    await appendFile(join(dir, segments.at(-1) as string), Buffer.from([80, 0, 0, 0, 6, 16, 0]));
    const before = await fingerprint(dir);

    const report = await verifyDir(dir, { codec: "json" });
    expect(report.verdict).toMatchObject({ status: "malformed", exitCode: 2, code: "WAL_FENCE_TOO_LOW" });
    expect((await runCli(["verify", dir, "--codec", "json"])).code).toBe(2);
    expect((await runCli(["inspect", dir, "--codec", "json"])).code).toBe(2);
    expect(await fingerprint(dir)).toBe(before);

    // What the verdict stands for: the open fails, it does not just cut the tail.
    const refused = await Wal.open(dir, { codec: jsonCodec }).then(
      async ({ wal }) => {
        await wal.close();
        return null;
      },
      (error: { code: string }) => error,
    );
    expect(refused?.code).toBe("WAL_FENCE_TOO_LOW");
  });
});
