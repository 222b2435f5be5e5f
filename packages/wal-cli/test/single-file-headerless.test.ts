/**
 * A single file given on its own is never taken for a directory's headerless newest segment: a file of zeros, or
 * one shorter than a header, is "not a segment" (bad header, exit 2) for every command, not a repairable exit 1.
 */

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fingerprint, runCli } from "./helpers.js";

describe("a single file without a header", () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    tmp = await makeTempDir("lora-wal-single-headerless");
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  it("is a bad header, exit 2, for inspect, verify, dump and stat, and stays as it was", async () => {
    const zeros = join(tmp.path, "0000000001.wal");
    await writeFile(zeros, Buffer.alloc(4096));
    const short = join(tmp.path, "0000000002.wal");
    await writeFile(short, "x");
    const before = await fingerprint(tmp.path);
    for (const file of [zeros, short]) {
      for (const command of ["inspect", "verify", "dump", "stat"]) {
        const result = await runCli([command, file, "--codec", "json"]);
        expect(result.code, `${command} ${file}`).toBe(2);
        expect(result.stdout + result.stderr, `${command} ${file}`).toMatch(
          /WAL_BAD_HEADER|BAD HEADER|not a WAL segment/,
        );
      }
    }
    expect(await fingerprint(tmp.path)).toBe(before);
  });
});
