/**
 * `verify --checkpoint-lsn <lsn>` (`verifyDir`'s `checkpointLsn`) judges a log as `Wal.open(dir, { checkpointLsn })`
 * would: a log that starts late with no checkpoint marker (what `restore --from-lsn` gives) is clean with a fence
 * that reaches it, and a fence that open refuses is the verdict, with open's own code.
 */

import { cp, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyDir } from "../src/commands/verify.js";
import { fingerprint, runCli, segmentFiles } from "./helpers.js";

describe("verify with the fence the log is opened with", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  let dir: string;
  let oldestFence: number;
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-verify-fence");
    dir = join(tmp.path, "wal");
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 4096 });
    // Two events per transaction: begin, batch, commit, so most LSNs lie inside a transaction.
    for (let i = 0; i < 150; i++) await wal.commitTx([{ i }, { pad: "x".repeat(20) }]);
    await wal.close();
    // The first two segments gone and no checkpoint marker: a log that starts late, as a restore from a fence.
    const [first, second] = await segmentFiles(dir);
    await rm(join(dir, first as string));
    await rm(join(dir, second as string));
    const refused = await verifyDir(dir, { codec: "json" });
    expect(refused.verdict).toMatchObject({ status: "malformed", code: "WAL_FENCE_TOO_LOW" });
    oldestFence = refused.replay?.oldestFence ?? -1;
    expect(oldestFence).toBeGreaterThan(0);
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  /** What `Wal.open` does with `fence`, on a copy (open writes). */
  async function openWith(fence: number): Promise<string> {
    const copy = join(tmp.path, `copy-${fence}`);
    await cp(dir, copy, { recursive: true });
    try {
      const { wal } = await Wal.open(copy, { codec: jsonCodec, checkpointLsn: fence });
      await wal.close();
      return "clean";
    } catch (error) {
      return String((error as { code?: string }).code);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }

  it("agrees with Wal.open on every fence around the log's start, and changes nothing", async () => {
    const before = await fingerprint(dir);
    const seen = new Set<string>();
    for (let fence = oldestFence - 3; fence <= oldestFence + 6; fence++) {
      const report = await verifyDir(dir, { codec: "json", checkpointLsn: fence });
      const verdict = report.verdict.status === "clean" ? "clean" : String(report.verdict.code);
      expect(verdict, `fence ${fence}`).toBe(await openWith(fence));
      seen.add(verdict);
    }
    // The range holds each outcome: too low, inside a transaction, and a boundary that opens.
    expect([...seen].sort()).toEqual(["WAL_FENCE_IN_TRANSACTION", "WAL_FENCE_TOO_LOW", "clean"]);
    expect(await fingerprint(dir)).toBe(before);
  });

  it("lora-wal verify --checkpoint-lsn: exit 0 at a fence that opens, 2 below it, 3 for a bad value", async () => {
    const report = await verifyDir(dir, { codec: "json" });
    const lowest = report.replay?.lowestFence ?? -1;
    const ok = await runCli(["verify", dir, "--codec", "json", "--checkpoint-lsn", String(lowest)]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const low = await runCli(["verify", dir, "--codec", "json", "--checkpoint-lsn", String(oldestFence - 1)]);
    expect(low.code).toBe(2);
    expect(low.stdout).toContain(`Wal.open refuses checkpointLsn ${oldestFence - 1}`);
    const bad = await runCli(["verify", dir, "--checkpoint-lsn", "-1"]);
    expect(bad.code).toBe(3);
    await expect(verifyDir(dir, { checkpointLsn: 1.5 })).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
  });
});
