/**
 * A handle whose lock file's fd other code in the process closed, its number then reused for another file: the kernel
 * lock went with the fd, so the handle must stop writing (WAL_LOCK_LOST from the lock's background check), and its
 * close must not close the other file's fd in the lock's name. Every acknowledged commit still reopens.
 */

import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDescriptorOf } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { LOCK_FILE_NAME } from "@lora/wal-lock";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { ev, rejection } from "../test/support.js";
import { Wal } from "./wal.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lora-wal-lock-fd-closed-"));
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

it.skipIf(process.platform === "win32")(
  "the lock's fd closed behind the handle's back poisons it with WAL_LOCK_LOST; close leaves the reused fd alone",
  async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { wal } = await Wal.open(dir);
    for (let i = 0; i < 3; i++) await wal.commitTx([ev(i)]);
    const fd = openDescriptorOf(join(dir, LOCK_FILE_NAME));
    closeSync(fd);
    const otherPath = join(dir, "someone-else");
    const other = openSync(otherPath, "w+");
    try {
      expect(other).toBe(fd);
      vi.advanceTimersByTime(1000); // one period of the lock's background check
      expect(isWalError(wal.failure(), "WAL_LOCK_LOST")).toBe(true);
      const refused = await rejection(() => wal.commitTx([ev(3)]));
      expect(isWalError(refused, "WAL_POISONED")).toBe(true);
      expect(isWalError((refused as Error).cause, "WAL_LOCK_LOST")).toBe(true);
      await wal.close().catch(() => undefined);
      expect(fstatSync(other, { bigint: true }).ino).toBe(statSync(otherPath, { bigint: true }).ino);
    } finally {
      closeSync(other);
    }
    vi.useRealTimers();
    const again = await Wal.open(dir);
    expect(again.events).toEqual([ev(0), ev(1), ev(2)]);
    await again.wal.close();
  },
);
