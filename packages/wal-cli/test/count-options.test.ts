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
    // Digits only: what Number() would also take (an exponent, hex, spaces around) is refused as well (dump only: a
    // follow that took one of them would wait for transactions that never come instead of failing).
    const digitsOnly = command === "dump" ? ["1e3", "0x10", "2 ", " 2"] : [];
    for (const value of ["0", "-1", "1.5", "x", ...digitsOnly]) {
      it(`${command} --${option}=${value} exits 3 asking for an integer of at least 1`, async () => {
        const result = await runCli([command, dir, "--codec", "json", `--${option}=${value}`]);
        expect(result.code).toBe(3);
        expect(result.stdout).toBe("");
        expect(result.stderr).toContain(`--${option} must be an integer of at least 1, got ${JSON.stringify(value)}`);
      });
    }
  }
});

describe("an LSN option takes digits only", () => {
  let dir: string;
  useJsonWal("lora-wal-cli-lsn-digits", { transactions: 2, once: true }, (wal) => {
    dir = wal.dir;
  });

  // Number() reads each of these as an integer; the option must not: a script's typo never becomes an LSN.
  for (const value of ["1e3", "0x10", "2 ", "9007199254740992"]) {
    it(`dump --from-lsn=${JSON.stringify(value)} exits 3 asking for a non-negative integer`, async () => {
      const result = await runCli(["dump", dir, "--codec", "json", `--from-lsn=${value}`]);
      expect(result.code).toBe(3);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(`--from-lsn must be a non-negative integer, got ${JSON.stringify(value)}`);
    });
  }
});
