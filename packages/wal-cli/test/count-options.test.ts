/**
 * `dump --limit` and `follow --count` take a count of at least 1, and every value refused says so: `--limit=-1`
 * used to be refused as "must be a non-negative integer", so the 0 a reader tried next was refused again with
 * another rule.
 */

import { describe, expect, it } from "vitest";
import { runCli, useJsonWal } from "./helpers.js";

describe("a count option names the one rule it applies", () => {
  let dir: string;
  useJsonWal("lora-wal-cli-counts", { transactions: 2, once: true }, (wal) => {
    dir = wal.dir;
  });

  for (const [command, option] of [
    ["dump", "limit"],
    ["follow", "count"],
  ] as const) {
    for (const value of ["0", "-1", "1.5", "x"]) {
      it(`${command} --${option}=${value} exits 3 asking for an integer of at least 1`, async () => {
        const result = await runCli([command, dir, "--codec", "json", `--${option}=${value}`]);
        expect(result.code).toBe(3);
        expect(result.stdout).toBe("");
        expect(result.stderr).toContain(`--${option} must be an integer of at least 1, got ${JSON.stringify(value)}`);
      });
    }
  }
});
