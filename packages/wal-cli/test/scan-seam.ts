/**
 * The scan tests' seam: the CLI's read-only file system over a Node seam whose `readdir`, `stat` and `open` first
 * run a test's hook, so a test makes a writer's step (a truncation, a rotation) land at the exact moment between
 * two of the CLI's calls. A test file installs it with
 *
 * ```ts
 * vi.mock("./read-only-fs.js", async (importOriginal) =>
 *   (await import("../../test/scan-seam.js")).withHookedBase(await importOriginal()),
 * );
 * ```
 *
 * and sets {@link scanHooks} (cleared by {@link resetScanHooks}). A `vi.mock` call stays in each test file: vitest
 * hoists it within the file that makes it.
 */

import { Wal } from "@lora/wal";
import { type JsonValue, jsonCodec } from "@lora/wal-codec";
import { createNodeFileSystem, type WalFileSystem } from "@lora/wal-segment";
import { interceptOpen, wrapFileSystem } from "@lora/wal-segment/testing";
import type * as ReadOnlyFs from "../src/scan/read-only-fs.js";

/** What runs before (or, for a listing, after) each call of the hooked seam; each is given every path. */
export interface ScanHooks {
  /** After a directory listing, before its names are returned. */
  afterReaddir?: (path: string) => void;
  /** Before each `stat`. */
  beforeStat?: (path: string) => Promise<void>;
  /** Before each `open`. */
  beforeOpen?: (path: string) => Promise<void>;
}

/** The hooks the seam runs now; a test sets them. */
export const scanHooks: ScanHooks = {};

/** No hooks: the seam is the Node one. */
export function resetScanHooks(): void {
  delete scanHooks.afterReaddir;
  delete scanHooks.beforeStat;
  delete scanHooks.beforeOpen;
}

/** A Node seam that runs {@link scanHooks}. */
export function hookedFileSystem(): WalFileSystem {
  const node = createNodeFileSystem();
  const opening = interceptOpen(node, async (path, mode, next) => {
    await scanHooks.beforeOpen?.(path);
    return next(path, mode);
  });
  return wrapFileSystem(opening, (file) => file, {
    async readdir(path) {
      const names = await node.readdir(path);
      scanHooks.afterReaddir?.(path);
      return names;
    },
    async stat(path) {
      await scanHooks.beforeStat?.(path);
      return await node.stat(path);
    },
  });
}

/** The read-only seam module, its file system built over {@link hookedFileSystem} unless a caller passes one. */
export function withHookedBase(original: typeof ReadOnlyFs): typeof ReadOnlyFs {
  return {
    ...original,
    createReadOnlyFileSystem: (...[onRead, fs, grants]: Parameters<typeof original.createReadOnlyFileSystem>) =>
      original.createReadOnlyFileSystem(onRead, fs ?? hookedFileSystem(), grants),
  };
}

/**
 * A closed log in `dir` of `transactions` one-event transactions in small segments (512 bytes), then a checkpoint
 * marker at the last commit (LSN `3 * transactions`): truncating any of the oldest segments is what a checkpoint
 * does, so the log is clean with or without them.
 */
export async function checkpointedLog(dir: string, transactions: number): Promise<void> {
  const { wal } = await Wal.open<JsonValue>(dir, { codec: jsonCodec, segmentTargetBytes: 512 });
  try {
    // Transaction k is begin 3k+1, batch 3k+2, commit 3k+3.
    for (let k = 0; k < transactions; k++) await wal.commitTx([{ k, pad: "x".repeat(40) }, k]);
    await wal.checkpointMarker(3 * transactions);
  } finally {
    await wal.close();
  }
}
