/**
 * `lockDirectory`'s `checkIntervalMs` with no printable form is refused `WAL_INVALID_OPTION` like any other bad
 * value, and no lock file is created. The refusal printed it with `String()`, which throws a `TypeError` for a
 * null-prototype object and rethrows a `toString` that throws.
 */

import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UNPRINTABLE_VALUES as UNPRINTABLE } from "@lora/test-utils";
import { createNodeFileSystem } from "@lora/wal-segment";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockDirectory } from "./handle-lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-unprintable-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("lockDirectory on the node file system", () => {
  it("refuses a checkIntervalMs with no printable form WAL_INVALID_OPTION, creating nothing", async () => {
    const fs = createNodeFileSystem();
    for (const [label, value] of UNPRINTABLE) {
      const locking = lockDirectory(fs, dir, 0, { checkIntervalMs: value as number });
      await expect(locking, label).rejects.toMatchObject({ name: "WalError", code: "WAL_INVALID_OPTION" });
    }
    expect(await readdir(dir)).toEqual([]);
  });
});
