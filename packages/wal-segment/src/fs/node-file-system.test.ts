import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { describe, expect, test } from "vitest";
import { runFileSystemConformance } from "../testing/file-system-conformance.js";
import { createNodeFileSystem } from "./node-file-system.js";

runFileSystemConformance({
  describe,
  test,
  expect,
  create: async () => {
    const dir = await makeTempDir("lora-wal-fs");
    return { fs: createNodeFileSystem(), root: dir.path, cleanup: dir.cleanup };
  },
});

describe("createNodeFileSystem", () => {
  test("exposes the file descriptor and names itself", async () => {
    const dir = await makeTempDir("lora-wal-fs");
    try {
      const fs = createNodeFileSystem();
      expect(fs.name).toBe("node");
      const f = await fs.open(join(dir.path, "a"), "createExclusive");
      expect(typeof f.fd).toBe("number");
      await f.close();
    } finally {
      await dir.cleanup();
    }
  });

  test("errors carry errno, syscall, path and the Node error as cause", async () => {
    const fs = createNodeFileSystem();
    const p = join("/nonexistent-lora-wal", "x.wal");
    const err = await fs.open(p, "read").catch((e: unknown) => e);
    expect(isWalError(err, "WAL_IO")).toBe(true);
    const e = err as { details: Record<string, unknown>; cause: { code: string } };
    expect(e.details).toEqual({ errno: "ENOENT", syscall: "open", path: p });
    expect(e.cause.code).toBe("ENOENT");
  });
});
