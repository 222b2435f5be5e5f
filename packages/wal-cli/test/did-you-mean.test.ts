/**
 * A misspelt long option or command gets the same "did you mean" as a misspelt option name in the library
 * (`closestName` of `@lora/wal-codec`): `lora-wal inspect <dir> --codecc json` used to say only that the option is
 * unknown.
 */

import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

/** stderr's first line for `argv`, which must be a usage error. */
async function usageLine(argv: string[]): Promise<string> {
  const result = await runCli(argv);
  expect(result.code, argv.join(" ")).toBe(3);
  expect(result.stdout).toBe("");
  return result.stderr.split("\n")[0] as string;
}

describe("lora-wal suggests what a misspelling meant", () => {
  it("for an unknown long option of a command, given alone or with =value", async () => {
    expect(await usageLine(["inspect", "x", "--codecc", "json"])).toBe(
      "lora-wal: Unknown option '--codecc' (did you mean --codec?)",
    );
    expect(await usageLine(["inspect", "x", "--codecc=json"])).toBe(
      "lora-wal: Unknown option '--codecc' (did you mean --codec?)",
    );
    expect(await usageLine(["dump", "x", "--from-lns", "3"])).toBe(
      "lora-wal: Unknown option '--from-lns' (did you mean --from-lsn?)",
    );
    expect(await usageLine(["slots", "x", "--JSON"])).toBe("lora-wal: Unknown option '--JSON' (did you mean --json?)");
  });

  it("for an unknown command, and for an unknown option before any command", async () => {
    expect(await usageLine(["inspct", "x"])).toBe('lora-wal: unknown command "inspct" (did you mean "inspect"?)');
    expect(await usageLine(["verfy", "x"])).toBe('lora-wal: unknown command "verfy" (did you mean "verify"?)');
    expect(await usageLine(["--verison"])).toBe("lora-wal: unknown option --verison (did you mean --version?)");
  });

  it("for a command cut short that starts one known command", async () => {
    expect(await usageLine(["ver", "x"])).toBe('lora-wal: unknown command "ver" (did you mean "verify"?)');
  });

  it("nothing for a name far from every known one, nor for a short option", async () => {
    expect(await usageLine(["dump", "x", "--bogus"])).toBe("lora-wal: Unknown option '--bogus'");
    expect(await usageLine(["inspect", "x", "-x"])).toBe("lora-wal: Unknown option '-x'");
    expect(await usageLine(["frobnicate", "x"])).toBe('lora-wal: unknown command "frobnicate"');
    expect(await usageLine(["--colour"])).toBe("lora-wal: unknown option --colour");
  });
});
