import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeTempDir } from "@lora/test-utils";
import { describe, expect, it } from "vitest";
import { bundleCli } from "../test/cli-process.js";
import { runCli, writeJsonWal } from "../test/helpers.js";

describe("lora-wal main", () => {
  it("--help on the command and on every subcommand, exit 0 on stdout", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("Usage: lora-wal <command>");
    const usage: Record<string, string> = {
      inspect: "inspect <dir>",
      verify: "verify <dir>",
      dump: "dump <dir>",
      stat: "stat <dir>",
      follow: "follow <dir>",
      slots: "slots <dir>",
      archive: "archive ls <target>",
      restore: "restore <target> <dir>",
    };
    for (const [command, line] of Object.entries(usage)) {
      expect(top.stdout).toContain(`\n  ${command} `);
      const result = await runCli([command, "--help"]);
      expect(result.code, command).toBe(0);
      expect(result.stdout).toContain(`Usage: lora-wal ${line}`);
      expect(result.stdout).toContain("Exit status");
      expect((await runCli(["help", command])).stdout).toBe(result.stdout);
    }
  });

  it("usage errors exit 3 with a hint on stderr", async () => {
    const cases = [
      [[], "Usage: lora-wal"],
      [["frobnicate", "x"], 'unknown command "frobnicate"'],
      [["inspect"], "missing <dir>"],
      [["verify", "a", "b"], "unexpected argument: b"],
      [["dump", "x", "--bogus"], "Unknown option '--bogus'"],
      [["dump", "x", "--codec", "xml"], "--codec must be one of lora, json, bytes"],
      [["dump", "x", "--from-lsn", "-3"], ""],
      [["dump", "x", "--to-lsn", "1.5"], "--to-lsn must be a non-negative integer"],
      // All digits, but above 2^53 - 1: Number() would round it to another LSN.
      [["dump", "x", "--from-lsn", "9007199254740993"], "--from-lsn must be a non-negative integer"],
      [["verify", "x", "--checkpoint-lsn", "99999999999999999999"], "--checkpoint-lsn must be a non-negative integer"],
      [["dump", "x", "--from-lsn", "9", "--to-lsn", "3"], "--to-lsn 3 is below --from-lsn 9"],
      [["dump", "x", "--kind", "commit"], 'unknown --kind "commit"'],
    ] as const;
    for (const [argv, message] of cases) {
      const result = await runCli([...argv]);
      expect(result.code, argv.join(" ")).toBe(3);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(message);
    }
  });

  it("--version prints the package version", async () => {
    const result = await runCli(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("colours only on a TTY without NO_COLOR; no ANSI in pipes", async () => {
    const tmp = await makeTempDir("lora-wal-cli");
    try {
      const dir = join(tmp.path, "wal");
      await writeJsonWal(dir, 2);
      const args = ["inspect", dir, "--codec", "json"];
      const ESC = "\u001b[";
      expect((await runCli(args)).stdout).not.toContain(ESC);
      expect((await runCli(args, { tty: true })).stdout).toContain(ESC);
      expect((await runCli(args, { tty: true, env: { NO_COLOR: "1" } })).stdout).not.toContain(ESC);
      const dumped = await runCli(["dump", dir, "--codec", "json"]);
      expect(dumped.stdout).not.toContain(ESC);
      expect(dumped.stderr).toBe("");
    } finally {
      await tmp.cleanup();
    }
  });
});

const root = join(fileURLToPath(import.meta.url), "../..");

it("dump prints its table's header with the first row, never before an error", async () => {
  const tmp = await makeTempDir("cli-dump-header");
  try {
    const missing = await runCli(["dump", join(tmp.path, "no-such-dir")]);
    expect([missing.code, missing.stdout]).toEqual([4, ""]);
    const dir = join(tmp.path, "wal");
    await writeJsonWal(dir, 2);
    const notABegin = await runCli(["dump", dir, "--tx", "2", "--codec", "json"]);
    expect([notABegin.code, notABegin.stdout]).toEqual([3, ""]);
    const listed = await runCli(["dump", dir, "--codec", "json"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split("\n")[0]).toMatch(/^SEGMENT\s+OFFSET\s+LSN/);
    const none = await runCli(["dump", dir, "--codec", "json", "--from-lsn", "999"]);
    expect([none.code, none.stdout.trim()]).toEqual([0, expect.stringMatching(/^SEGMENT\s+OFFSET/)]);
  } finally {
    await tmp.cleanup();
  }
});

it("the bin entry runs as a program: --help, and exit 4 for a missing directory", async () => {
  // src/cli.ts bundled with the workspace sources (no prior build needed), run as `node cli.js` runs it.
  const bin = await bundleCli();
  const tmp = await makeTempDir("lora-wal-bin");
  try {
    const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8", cwd: root });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: lora-wal");
    const missing = spawnSync(process.execPath, [bin, "verify", join(tmp.path, "no-such-dir")], {
      encoding: "utf8",
      cwd: root,
    });
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain("no-such-dir");
  } finally {
    await tmp.cleanup();
  }
});
