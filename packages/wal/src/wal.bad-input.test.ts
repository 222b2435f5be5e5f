/** Bad input to `Wal.open`: a coded error, nothing modified, and the lock released. */

import { createHash } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { segmentPath } from "@lora/wal-segment";
import { SimFS } from "@lora/wal-segment/testing";
import { describe, expect, it } from "vitest";
import { ev, useTempDirs } from "../test/support.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();

/**
 * Every file of `dir` and its hash. With `spareAside`, the handle's spare segment is left out: a running handle
 * makes it in the background after a sync round (not a write of the call under test), so whether it exists yet
 * depends on timing. A refused open is checked with it included: it must make no spare either.
 */
async function fingerprint(dir: string, { spareAside = false } = {}): Promise<string> {
  const names = (await readdir(dir)).filter((name) => !(spareAside && name.startsWith(".lora-wal.next-segment.")));
  names.sort();
  const parts = [];
  for (const name of names) {
    const bytes = await readFile(join(dir, name));
    parts.push(`${name}:${createHash("sha256").update(bytes).digest("hex")}`);
  }
  return parts.join("\n");
}

async function withLog(): Promise<string> {
  const dir = await tempDir();
  const { wal } = await Wal.open(dir, { segmentTargetBytes: 64 });
  for (let i = 0; i < 3; i++) await wal.commitTx([ev(i)]);
  await wal.close();
  return dir;
}

/** The open fails with `code`, changes no byte, and leaves the directory unlocked. */
async function expectRefused(dir: string, code: string, options: Parameters<typeof Wal.open>[1] = {}) {
  const before = await fingerprint(dir);
  await expect(Wal.open(dir, options)).rejects.toMatchObject({ code });
  expect(await fingerprint(dir)).toBe(before);
  // The lock was released: a second failing open fails the same way rather than with WAL_LOCKED.
  await expect(Wal.open(dir, options)).rejects.toMatchObject({ code });
}

describe("bad input", () => {
  it("a dir that is not a path is WAL_INVALID_ARGUMENT, and nothing is created (the empty path and NUL included)", async () => {
    const fs = new SimFS();
    for (const dir of [42, null, undefined, "", "wal\0dir", new URL("file:///tmp/wal")]) {
      await expect(Wal.open(dir as string, { fs })).rejects.toMatchObject({
        code: "WAL_INVALID_ARGUMENT",
        message: expect.stringMatching(/^the log directory must be a non-empty string without NUL bytes/),
      });
    }
    expect(await fs.readdir("/")).toEqual([]);
  });

  it("a path that is a file", async () => {
    const dir = await tempDir();
    const file = join(dir, "file");
    await writeFile(file, "not a directory");
    await expect(Wal.open(file)).rejects.toMatchObject({ code: "WAL_IO" });
    expect(await readFile(file, "utf8")).toBe("not a directory");
  });

  it("an unreadable directory (simulated: readdir fails with EACCES)", async () => {
    const fs = new SimFS();
    fs.mkdirpSync("/w");
    fs.injectFault({ op: "readdir", errno: "EACCES" });
    await expect(Wal.open("/w", { fs })).rejects.toMatchObject({ code: "WAL_IO", details: { errno: "EACCES" } });
    const { wal } = await Wal.open("/w", { fs }); // lock released
    await wal.close();
  });

  it("a malformed segment (a record below its segment's base)", async () => {
    const dir = await withLog();
    const path = segmentPath(dir, 2);
    const bytes = await readFile(path);
    // Raise segment 2's base LSN above its records (and fix the header CRC) so the structure is wrong.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    view.setUint32(12, 1000, true);
    const { crc32 } = await import("@lora/wal-codec");
    view.setUint32(28, crc32(bytes.subarray(0, 28)), true);
    await writeFile(path, bytes);
    await expectRefused(dir, "WAL_MALFORMED");
  });

  it("a foreign file named like a segment", async () => {
    const dir = await withLog();
    const segments = (await readdir(dir)).filter((n) => n.endsWith(".wal")).sort();
    const foreign = join(dir, `${String(segments.length + 1).padStart(10, "0")}.wal`);
    await writeFile(foreign, "# notes, not a WAL segment\n".repeat(4));
    await expectRefused(dir, "WAL_BAD_HEADER");
  });

  it("an option out of range", async () => {
    const dir = await withLog();
    await expectRefused(dir, "WAL_INVALID_OPTION", { segmentTargetBytes: -5 });
    // A fill no write can make (2 GiB and more), even under a segment target that large: refused at open, not by
    // every commit after it.
    for (const preallocateBytes of [2 ** 31, 2 ** 32]) {
      await expectRefused(dir, "WAL_INVALID_OPTION", { preallocateBytes, segmentTargetBytes: 2 ** 40 });
    }
    await expectRefused(dir, "WAL_INVALID_OPTION", { checkpointLsn: Number.MAX_SAFE_INTEGER + 2 });
    await expectRefused(dir, "WAL_INVALID_OPTION", { syncMode: { mode: "group", intervalMs: 2 ** 40 } });
    for (const maxSlotRetainedBytes of [Number.NaN, -1, "100" as never]) {
      await expectRefused(dir, "WAL_INVALID_OPTION", { maxSlotRetainedBytes });
    }
    for (const lockRetryMs of [Number.NaN, -1, Number.POSITIVE_INFINITY, 2 ** 31, Number.MAX_VALUE, "100" as never]) {
      await expectRefused(dir, "WAL_INVALID_OPTION", { lockRetryMs });
    }
    await expectRefused(dir, "WAL_INVALID_OPTION", { codec: { name: "half" } as never });
    await expectRefused(dir, "WAL_INVALID_OPTION", null as never);
  });

  it("a bad lockRetryMs creates no directory (it is checked before the open creates one)", async () => {
    const dir = join(await tempDir(), "not-yet");
    await expect(Wal.open(dir, { lockRetryMs: Number.NaN })).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    await expect(readdir(dir)).rejects.toMatchObject({ code: "ENOENT" });
    // With a file system of one's own too (its lock never saw the option).
    const fs = SimFS.withDir("/");
    await expect(Wal.open("/w", { fs, lockRetryMs: -1 })).rejects.toMatchObject({ code: "WAL_INVALID_OPTION" });
    expect(fs.listSync("/")).toEqual([]);
  });

  it("a follower's signal that is not an AbortSignal is refused at once", async () => {
    const dir = await withLog();
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 64 });
    for (const signal of [{}, "x", 5]) {
      expect(() => wal.follow({ signal: signal as never })).toThrow(
        expect.objectContaining({ code: "WAL_INVALID_OPTION", message: expect.stringContaining("signal") }),
      );
    }
    expect(() => wal.follow(null as never)).toThrow(expect.objectContaining({ code: "WAL_INVALID_OPTION" }));
    await wal.close();
  });

  it("events that throw when read (a revoked proxy, an array proxy whose traps throw) are WAL_INVALID_ARGUMENT, nothing written", async () => {
    const dir = await withLog();
    const { wal } = await Wal.open(dir, { segmentTargetBytes: 64 });
    const { proxy: revoked, revoke } = Proxy.revocable([ev(9)], {});
    revoke();
    const trapped = new Proxy([ev(9)], {
      get: () => {
        throw new Error("trap");
      },
    });
    const tx = await wal.begin();
    await wal.sync();
    const before = await fingerprint(dir, { spareAside: true });
    const next = wal.nextLsn();
    for (const events of [revoked, trapped]) {
      await expect(wal.commitTx(events)).rejects.toMatchObject({ name: "WalError", code: "WAL_INVALID_ARGUMENT" });
      await expect(wal.appendBatch(tx, events)).rejects.toMatchObject({
        name: "WalError",
        code: "WAL_INVALID_ARGUMENT",
      });
    }
    expect(wal.nextLsn()).toBe(next);
    await wal.sync();
    expect(await fingerprint(dir, { spareAside: true })).toBe(before);
    await wal.abort(tx);
    await wal.commitTx([ev(10)]);
    await wal.close();
    const reopened = await Wal.open(dir, { segmentTargetBytes: 64 });
    expect(reopened.events).toEqual([ev(0), ev(1), ev(2), ev(10)]);
    await reopened.wal.close();
  });
});
