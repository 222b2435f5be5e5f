/**
 * A handle whose directory lock is lost writes nothing more, also when the loss is found only by `close()`, before
 * the lock's background check saw it: what is still buffered is dropped, never flushed into a directory another
 * writer may own by then, and the handle reports the loss.
 */

import { closeSync } from "node:fs";
import { join } from "node:path";
import { openDescriptorOf } from "@lora/test-utils";
import { isWalError } from "@lora/wal-codec";
import { LOCK_FILE_NAME } from "@lora/wal-lock";
import { afterEach, expect, it, vi } from "vitest";
import { ev, useTempDirs } from "../test/support.js";
import { Wal } from "./wal.js";

const tempDir = useTempDirs();

afterEach(() => {
  vi.useRealTimers();
});

it.skipIf(process.platform === "win32")(
  "close() that finds the lock lost flushes nothing of what was buffered, and the handle reports the loss",
  async () => {
    // The lock's background check never runs: only close() can find the loss.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    await wal.commitTx([ev(1)]); // acknowledged: fsynced before it resolved
    const tx = await wal.begin();
    await wal.append(tx, ev(2));
    await wal.commit(tx); // buffered only, never flushed
    closeSync(openDescriptorOf(join(dir, LOCK_FILE_NAME))); // the kernel lock goes with the fd
    expect(wal.failure()).toBeNull();
    await wal.close().catch(() => undefined);
    expect(isWalError(wal.failure(), "WAL_LOCK_LOST")).toBe(true);
    vi.useRealTimers();

    const again = await Wal.open(dir);
    expect(again.events).toEqual([ev(1)]);
    await again.wal.close();
  },
);
