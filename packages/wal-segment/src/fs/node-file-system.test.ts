import { stat } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { describe, expect, test } from "vitest";
import { runFileSystemConformance } from "../testing/file-system-conformance.js";
import { fileSystemOption } from "./file-system-option.js";
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
  test("reports file identities, the device and inode, by path and for an open file", async () => {
    const tmp = await makeTempDir("lora-wal-nodefs-identity");
    try {
      const fs = createNodeFileSystem();
      const p = join(tmp.path, "a");
      const file = await fs.open(p, "createExclusive");
      const { dev, ino } = await stat(p, { bigint: true });
      expect((await fs.stat(p))?.identity).toBe(`${dev}:${ino}`);
      expect(await file.identity?.()).toBe(`${dev}:${ino}`);
      await file.close();
    } finally {
      await tmp.cleanup();
    }
  });

  test("keeps every method when spread into a wrapper (they are own, bound properties)", async () => {
    const tmp = await makeTempDir("lora-wal-nodefs-spread");
    try {
      const node = createNodeFileSystem();
      const opened: string[] = [];
      const wrapper = {
        ...node,
        open: (p: string, m: "read") => {
          opened.push(p);
          return node.open(p, m);
        },
      };
      expect(fileSystemOption(wrapper, "test")).toBe(wrapper);
      await wrapper.mkdirp(join(tmp.path, "a"));
      expect(await wrapper.readdir(tmp.path)).toEqual(["a"]);
      expect((await wrapper.stat(join(tmp.path, "a")))?.isDirectory).toBe(true);
      await wrapper.syncDir(tmp.path);
      expect(wrapper.name).toBe("node");
      await wrapper.open(join(tmp.path, "a", "x.wal"), "read").catch(() => undefined);
      expect(opened).toEqual([join(tmp.path, "a", "x.wal")]);
    } finally {
      await tmp.cleanup();
    }
  });

  test("rmdir removes an empty directory and refuses one with entries (WAL_IO ENOTEMPTY), which stays", async () => {
    const dir = await makeTempDir("lora-wal-fs");
    try {
      const fs = createNodeFileSystem();
      await fs.mkdirp(join(dir.path, "empty"));
      await fs.mkdirp(join(dir.path, "full"));
      const f = await fs.open(join(dir.path, "full", "x"), "createExclusive");
      await f.close();
      await fs.rmdir?.(join(dir.path, "empty"));
      const err = await fs.rmdir?.(join(dir.path, "full")).catch((e: unknown) => e);
      expect(isWalError(err, "WAL_IO") && err.details).toMatchObject({ errno: "ENOTEMPTY", syscall: "rmdir" });
      expect((await fs.readdir(dir.path)).sort()).toEqual(["full"]);
      expect(await fs.readdir(join(dir.path, "full"))).toEqual(["x"]);
    } finally {
      await dir.cleanup();
    }
  });

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

  test("writes every byte of a view wider than bytes, as Node's fs does (plain JavaScript may pass one)", async () => {
    const dir = await makeTempDir("lora-wal-fs");
    try {
      const fs = createNodeFileSystem();
      const f = await fs.open(join(dir.path, "a"), "createExclusive");
      const wide = new Uint16Array([0x0201, 0x0403, 0x0605]);
      await f.write(wide as unknown as Uint8Array, 0);
      f.writeSync?.(new DataView(wide.buffer, 2, 4) as unknown as Uint8Array, 6);
      const back = new Uint8Array(10);
      expect(await f.read(back, 0, 10, 0)).toBe(10);
      expect([...back]).toEqual([1, 2, 3, 4, 5, 6, 3, 4, 5, 6]);
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
