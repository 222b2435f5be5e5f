import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SimFS } from "../testing/sim-fs.js";
import { isMissingFileError } from "./missing-file.js";
import { createNodeFileSystem } from "./node-file-system.js";

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe("isMissingFileError", () => {
  it("is true for opening a missing file through either seam, false for their other failures", async () => {
    const sim = new SimFS();
    sim.mkdirpSync("/w");
    const dir = await mkdtemp(join(tmpdir(), "lora-wal-missing-"));
    try {
      for (const [fs, root] of [
        [sim, "/w"],
        [createNodeFileSystem(), dir],
      ] as const) {
        expect(isMissingFileError(await failure(fs.open(join(root, "none.wal"), "read")))).toBe(true);
        await (await fs.open(join(root, "a.wal"), "createExclusive")).close();
        expect(isMissingFileError(await failure(fs.open(join(root, "a.wal"), "createExclusive")))).toBe(false);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads a plain Node error's code too, and nothing else", () => {
    expect(isMissingFileError(Object.assign(new Error("gone"), { code: "ENOENT" }))).toBe(true);
    expect(isMissingFileError(Object.assign(new Error("io"), { code: "EIO" }))).toBe(false);
    for (const other of [null, undefined, "ENOENT", new Error("ENOENT")]) expect(isMissingFileError(other)).toBe(false);
  });
});
