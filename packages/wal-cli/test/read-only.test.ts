import { appendFile, truncate } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fingerprint, runCli, segmentFiles, writeJsonWal } from "./helpers.js";

const COMMANDS = [
  ["inspect"],
  ["verify"],
  ["dump"],
  ["dump", "--json"],
  ["stat"],
  ["inspect", "--json"],
  ["stat", "--json"],
  ["verify", "--json"],
];

describe("read-only guarantee", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-cli");
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  async function expectUnchanged(dir: string, codec: string, expectedCode: number): Promise<void> {
    const before = await fingerprint(tmp.path);
    for (const command of COMMANDS) {
      const result = await runCli([...command, dir, "--codec", codec]);
      expect(result.code, `${command.join(" ")}: ${result.stderr}`).toBe(expectedCode);
      expect(await fingerprint(tmp.path), command.join(" ")).toBe(before);
    }
  }

  it("no command changes a byte, a name or an mtime of a clean multi-segment log", async () => {
    const dir = join(tmp.path, "wal");
    await writeJsonWal(dir, 60, 1024);
    expect((await segmentFiles(dir)).length).toBeGreaterThan(2);
    await expectUnchanged(dir, "json", 0);
  });

  it("nor of a log with a torn tail (no tail is cut, no .broken copy is made)", async () => {
    const dir = join(tmp.path, "wal");
    await writeJsonWal(dir, 10, 1024);
    const last = (await segmentFiles(dir)).at(-1) as string;
    await appendFile(join(dir, last), Buffer.from([60, 0, 0, 0, 2, 9, 9]));
    await expectUnchanged(dir, "json", 1);
  });

  it("nor of a directory without a lock file (no lock file is created)", async () => {
    const dir = join(tmp.path, "wal");
    await writeJsonWal(dir, 3);
    const { unlink } = await import("node:fs/promises");
    await unlink(join(dir, ".lora-wal.lock"));
    await expectUnchanged(dir, "json", 0);
    const result = await runCli(["inspect", dir, "--codec", "json"]);
    expect(result.stdout).toContain("no lock file");
  });

  it("nor of a headerless newest segment", async () => {
    const dir = join(tmp.path, "wal");
    await writeJsonWal(dir, 3);
    const last = (await segmentFiles(dir)).at(-1) as string;
    await truncate(join(dir, last), 10);
    await expectUnchanged(dir, "json", 1);
  });
});
