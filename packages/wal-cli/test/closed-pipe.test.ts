/**
 * `lora-wal dump … | head` closes the pipe before the command is done: that is the reader's choice, so the command
 * ends quietly with exit 0 (the EPIPE handler of `src/cli.ts`), not with an uncaught error.
 */

import { describe, expect, it } from "vitest";
import { bundleCli, spawnCli } from "./cli-process.js";
import { useJsonWal } from "./helpers.js";

describe("a stdout pipe its reader closed", () => {
  let dir: string;
  useJsonWal("lora-wal-closed-pipe", { transactions: 3 }, (wal) => {
    dir = wal.dir;
  });

  it("ends dump with exit 0 and nothing on stderr", async () => {
    const bin = await bundleCli({ s3Sdk: false });
    const run = spawnCli(bin, ["dump", dir, "--codec", "json"]);
    // Closed before the child can have written a byte: its first write fails with EPIPE.
    run.child.stdout?.destroy();
    const { code, signal } = await run.exited;
    expect({ code, signal, stderr: run.stderr() }).toEqual({ code: 0, signal: null, stderr: "" });
  });
});
