import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { expect, it, vi } from "vitest";
import { inspectDir } from "../src/index.js";
import { runCli } from "./helpers.js";

it("runs beside a live writer: never fails, never blocks it, sees the lock held", async () => {
  const tmp = await makeTempDir("lora-wal-cli");
  try {
    const dir = join(tmp.path, "wal");
    const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 4096 });
    let stop = false;
    let commits = 0;
    const writer = (async () => {
      while (!stop) {
        await wal.commitTx([{ n: commits, pad: "y".repeat(100) }]);
        commits++;
      }
    })();
    try {
      // The commands start once the writer has rotated (40 commits of ~150 bytes fill more than one 4 KiB segment),
      // by count: asserting a number of commits made *during* the rounds would depend on the machine's speed.
      await vi.waitFor(() => expect(commits).toBeGreaterThanOrEqual(40), { timeout: 600_000, interval: 5 });
      expect((await wal.segments()).length).toBeGreaterThan(1);
      // A fixed number of rounds while the writer commits (a deadline would make the work depend on the machine).
      let rounds = 0;
      while (rounds < 6) {
        for (const command of ["inspect", "verify", "dump", "stat"]) {
          const result = await runCli([command, dir, "--codec", "json", "--json"]);
          // A record being written may show as a torn tail (1); nothing worse.
          expect([0, 1], `${command}: ${result.stdout}${result.stderr}`).toContain(result.code);
        }
        const report = await inspectDir(dir, { codec: "json" });
        expect(report.lock).toBe("held");
        rounds++;
      }
      // The writer still commits after the commands: waited for, not timed (one durable commit can take tens of
      // milliseconds on a busy disk; the bound only turns a writer that stays blocked into a failure).
      const before = commits;
      await vi.waitFor(() => expect(commits).toBeGreaterThan(before), { timeout: 600_000, interval: 5 });
    } finally {
      stop = true;
      await writer;
      await wal.close();
    }
    const after = await runCli(["verify", dir, "--codec", "json"]);
    expect(after.code).toBe(0);
    expect((await inspectDir(dir, { codec: "json" })).lock).toBe("free");
  } finally {
    await tmp.cleanup();
  }
});
