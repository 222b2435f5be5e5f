/**
 * Which lock a handle takes: the kernel `flock` on `.lora-wal.lock` for the real file system (LoraDB's lock, so
 * the two exclude each other), the file system's own lock where it offers one (SimFS), and otherwise a registry
 * inside this process.
 */

import { join } from "node:path";
import { WalError } from "@lora/wal-codec";
import type { WalFileSystem } from "@lora/wal-segment";
import { acquireDirLock, LOCK_FILE_NAME } from "./dir-lock.js";

export interface HeldLock {
  release(): Promise<void>;
}

interface SelfLockingFileSystem extends WalFileSystem {
  tryLock(path: string): (() => void) | null;
}

const inProcess = new WeakMap<WalFileSystem, Set<string>>();

function locked(dir: string): WalError {
  return new WalError("WAL_LOCKED", `WAL directory is already open by another live handle: ${dir}`, {
    details: { path: dir },
  });
}

export async function lockDirectory(fs: WalFileSystem, dir: string, retryBudgetMs?: number): Promise<HeldLock> {
  if (fs.name === "node") {
    return acquireDirLock(dir, retryBudgetMs === undefined ? {} : { retryBudgetMs });
  }
  const self = fs as Partial<SelfLockingFileSystem>;
  if (typeof self.tryLock === "function") {
    const release = self.tryLock(join(dir, LOCK_FILE_NAME));
    if (release === null) throw locked(dir);
    let released = false;
    return {
      release: () => {
        if (!released) release();
        released = true;
        return Promise.resolve();
      },
    };
  }
  const set = inProcess.get(fs) ?? new Set<string>();
  inProcess.set(fs, set);
  if (set.has(dir)) throw locked(dir);
  set.add(dir);
  return {
    release: () => {
      set.delete(dir);
      return Promise.resolve();
    },
  };
}
